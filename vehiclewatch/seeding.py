"""Load the demo data in seeds/ into an empty database, all in one transaction."""

import csv
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from . import asset_dir, audit
from .auth import foureyes
from .auth.models import Unit
from .auth.services import create_unit, create_user
from .calendar.services import add_holiday_period
from .extensions import db
from .fleet.models import Vehicle
from .fleet.stickers import issue_missing_stickers
from .fleet.vehicle_files import import_vehicles
from .transaction import atomic


class DatabaseNotEmpty(RuntimeError):
    """Seeding would mix demo data into real data."""


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def seed(directory: Path) -> dict[str, int]:
    """Load units, accounts, holidays and vehicles from a seeds folder."""
    if db.session.execute(select(func.count()).select_from(Unit)).scalar_one():
        raise DatabaseNotEmpty()
    counts = {}
    with atomic():
        units: dict[str, Unit] = {}
        for row in _read(directory / "units.csv"):
            units[row["code"]] = create_unit(
                row["code"],
                row["name"],
                row["kind"],
                units.get(row["parent_code"]),
                row["escalated"] == "1",
                actor=audit.SYSTEM,
            )
        counts["units"] = len(units)
        # Leaders first: a unit's first leader is exempt from confirmation (audited).
        accounts = sorted(_read(directory / "accounts.csv"), key=lambda r: r["role"] != "leader")
        for row in accounts:
            create_user(
                row["username"],
                row["display_name"],
                row["role"],
                units[row["unit_code"]],
                row["password"],
                row["can_reveal_contact"] == "1",
                actor=audit.SYSTEM,
            )
        counts["accounts"] = len(accounts)
        # The demo's leaders confirm the demo's officers, as they would on 账号变更确认.
        for change in foureyes.pending():
            leader = foureyes.leaders_of(change.unit_id)[0]
            foureyes.decide(change, leader, confirm=True)
        holidays = _read(directory / "holidays.csv")
        for row in holidays:
            add_holiday_period(
                row["name"],
                date.fromisoformat(row["start"]),
                date.fromisoformat(row["end"]),
                row["region"],
                [date.fromisoformat(d) for d in row["makeup_workdays"].split(";") if d],
                actor=audit.SYSTEM,
            )
        counts["holidays"] = len(holidays)
        vehicles_file = directory / "vehicles.csv"
        counts["vehicles"] = import_vehicles(
            vehicles_file.read_bytes(), actor=audit.SYSTEM, filename="seeds"
        )
        counts["stickers"] = issue_missing_stickers(select(Vehicle.id), actor=audit.SYSTEM)
    return counts


@click.command("seed")
@click.argument("directory", required=False, type=click.Path(file_okay=False, exists=True))
@with_appcontext
def seed_command(directory: str | None) -> None:
    """Load demo data (units, accounts, holidays, vehicles) into an empty database."""
    try:
        counts = seed(Path(directory) if directory else asset_dir("seeds"))
    except DatabaseNotEmpty:
        click.echo("database already has data: seed skipped")
        return
    click.echo("seeded: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
