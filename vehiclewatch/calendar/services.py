"""Writes for holiday periods. Each change tells the packages above (holidays_changed), in
the same transaction, so whatever follows the campaigns follows the change."""

import hashlib
import re
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..extensions import db
from ..tables import Row, check_rows, read_table
from ..transaction import atomic
from .models import HolidayPeriod, Region
from .signals import holidays_changed

# The holiday table's columns (the rows `vehiclewatch holidays suggest` prints).
HOLIDAY_COLUMNS = ("名称", "开始日期", "结束日期", "范围", "调休上班日")
HOLIDAY_REQUIRED = ("名称", "开始日期", "结束日期", "范围")
REGION_WORDS = {"全国": Region.NATIONAL, "地方": Region.LOCAL}


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
    with atomic():
        period = HolidayPeriod()
        _fill(period, name, start, end, region, makeup_workdays)
        db.session.add(period)
        db.session.flush()
        audit.record("holiday_added", period, after=period.snapshot(), actor=actor)
        holidays_changed.send(period)
    return period


def _fill(period, name, start, end, region, makeup_workdays) -> None:
    if end < start:
        raise InvalidPeriod(f"{name}: end {end} before start {start}")
    period.name = name.strip()
    period.start = start
    period.end = end
    period.region = Region(region)
    period.makeup_workdays = ";".join(sorted(d.isoformat() for d in makeup_workdays))


def edit_holiday_period(
    period: HolidayPeriod,
    name: str,
    start: date,
    end: date,
    region: str,
    makeup_workdays: list[date],
    *,
    actor: audit.Actor,
) -> HolidayPeriod:
    """Correct a holiday period in place: sealing records keep pointing at it, and the
    campaigns, rounds and reports follow the new dates."""
    with atomic():
        before = period.snapshot()
        _fill(period, name, start, end, region, makeup_workdays)
        db.session.flush()
        audit.record("holiday_changed", period, before=before, after=period.snapshot(), actor=actor)
        holidays_changed.send(period)
    return period


def _date_cell(text: str, label: str, problems: list[str]) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(_("%(label)s“%(text)s”应为 YYYY-MM-DD", label=label, text=text))
        return None


def _holiday_row(values: dict[str, str], problems: list[str]) -> dict | None:
    name = values.get("名称", "")
    if not name:
        problems.append(_("缺少名称"))
    elif len(name) > 60:
        problems.append(_("名称不能超过 60 个字"))
    start = _date_cell(values.get("开始日期", ""), _("开始日期"), problems)
    end = _date_cell(values.get("结束日期", ""), _("结束日期"), problems)
    if start and end and end < start:
        problems.append(_("结束日期不能早于开始日期"))
    region_text = values.get("范围", "")
    region = REGION_WORDS.get(region_text) or (
        Region(region_text) if region_text in set(Region) else None
    )
    if region is None:
        problems.append(_("范围“%(text)s”应为“全国”或“地方”", text=region_text))
    makeup = []
    for text in re.split(r"[\s,，;；]+", values.get("调休上班日", "")):
        if text:
            makeup.append(_date_cell(text, _("调休上班日"), problems))
    if problems:
        return None
    return {"name": name, "start": start, "end": end, "region": region, "makeup_workdays": makeup}


def validate_holiday_import(data: bytes) -> list[dict]:
    """Parse and check every row; raise ImportRejected naming each bad row, else return rows.
    A holiday is known by its name and the year it starts in (as sealing records name it),
    so a name already entered for that year is refused."""
    rows = read_table(data, HOLIDAY_REQUIRED)
    existing = {
        (name, start.year)
        for name, start in db.session.execute(select(HolidayPeriod.name, HolidayPeriod.start))
    }
    seen: dict[tuple[str, int], int] = {}

    def check(row: Row, problems: list[str]) -> dict | None:
        holiday = _holiday_row(row.values, problems)
        if holiday is not None:
            key = (holiday["name"], holiday["start"].year)
            if key in seen:
                problems.append(_("与第 %(line)d 行重复", line=seen[key]))
            elif key in existing:
                problems.append(_("已有 %(year)d 年的节假日“%(name)s”", year=key[1], name=key[0]))
            seen.setdefault(key, row.line)
        return holiday

    return check_rows(rows, check, _("文件中没有节假日数据。"))


@atomic()
def import_holidays(data: bytes, *, actor: audit.Actor, filename: str = "") -> list[HolidayPeriod]:
    """Import a table of holiday periods (e.g. a year's) all or nothing; the campaigns and
    rounds follow once, for all of them."""
    periods = []
    for row in validate_holiday_import(data):
        period = HolidayPeriod()
        _fill(period, **row)
        periods.append(period)
    db.session.add_all(periods)
    db.session.flush()
    audit.record(
        "holidays_imported",
        object_type=HolidayPeriod.__tablename__,
        after={
            "count": len(periods),
            "file": filename,
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        actor=actor,
    )
    holidays_changed.send(periods)
    return periods


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
