"""Working days, deadlines and the overdue cutoff over real holiday data (2026 Spring Festival)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from vehiclewatch.calendar.workdays import WorkingCalendar, load_calendar, overdue_cutoff

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def calendar(new_year_2026):
    return load_calendar()


def test_empty_database_gives_plain_weeks(app):
    cal = load_calendar()
    assert cal == WorkingCalendar(frozenset(), frozenset())
    assert cal.is_working_day(date(2026, 2, 16))
    assert not cal.is_working_day(date(2026, 2, 14))


def test_working_days_around_spring_festival(calendar):
    assert date(2026, 2, 14).weekday() == 5
    assert calendar.is_working_day(date(2026, 2, 14))  # Saturday, makeup workday
    assert not calendar.is_working_day(date(2026, 2, 15))  # Sunday and holiday
    assert not calendar.is_working_day(date(2026, 2, 16))  # Monday, national holiday
    assert not calendar.is_working_day(date(2026, 2, 23))  # last day of 春节
    assert not calendar.is_working_day(date(2026, 2, 24))  # Tuesday, only 藏历新年
    assert calendar.is_working_day(date(2026, 2, 25))
    assert calendar.is_working_day(date(2026, 2, 28))  # Saturday, makeup workday
    assert not calendar.is_working_day(date(2026, 3, 1))  # ordinary Sunday
    assert not calendar.is_working_day(date(2026, 3, 7))  # ordinary Saturday


def test_makeup_day_inside_another_period_is_worked():
    cal = WorkingCalendar(
        holidays=frozenset({date(2026, 5, 1), date(2026, 5, 2)}),
        makeup_days=frozenset({date(2026, 5, 2)}),
    )
    assert not cal.is_working_day(date(2026, 5, 1))
    assert cal.is_working_day(date(2026, 5, 2))


def test_add_working_days_over_spring_festival(calendar):
    # Sat 14 makeup = 1, then Wed 25 = 2, Thu 26 = 3, Fri 27 = 4, Sat 28 makeup = 5.
    assert calendar.add_working_days(date(2026, 2, 13), 5) == date(2026, 2, 28)
    assert calendar.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert calendar.add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 25)
    assert calendar.add_working_days(date(2026, 2, 16), 0) == date(2026, 2, 16)


def test_add_working_days_in_plain_weeks(calendar):
    friday = date(2026, 3, 6)
    assert friday.weekday() == 4
    assert calendar.add_working_days(friday, 5) == date(2026, 3, 13)
    assert calendar.add_working_days(friday, 0) == friday
    assert calendar.add_working_days(date(2026, 3, 7), 1) == date(2026, 3, 9)  # Sat → Mon
    assert calendar.add_working_days(date(2026, 3, 9), 10) == date(2026, 3, 23)


def test_negative_count_is_refused(calendar):
    with pytest.raises(ValueError):
        calendar.add_working_days(date(2026, 3, 6), -1)


def test_working_days_between(calendar):
    assert calendar.working_days_between(date(2026, 2, 13), date(2026, 2, 28)) == 5
    assert calendar.working_days_between(date(2026, 3, 6), date(2026, 3, 13)) == 5
    assert calendar.working_days_between(date(2026, 2, 15), date(2026, 2, 24)) == 0
    assert calendar.working_days_between(date(2026, 3, 6), date(2026, 3, 6)) == 0
    assert calendar.working_days_between(date(2026, 3, 13), date(2026, 3, 6)) == 0
    start = date(2026, 2, 1)
    for n in range(30):
        assert calendar.working_days_between(start, calendar.add_working_days(start, n)) == n


def test_deadline_from_a_local_saturday(calendar):
    submitted = datetime(2026, 3, 6, 17, 0, tzinfo=UTC)  # 2026-03-07 01:00 local (UTC+8)
    assert submitted.astimezone(SHANGHAI).date() == date(2026, 3, 7)
    # Five working days Mon 9 .. Fri 13; it ends at local midnight, 16:00 UTC.
    assert calendar.deadline(submitted, 5, SHANGHAI) == datetime(2026, 3, 13, 16, 0, tzinfo=UTC)
    # One second earlier it is still Friday the 6th locally: due the following Friday too.
    earlier = datetime(2026, 3, 6, 15, 59, 59, tzinfo=UTC)
    assert calendar.deadline(earlier, 5, SHANGHAI) == datetime(2026, 3, 13, 16, 0, tzinfo=UTC)


def test_real_name_acknowledgement_over_the_holiday(calendar):
    submitted = datetime(2026, 2, 10, 2, 0, tzinfo=UTC)  # Tuesday 10:00 local
    # 11, 12, 13, Sat 14 = 4; 25, 26, 27, Sat 28 = 8; Mar 2–6 = 13; Mar 9, 10 = 15.
    assert calendar.add_working_days(date(2026, 2, 10), 15) == date(2026, 3, 10)
    assert calendar.deadline(submitted, 15, SHANGHAI) == datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


def test_naive_times_are_refused(calendar):
    with pytest.raises(ValueError):
        calendar.deadline(datetime(2026, 3, 6, 17, 0), 5, SHANGHAI)
    with pytest.raises(ValueError):
        overdue_cutoff(datetime(2026, 3, 6, 17, 0), 5, SHANGHAI, calendar)


def _submission_times() -> list[datetime]:
    """60 times: dense over the Spring Festival, sparser across 2026, some on local midnight."""
    times = []
    start = datetime(2026, 2, 5, 15, 30, tzinfo=UTC)
    for i in range(40):  # every 17 h: all hours of the day, across the holiday and makeup days
        times.append(start + timedelta(hours=17 * i))
    for day in (date(2026, 2, 13), date(2026, 2, 14), date(2026, 2, 24), date(2026, 2, 27)):
        midnight = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).astimezone(UTC)
        times += [midnight - timedelta(microseconds=1), midnight]
    for month in range(1, 13):
        times.append(datetime(2026, month, 3 + month, (5 * month) % 24, 7, tzinfo=UTC))
    return times


@pytest.mark.parametrize("n", [0, 1, 5, 15])
def test_overdue_cutoff_matches_deadline(calendar, n):
    submissions = _submission_times()
    assert len(submissions) == 60
    deadlines = {s: calendar.deadline(s, n, SHANGHAI) for s in submissions}
    # Fixed instants plus each deadline and the moment just before it (the edges).
    nows = [
        datetime(2026, 2, 20, 4, 0, tzinfo=UTC),
        datetime(2026, 2, 27, 23, 0, tzinfo=UTC),
        datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        datetime(2026, 3, 20, 9, 30, tzinfo=UTC),
        datetime(2026, 12, 31, 15, 59, tzinfo=UTC),
    ]
    for due in list(deadlines.values())[::3]:
        nows += [due, due - timedelta(microseconds=1)]
    for now in nows:
        cutoff = overdue_cutoff(now, n, SHANGHAI, calendar)
        assert cutoff.tzinfo is not None
        for submitted, due in deadlines.items():
            assert (submitted < cutoff) == (due <= now), (n, submitted, now, cutoff, due)
        # The cutoff is tight: the instant before it is overdue, the cutoff itself is not.
        assert calendar.deadline(cutoff - timedelta(microseconds=1), n, SHANGHAI) <= now
        assert calendar.deadline(cutoff, n, SHANGHAI) > now


def test_overdue_cutoff_just_after_the_holiday(calendar):
    # At 09:00 local on Mon 2 March, the last closed day is Sat 28 (a makeup day). Five
    # working days back from it: 28, 27, 26, 25, 14 → reports of Fri 13 or earlier are late.
    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    assert overdue_cutoff(now, 5, SHANGHAI, calendar) == datetime(2026, 2, 13, 16, 0, tzinfo=UTC)
