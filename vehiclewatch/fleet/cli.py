"""Vehicle import and export commands."""

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..extensions import db
from .models import Vehicle
from .services import ImportRejected, export_vehicles, import_vehicles


@click.command("import-vehicles")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_vehicles_command(file: str) -> None:
    """Import vehicles from a CSV (UTF-8/GB18030) or .xlsx file, all or nothing."""
    with open(file, "rb") as handle:
        data = handle.read()
    try:
        count = import_vehicles(data, filename=file)
    except ImportRejected as exc:
        db.session.rollback()
        for error in exc.errors:
            click.echo(f"line {error.line}: {error.message}", err=True)
        raise click.ClickException("nothing imported") from None
    click.echo(f"imported {count} vehicles")


@click.command("export-vehicles")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv")
@click.option("--out", type=click.Path(dir_okay=False), help="File to write (default: stdout).")
@with_appcontext
def export_vehicles_command(fmt: str, out: str | None) -> None:
    """Export every vehicle as CSV or .xlsx."""
    vehicles = db.session.execute(select(Vehicle).order_by(Vehicle.plate)).scalars()
    data = export_vehicles(vehicles, fmt)
    if out:
        with open(out, "wb") as handle:
            handle.write(data)
    else:
        sys.stdout.buffer.write(data)
