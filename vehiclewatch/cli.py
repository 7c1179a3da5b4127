"""The `vehiclewatch` command: Flask's CLI with the project's own commands."""

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade

from . import create_app
from .config import InsecureConfiguration, check_production


def main() -> None:
    cli = FlaskGroup(create_app=create_app, add_version_option=False, help="vehiclewatch 一车一码")
    cli.main(prog_name="vehiclewatch")


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    upgrade(directory=current_app.extensions["migrate"].directory)
    click.echo(f"database ready: {current_app.config['SQLALCHEMY_DATABASE_URI']}")


# No client address in the access log: it must never pair a person with a
# sticker token or a report (SECURITY.md 3).
ACCESS_LOG_FORMAT = '%(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'


def run_development_server(host: str, port: int, *, debugger: bool) -> None:
    """Werkzeug's reloading server with debug on; the interactive debugger only if asked
    (never when other machines can reach it)."""
    # Flask's app.run() refuses to run inside a CLI command; werkzeug's server does.
    from werkzeug.serving import WSGIRequestHandler, run_simple

    class NoAddressHandler(WSGIRequestHandler):
        def address_string(self) -> str:
            return "-"  # the development server's log keeps no client address either

    app = current_app._get_current_object()
    app.debug = True
    run_simple(
        host, port, app, use_reloader=True, use_debugger=debugger, request_handler=NoAddressHandler
    )


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=4, show_default=True, type=int, help="gunicorn workers")
@click.option("--dev", is_flag=True, help="Flask's reloading development server, debug on.")
@with_appcontext
def serve_command(host: str, port: int, workers: int, dev: bool) -> None:
    """Serve the application: gunicorn in production mode unless --dev."""
    if dev:
        run_development_server(host, port, debugger=True)
        return
    try:
        check_production(current_app)
    except InsecureConfiguration as exc:
        raise click.ClickException(f"refusing to start in production: {exc}") from None
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            self.cfg.set("access_log_format", ACCESS_LOG_FORMAT)

        def load(self):
            return create_app()

    click.echo(f"serving on http://{host}:{port} with {workers} gunicorn workers")
    Server().run()
