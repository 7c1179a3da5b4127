"""`vehiclewatch demo`: the demo city on this machine, its stickers pointing at the address
it serves, reachable from a phone on the same network when asked."""

import os
import shutil
import socket
from pathlib import Path

import click
import qrcode
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import make_url, select

from . import asset_dir
from .extensions import db
from .fleet.models import Sticker
from .fonts import tibetan_font
from .reports.photostore import photo_dir
from .seeding import DatabaseNotEmpty, seed

ACCOUNTS = (
    "  demo accounts (password demo-pass-2026):",
    "    admin (system admin), fleet-city / fleet-cg / fleet-ds (fleet admins),",
    "    officer-city / officer-cg / officer-ds (officers), leader-city / leader-cg (leaders)",
)
EVERY_ADDRESS = ("0.0.0.0", "::")


def lan_address() -> str:
    """This machine's address on its local network (the one its default route leaves by).
    A UDP socket's connect sends nothing; it only picks the route."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return "127.0.0.1"
        return probe.getsockname()[0]


def demo_base_url(host: str, port: int) -> str:
    """The address stickers should carry: a phone cannot reach 0.0.0.0, only the LAN address."""
    reachable = lan_address() if host in EVERY_ADDRESS else host
    return f"http://{reachable}:{port}"


def seeded_for() -> str | None:
    """The address the demo's stickers were issued for, if any were."""
    url = db.session.execute(select(Sticker.url).order_by(Sticker.id).limit(1)).scalar()
    return url.split("/v/")[0] if url else None


def reset_database() -> None:
    """Remove the demo's SQLite database and its photos (only SQLite: a database server is
    not the demo's to empty)."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or not url.database:
        raise click.ClickException("demo-reset only removes the SQLite demo database")
    db.engine.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(url.database + suffix).unlink(missing_ok=True)
    shutil.rmtree(photo_dir(), ignore_errors=True)
    click.echo(f"removed the demo database {url.database} and its photos")


def prepare(base_url: str) -> str | None:
    """Migrate, and seed with stickers for base_url. Returns the other address an existing
    database was seeded for (its stickers would send a phone there), else None."""
    current_app.config["PUBLIC_BASE_URL"] = base_url
    upgrade(directory=current_app.extensions["migrate"].directory)
    try:
        counts = seed(asset_dir("seeds"))
    except DatabaseNotEmpty:
        earlier = seeded_for()
        return earlier if earlier and earlier != base_url else None
    click.echo("seeded: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
    return None


def bilingual_stickers() -> str:
    """Demo stickers in Tibetan above Chinese, as the region's signs are, where this machine
    has a Tibetan font; unreviewed translations print without the draft mark."""
    current_app.config["STICKER_ALLOW_UNREVIEWED"] = True
    if tibetan_font(current_app.config.get("TIBETAN_FONT_PATH")) is None:
        return "  stickers in Chinese only: no Tibetan font (apt-get install fonts-noto-core),"
    current_app.config["STICKER_LANGUAGES"] = "bo,zh"
    return "  stickers in Tibetan above Chinese (VEHICLEWATCH_STICKER_LANGUAGES=bo,zh, unreviewed),"


def announce(host: str, base_url: str, stickers: str) -> None:
    lines = [
        "",
        f"  vehiclewatch demo on {base_url}/",
        f"    front page:   {base_url}/",
        f"    staff login:  {base_url}/login",
        *ACCOUNTS,
        "",
        f"  public pages in {current_app.config['PUBLIC_LOCALES']} (VEHICLEWATCH_PUBLIC_LOCALES),"
        " with a switch on top;",
        "  demo mode: staff sign in without a TOTP code (VEHICLEWATCH_REQUIRE_TOTP off),",
        "  Flask's development server, production checks off (development keys),",
        stickers,
    ]
    if host in EVERY_ADDRESS:
        lines += [
            "  interactive debugger off (other machines can reach this one).",
            "  On a phone on the same Wi-Fi, open the address above or scan this code:",
        ]
        click.echo("\n".join(lines))
        code = qrcode.QRCode(border=2)
        code.add_data(f"{base_url}/")
        code.print_ascii(invert=True)
        click.echo("  Plain HTTP: the phone's browser will not share its location.\n")
    else:
        lines += ["  interactive debugger on (this machine only).", ""]
        click.echo("\n".join(lines))


DEMO_LOCALES = "bo,zh,en"


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="0.0.0.0 serves the LAN.")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--reset", is_flag=True, help="Delete the SQLite demo database first.")
@with_appcontext
def demo_command(host: str, port: int, reset: bool) -> None:
    """Run the demo: seed it for the address it serves, say how to reach it, serve."""
    from .cli import run_development_server

    # The reloader runs this command again in a child process: set up and speak only once.
    reloaded = os.environ.get("WERKZEUG_RUN_MAIN") == "true"
    base_url = demo_base_url(host, port)
    # Demo accounts sign in with a password alone; the login page says so.
    current_app.config["REQUIRE_TOTP"] = False
    stickers = bilingual_stickers()
    # The city is in Tibet: the public pages offer Tibetan and English too, unless set.
    if "VEHICLEWATCH_PUBLIC_LOCALES" not in os.environ:
        current_app.config["PUBLIC_LOCALES"] = DEMO_LOCALES
    if reloaded:
        current_app.config["PUBLIC_BASE_URL"] = base_url
    else:
        if reset:
            reset_database()
        earlier = prepare(base_url)
        if earlier:
            raise click.ClickException(
                f"the demo database was seeded for {earlier}, so its stickers point there, "
                f"not at {base_url}.\nRun `make demo-reset HOST={host} PORT={port}` to start "
                "again with stickers for this address (it deletes the demo data)."
            )
        announce(host, base_url, stickers)
    run_development_server(host, port, debugger=host not in EVERY_ADDRESS)
