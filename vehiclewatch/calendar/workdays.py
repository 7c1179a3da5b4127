"""Working-day arithmetic over admin-entered holiday periods: deadlines and overdue cutoffs."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..extensions import db
from .models import HolidayPeriod

ONE_DAY = timedelta(days=1)


def _require_aware(value: datetime, what: str) -> None:
    # A naive time would silently be read as the server's local time: refuse it instead.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime")


def _require_count(n: int) -> None:
    if n < 0:
        raise ValueError(f"number of working days must not be negative: {n}")


def _start_of_local_day(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of `day` in `zone`, as aware UTC.

    With fold=0 a midnight skipped by a DST jump maps to the transition instant itself, which
    is still the first instant whose local date is `day`."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days: Monday to Friday, minus holiday days, plus makeup workdays (调休上班日).

    A deadline of n working days is met if the report is acted on before the end (local
    midnight) of the n-th working day after the local day it was submitted on; the day of
    submission itself never counts."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    makeup_days: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, d: date) -> bool:
        # Makeup first: a makeup day listed inside an overlapping period is still worked.
        if d in self.makeup_days:
            return True
        if d in self.holidays:
            return False
        return d.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (`start` itself when n is 0).

        Terminates for any n: holidays are a finite set, so weekdays resume after the last."""
        _require_count(n)
        day = start
        remaining = n
        while remaining:
            day += ONE_DAY
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; 0 when end is not after start."""
        count = 0
        day = start + ONE_DAY
        while day <= end:
            count += self.is_working_day(day)
            day += ONE_DAY
        return count

    def deadline(self, submitted_at: datetime, n: int, zone: ZoneInfo) -> datetime:
        """End of the n-th working day after the local submission day, as aware UTC.

        The end of a day is the next local midnight, so `acted_at < deadline` means in time."""
        _require_aware(submitted_at, "submitted_at")
        local_day = submitted_at.astimezone(zone).date()
        due_day = self.add_working_days(local_day, n)
        return _start_of_local_day(due_day + ONE_DAY, zone)

    def latest_working_day_on_or_before(self, d: date) -> date:
        """Walking back from `d`; terminates because weekdays precede the first holiday."""
        while not self.is_working_day(d):
            d -= ONE_DAY
        return d


def load_calendar() -> WorkingCalendar:
    """Every holiday period (national and local alike) expanded into days."""
    holidays: set[date] = set()
    makeup: set[date] = set()
    periods = db.session.execute(db.select(HolidayPeriod)).scalars()
    for period in periods:
        day = period.start
        while day <= period.end:
            holidays.add(day)
            day += ONE_DAY
        makeup.update(period.makeup_dates)
    return WorkingCalendar(holidays=frozenset(holidays), makeup_days=frozenset(makeup))


def overdue_cutoff(now: datetime, n: int, zone: ZoneInfo, calendar: WorkingCalendar) -> datetime:
    """The instant (aware UTC) before which a submission's n-working-day deadline has passed.

    `created_at < overdue_cutoff(now, ...)` holds exactly when
    `calendar.deadline(created_at, n, zone) <= now`, so a query can filter overdue reports
    without computing deadlines row by row.

    Why this is the largest overdue submission day D plus one: the deadline for local day D
    is the start of local day f(D) + 1 with f(D) = add_working_days(D, n), so it has passed
    iff f(D) <= T, where T is the day before now's local date. f is non-decreasing in D, so
    the overdue days form a prefix. For n = 0, f(D) = D and the largest such D is T. For
    n >= 1, f(D) <= T iff (D, T] holds at least n working days, i.e. iff D is before w_n, the
    n-th working day counting back from T inclusive; so the largest D is w_n - 1. Either way
    the cutoff is the start of local day D + 1.
    """
    _require_aware(now, "now")
    _require_count(n)
    last_closed_day = now.astimezone(zone).date() - ONE_DAY
    if n == 0:
        return _start_of_local_day(last_closed_day + ONE_DAY, zone)
    day = calendar.latest_working_day_on_or_before(last_closed_day)
    for _ in range(n - 1):
        day = calendar.latest_working_day_on_or_before(day - ONE_DAY)
    return _start_of_local_day(day, zone)
