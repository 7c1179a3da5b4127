"""Report maintenance commands."""

from datetime import timedelta

import click
from flask.cli import AppGroup

from .. import audit
from .photostore import orphan_photos, remove_orphan_photos

photos_cli = AppGroup("photos", help="Report photo files.")


@photos_cli.command("sweep")
@click.option("--delete", is_flag=True, help="Remove the orphaned files (default: only list).")
@click.option(
    "--older-than",
    "minutes",
    default=10,
    show_default=True,
    type=click.IntRange(min=0),
    help="Leave photos younger than this many minutes (a report may be being filed).",
)
def sweep_command(delete: bool, minutes: int) -> None:
    """Find photos that no report names (left by a failed submission), in the photo
    directory or the S3-compatible store."""
    names = orphan_photos(timedelta(minutes=minutes))
    for name in names:
        click.echo(name)
    if delete and names:
        click.echo(f"removed {remove_orphan_photos(names, actor=audit.SYSTEM)} orphaned files")
    else:
        click.echo(f"{len(names)} orphaned files")
