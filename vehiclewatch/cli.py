"""The `vehiclewatch` command: Flask's CLI with the project's own commands."""

import os
import shutil
import tempfile
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade

from . import create_app
from .audit import start_keyed_chain
from .config import InsecureConfiguration, check_production
from .dbroles import application_role, can_rewrite_audit_log, grant_application_role
from .extensions import db
from .gunicornlog import AddresslessLogger
from .reports.cli import check_contact_keys_or_exit


def main() -> None:
    cli = FlaskGroup(create_app=create_app, add_version_option=False, help="vehiclewatch 一车一码")
    cli.main(prog_name="vehiclewatch")


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database schema (Alembic migrations, as the owner role when
    VEHICLEWATCH_MIGRATION_DATABASE_URL is set), grant the application's role what it
    needs, and start the keyed audit chain."""
    upgrade(directory=current_app.extensions["migrate"].directory)
    if db.engine.dialect.name == "postgresql":
        _restrict_application_role()
    if start_keyed_chain():
        click.echo("audit log: entries are keyed with VEHICLEWATCH_AUDIT_KEY from now on")
    click.echo(f"database ready: {current_app.config['SQLALCHEMY_DATABASE_URI']}")


def _restrict_application_role() -> None:
    owner_url = current_app.config["MIGRATION_DATABASE_URL"]
    if owner_url:
        role = application_role(db.engine)
        owner = sa.create_engine(owner_url, poolclass=sa.pool.NullPool)
        try:
            grant_application_role(owner, role)
        finally:
            owner.dispose()
        click.echo(f"database role {role}: reads and writes, may only append to the audit log")
    if can_rewrite_audit_log(db.engine):
        click.echo(
            "WARNING: the application's database role can rewrite the audit log. Give the "
            "application a role of its own in DATABASE_URL and name the owner in "
            "VEHICLEWATCH_MIGRATION_DATABASE_URL (see README).",
            err=True,
        )


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


def prepare_metrics_dir() -> tuple[str, bool]:
    """The directory where gunicorn's workers keep their metrics (PROMETHEUS_MULTIPROC_DIR),
    emptied of an earlier run's files, or a new temporary one. Set before any worker imports
    prometheus-client. Returns it and whether it was made here."""
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if configured:
        folder = Path(configured)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        return configured, False
    folder = tempfile.mkdtemp(prefix="vehiclewatch-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    return folder, True


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=4, show_default=True, type=int, help="gunicorn workers")
@click.option("--dev", is_flag=True, help="Flask's reloading development server, debug on.")
@with_appcontext
def serve_command(host: str, port: int, workers: int, dev: bool) -> None:
    """Serve the application: gunicorn in production mode unless --dev."""
    check_contact_keys_or_exit()
    if dev:
        run_development_server(host, port, debugger=True)
        return
    # The workers serve this app, checked as it is: the CLI's own app has had its debug flag
    # set by Flask's command line, whatever VEHICLEWATCH_DEBUG says.
    app = create_app()
    try:
        check_production(app, workers)
    except InsecureConfiguration as exc:
        raise click.ClickException(f"refusing to start in production: {exc}") from None
    from gunicorn.app.base import BaseApplication

    metrics_dir, made_metrics_dir = prepare_metrics_dir()

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            # No gunicorn access log: the application logs each request itself, with its
            # route template (a path may hold a sticker token) and never a client address.
            self.cfg.set("accesslog", None)
            if made_metrics_dir:
                self.cfg.set("on_exit", lambda server: shutil.rmtree(metrics_dir, True))
            self.cfg.set("logger_class", AddresslessLogger)

        def load(self):
            return app

    click.echo(f"serving on http://{host}:{port} with {workers} gunicorn workers")
    Server().run()
