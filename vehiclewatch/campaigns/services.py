"""Writes for holiday periods."""

from datetime import date

from .. import audit
from ..extensions import db
from ..transaction import commit
from .models import HolidayPeriod, Region


class InvalidPeriod(ValueError):
    """A holiday period whose dates do not make sense."""


def add_holiday_period(
    name: str, start: date, end: date, region: str, makeup_workdays: list[date]
) -> HolidayPeriod:
    """Record a holiday period and its makeup workdays."""
    if end < start:
        raise InvalidPeriod(f"{name}: end {end} before start {start}")
    period = HolidayPeriod(
        name=name.strip(),
        start=start,
        end=end,
        region=Region(region),
        makeup_workdays=";".join(sorted(d.isoformat() for d in makeup_workdays)),
    )
    db.session.add(period)
    db.session.flush()
    audit.record("holiday_added", period, after=period.snapshot())
    commit()
    return period
