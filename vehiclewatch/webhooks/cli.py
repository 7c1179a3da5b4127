"""`vehiclewatch webhooks run`: the delivery worker."""

import click
from flask.cli import AppGroup

from . import worker

webhooks_cli = AppGroup("webhooks", help="Signed webhooks for case systems.")


@webhooks_cli.command("run")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit (cron, tests).")
@click.option(
    "--interval",
    default=2.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds to wait when nothing is due.",
)
def run_command(once: bool, interval: float) -> None:
    """Deliver webhook events until SIGTERM (several workers may run at once)."""
    worker.run(once=once, interval=interval)
