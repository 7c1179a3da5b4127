"""Holiday commands: propose the Tibetan-calendar holidays of a year, import a year's table."""

import csv
import sys
import warnings
from datetime import date, timedelta

import click
from flask.cli import AppGroup

from ..importpage import import_file
from .services import HOLIDAY_COLUMNS, import_holidays

holidays_cli = AppGroup("holidays", help="Holiday data (节假日).")

# How many days off each local holiday gives; the region's notice for the year decides.
LOSAR_DAYS = 7
SHOTON_DAYS = 3


def tibetan_holidays(year: int) -> list[tuple[str, date, int]]:
    """藏历新年 and 雪顿节 of a Gregorian year by the Phugpa calendar (name, first day, days)."""
    with warnings.catch_warnings():
        # caltib warns about its own engine parameters while it loads.
        warnings.simplefilter("ignore", UserWarning)
        import caltib
    return [
        ("藏历新年", caltib.new_year_day(year, engine="phugpa"), LOSAR_DAYS),
        # 雪顿节 begins on the 30th of the 6th Tibetan month: that month's last day.
        ("雪顿节", caltib.last_day_of_month(year, 6, engine="phugpa"), SHOTON_DAYS),
    ]


@holidays_cli.command("suggest")
@click.argument("year", type=click.IntRange(1900, 2200))
def suggest_command(year: int) -> None:
    """Print YEAR's local holidays that follow the Tibetan calendar (Phugpa) as CSV rows to
    check against the region's notice and import; national holidays come from the State
    Council's notice each year."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(HOLIDAY_COLUMNS)
    for name, first, days in tibetan_holidays(year):
        last = first + timedelta(days=days - 1)
        writer.writerow([name, first.isoformat(), last.isoformat(), "地方", ""])
    click.echo(
        "# check the lengths and makeup workdays against this year's notice before importing",
        err=True,
    )


@holidays_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_command(file: str) -> None:
    """Import holiday periods from a CSV (UTF-8/GB18030) or .xlsx file, all or nothing."""
    click.echo(f"imported {import_file(import_holidays, file)} holiday periods")
