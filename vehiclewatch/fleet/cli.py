"""Vehicle import and export commands."""

import os
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from .. import audit
from ..auth.models import Unit
from ..extensions import db
from ..importpage import import_file
from .models import Vehicle
from .printing import NothingToPrint, Selection, print_stickers
from .sheets import DEFAULT_LAYOUT, LAYOUTS, InvalidSheet
from .vehicle_files import export_vehicles, import_vehicles


@click.command("import-vehicles")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_vehicles_command(file: str) -> None:
    """Import vehicles from a CSV (UTF-8/GB18030) or .xlsx file, all or nothing."""
    click.echo(f"imported {import_file(import_vehicles, file)} vehicles")


@click.command("export-vehicles")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv")
@click.option("--out", type=click.Path(dir_okay=False), help="File to write (default: stdout).")
@with_appcontext
def export_vehicles_command(fmt: str, out: str | None) -> None:
    """Export every vehicle as CSV or .xlsx."""
    vehicles = db.session.execute(select(Vehicle).order_by(Vehicle.plate)).scalars()
    data = export_vehicles(vehicles, fmt, actor=audit.SYSTEM)
    if out:
        with open(out, "wb") as handle:
            handle.write(data)
    else:
        sys.stdout.buffer.write(data)


@click.command("print-stickers")
@click.option("--unit", "unit_code", help="Unit code: that unit and its subtree (default: all).")
@click.option(
    "--layout", default=DEFAULT_LAYOUT, type=click.Choice(list(LAYOUTS)), show_default=True
)
@click.option("--start", default=1, show_default=True, type=int, help="First free label position.")
@click.option(
    "--needs-reprint",
    is_flag=True,
    help="Only the print queue: stickers never printed, or marked as needing a reprint.",
)
@click.option("--back", is_flag=True, help="Add a back page with the 八不准 after each sheet.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="PDF file to write.")
@with_appcontext
def print_stickers_command(unit_code, layout, start, needs_reprint, back, out) -> None:
    """Write a PDF sheet of stickers for all publicly marked vehicles (or one unit's subtree)."""
    unit_id = None
    if unit_code:
        unit = db.session.execute(select(Unit).where(Unit.code == unit_code)).scalar_one_or_none()
        if unit is None:
            raise click.ClickException(f"unknown unit code: {unit_code}")
        unit_id = unit.id
    selection = Selection(unit_id=unit_id, needs_reprint=needs_reprint)
    # Written beside the target and moved into place only when the whole sheet is there:
    # a failed print leaves no empty or broken PDF behind.
    partial = Path(out).with_name(Path(out).name + ".partial")
    try:
        with open(partial, "wb") as handle:
            result = print_stickers(
                selection, handle, layout=layout, start=start, back=back, actor=audit.SYSTEM
            )
        os.replace(partial, out)
    except NothingToPrint:
        raise click.ClickException("no vehicle in the selection can carry a sticker") from None
    except InvalidSheet as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        partial.unlink(missing_ok=True)
    click.echo(f"font: {result.font.description}")
    click.echo(f"wrote {result.stickers} stickers on {result.pages} pages ({layout}) to {out}")
