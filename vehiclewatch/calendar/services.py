"""Writes for holiday periods. Each change tells the packages above (holidays_changed), in
the same transaction, so whatever follows the campaigns follows the change."""

from datetime import date

from sqlalchemy.exc import IntegrityError

from .. import audit
from ..extensions import db
from ..transaction import atomic
from .models import HolidayPeriod, Region
from .signals import holidays_changed


class InvalidPeriod(ValueError):
    """A holiday period whose dates do not make sense."""


class HolidayInUse(ValueError):
    """Records (sealing) refer to the holiday period, so it cannot be deleted."""


def add_holiday_period(
    name: str,
    start: date,
    end: date,
    region: str,
    makeup_workdays: list[date],
    *,
    actor: audit.Actor,
) -> HolidayPeriod:
    """Record a holiday period and its makeup workdays."""
    if end < start:
        raise InvalidPeriod(f"{name}: end {end} before start {start}")
    with atomic():
        period = HolidayPeriod(
            name=name.strip(),
            start=start,
            end=end,
            region=Region(region),
            makeup_workdays=";".join(sorted(d.isoformat() for d in makeup_workdays)),
        )
        db.session.add(period)
        db.session.flush()
        audit.record("holiday_added", period, after=period.snapshot(), actor=actor)
        holidays_changed.send(period)
    return period


def remove_holiday_period(period: HolidayPeriod, *, actor: audit.Actor) -> None:
    """Delete a holiday period entered in error (its campaign and rounds follow); refused
    while sealing records refer to it."""
    name = period.name
    try:
        with atomic():
            audit.record("holiday_removed", period, before=period.snapshot(), actor=actor)
            db.session.delete(period)
            db.session.flush()
            holidays_changed.send(period)
    except IntegrityError:
        raise HolidayInUse(name) from None
