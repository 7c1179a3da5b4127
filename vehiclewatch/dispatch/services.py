"""Writes for trip approvals (派车单) and sealing (封存登记): entry by form and import from
CSV/.xlsx, all or nothing. The only place that changes them.

Trip approval import columns (first row is the header; * required):
    车牌号*, 事由*, 目的地, 开始时间*, 结束时间*, 驾驶员, 审批人, 应急 (是/否)
Sealing import columns:
    车牌号*, 节假日* (its name as entered, e.g. 春节), 年份* (the year it starts in),
    停放地点, 钥匙保管人, 免于封存 (是/否), 免封原因 (值班/应急/…), 免封批准人
Times are local (the deployment's zone): "YYYY-MM-DD HH:MM" (seconds, "/" and "T" also
accepted) or an Excel date-time cell.
"""

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit, tables
from ..auth.scope import fleet_unit_ids, unscoped
from ..calendar.models import HolidayPeriod
from ..extensions import db
from ..fleet.guards import check_scope
from ..fleet.models import Vehicle
from ..fleet.plates import InvalidPlate, normalise_plate
from ..timeutil import local_zone, utcnow
from ..transaction import atomic
from .models import ENTERED, Sealing, TripApproval, version_of
from .queries import local_day
from .signals import evidence_changed

TRIP_COLUMNS = {
    "车牌号": "plate",
    "事由": "purpose",
    "目的地": "destination",
    "开始时间": "start_at",
    "结束时间": "end_at",
    "驾驶员": "driver",
    "审批人": "approver",
    "应急": "emergency",
}
TRIP_REQUIRED = ("车牌号", "事由", "开始时间", "结束时间")
SEALING_COLUMNS = {
    "车牌号": "plate",
    "节假日": "holiday",
    "年份": "year",
    "停放地点": "place",
    "钥匙保管人": "key_holder",
    "免于封存": "exempt",
    "免封原因": "exemption_reason",
    "免封批准人": "exemption_approver",
}
SEALING_REQUIRED = ("车牌号", "节假日", "年份")
TIME_FORMATS = (
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
)
# Excel serial day numbers for 1954–2119: a date-time cell saved without its format.
EXCEL_SERIALS = (20000.0, 80000.0)


class InvalidTrip(ValueError):
    """A trip that ends before (or when) it starts."""


class DuplicateSealing(ValueError):
    """The vehicle already has a sealing record for this holiday period."""


class MissingExemption(ValueError):
    """An exemption needs its reason and the approver's name."""


@dataclass(frozen=True)
class Touched:
    """Which cars and local days new records bear on: the reports to check again."""

    vehicle_ids: frozenset[int]
    days: frozenset[date]


def touched(records: Iterable[TripApproval | Sealing]) -> Touched:
    """The cars and local days the records bear on, as they stand now."""
    vehicle_ids: set[int] = set()
    days: set[date] = set()
    for record in records:
        vehicle_ids.add(record.vehicle_id)
        if isinstance(record, Sealing):
            first, last = record.holiday_period.start, record.holiday_period.end
        else:
            first, last = local_day(record.start_at), local_day(record.end_at)
        days.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    return Touched(frozenset(vehicle_ids), frozenset(days))


def add_first_versions(records: list[TripApproval | Sealing], actor: audit.Actor) -> None:
    """Keep each new record's first version (flushed records, as entered)."""
    db.session.add_all(version_of(r, ENTERED, actor, r.entered_at) for r in records)


def parse_local_time(text: str) -> datetime | None:
    """A local date-time as typed or as Excel saved it, in UTC; None if it is not one."""
    text = text.strip()
    for fmt in TIME_FORMATS:
        try:
            naive = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return naive.replace(tzinfo=local_zone()).astimezone(UTC)
    try:
        serial = float(text)
    except ValueError:
        return None
    if not EXCEL_SERIALS[0] <= serial <= EXCEL_SERIALS[1]:
        return None
    from openpyxl.utils.datetime import from_excel  # loaded with the spreadsheet that holds it

    naive = from_excel(serial).replace(second=0, microsecond=0)
    return naive.replace(tzinfo=local_zone()).astimezone(UTC)


def add_trip_approval(
    vehicle: Vehicle,
    *,
    purpose: str,
    start_at: datetime,
    end_at: datetime,
    destination: str = "",
    driver: str = "",
    approver: str = "",
    emergency: bool = False,
    actor: audit.Actor,
) -> TripApproval:
    """Record one trip approval (派车单) for a car the actor manages."""
    check_scope(vehicle.unit_id, actor)
    if end_at <= start_at:
        raise InvalidTrip(vehicle.plate)
    with atomic():
        approval = TripApproval(
            vehicle=vehicle,
            purpose=purpose.strip(),
            destination=destination.strip(),
            start_at=start_at,
            end_at=end_at,
            driver=driver.strip(),
            approver=approver.strip(),
            emergency=emergency,
            entered_at=utcnow(),
            entered_by_id=actor.id,
        )
        db.session.add(approval)
        db.session.flush()
        add_first_versions([approval], actor)
        audit.record("trip_approval_added", approval, after=approval.snapshot(), actor=actor)
        evidence_changed.send(touched([approval]))
    return approval


def sealing_exists(vehicle_id: int, period_id: int, *, besides: int | None = None) -> bool:
    """Whether the car has a sealing record in force for the period (other than `besides`)."""
    query = select(Sealing.id).where(
        Sealing.vehicle_id == vehicle_id,
        Sealing.holiday_period_id == period_id,
        Sealing.cancelled_at.is_(None),
    )
    if besides is not None:
        query = query.where(Sealing.id != besides)
    return db.session.execute(query).first() is not None


def add_sealing(
    vehicle: Vehicle,
    period: HolidayPeriod,
    *,
    place: str = "",
    key_holder: str = "",
    exempt: bool = False,
    exemption_reason: str = "",
    exemption_approver: str = "",
    actor: audit.Actor,
) -> Sealing:
    """Record a car's sealing (or its approved exemption) for a holiday period."""
    check_scope(vehicle.unit_id, actor)
    if exempt and not (exemption_reason.strip() and exemption_approver.strip()):
        raise MissingExemption(vehicle.plate)
    if sealing_exists(vehicle.id, period.id):
        raise DuplicateSealing(vehicle.plate)
    with atomic():
        sealing = Sealing(
            vehicle=vehicle,
            holiday_period=period,
            place=place.strip(),
            key_holder=key_holder.strip(),
            exempt=exempt,
            exemption_reason=exemption_reason.strip() if exempt else "",
            exemption_approver=exemption_approver.strip() if exempt else "",
            entered_at=utcnow(),
            entered_by_id=actor.id,
        )
        db.session.add(sealing)
        db.session.flush()
        add_first_versions([sealing], actor)
        audit.record("sealing_added", sealing, after=sealing.snapshot(), actor=actor)
        evidence_changed.send(touched([sealing]))
    return sealing


# --- import ----------------------------------------------------------------------------


# How a row names its car: text → the car's id, or None after saying what is wrong.
FindVehicle = Callable[[str, list[str]], int | None]


def plate_finder(actor: audit.Actor) -> FindVehicle:
    """Cars named by plate (an import), among those the actor manages."""
    query = select(Vehicle.plate, Vehicle.id)
    if not unscoped(actor):
        query = query.where(Vehicle.unit_id.in_(fleet_unit_ids(actor)))
    vehicles = dict(db.session.execute(query).all())

    def find(text: str, problems: list[str]) -> int | None:
        try:
            plate = normalise_plate(text)
        except InvalidPlate:
            problems.append(_("车牌号“%(plate)s”格式不正确", plate=text))
            return None
        vehicle_id = vehicles.get(plate)
        if vehicle_id is None:
            problems.append(_("车牌号 %(plate)s 未登记或不在您的管理范围内", plate=plate))
        return vehicle_id

    return find


def _time(text: str, label: str, problems: list[str]) -> datetime | None:
    if not text:
        problems.append(_("缺少%(what)s", what=label))
        return None
    parsed = parse_local_time(text)
    if parsed is None:
        problems.append(
            _("%(what)s“%(text)s”无法识别，应为 YYYY-MM-DD HH:MM", what=label, text=text)
        )
    return parsed


def trip_row_checker(find: FindVehicle):
    """The check for one trip approval row (tables.check_rows), for an import or the API."""

    def check(row: tables.Row, problems: list[str]) -> dict:
        v = row.fields(TRIP_COLUMNS)
        vehicle_id = find(v.get("plate", ""), problems)
        purpose = v.get("purpose", "")
        if not purpose:
            problems.append(_("缺少事由"))
        start_at = _time(v.get("start_at", ""), _("开始时间"), problems)
        end_at = _time(v.get("end_at", ""), _("结束时间"), problems)
        if start_at and end_at and end_at <= start_at:
            problems.append(_("结束时间应晚于开始时间"))
        emergency = tables.yes_no(v.get("emergency", ""), blank=False)
        if emergency is None:
            problems.append(_("应急应为“是”或“否”"))
        return {
            "vehicle_id": vehicle_id,
            "purpose": purpose[:200],
            "destination": v.get("destination", "")[:200],
            "start_at": start_at,
            "end_at": end_at,
            "driver": v.get("driver", "")[:60],
            "approver": v.get("approver", "")[:60],
            "emergency": emergency,
        }

    return check


def validate_trip_import(data: bytes, actor: audit.Actor) -> list[dict]:
    """Parse and check every row; raise ImportRejected naming each bad row, else return rows."""
    rows = tables.read_table(data, TRIP_REQUIRED)
    check = trip_row_checker(plate_finder(actor))
    return tables.check_rows(rows, check, _("文件中没有派车单数据。"))


def _periods() -> dict[tuple[str, int], list[HolidayPeriod]]:
    found: dict[tuple[str, int], list[HolidayPeriod]] = {}
    for period in db.session.execute(select(HolidayPeriod)).scalars():
        found.setdefault((period.name, period.start.year), []).append(period)
    return found


def sealing_row_checker(find: FindVehicle):
    """The check for one sealing row (tables.check_rows), for an import or the API."""
    periods = _periods()
    existing = set(
        db.session.execute(
            select(Sealing.vehicle_id, Sealing.holiday_period_id).where(
                Sealing.cancelled_at.is_(None)
            )
        ).all()
    )
    seen: dict[tuple[int, int], int] = {}

    def check(row: tables.Row, problems: list[str]) -> dict:
        v = row.fields(SEALING_COLUMNS)
        vehicle_id = find(v.get("plate", ""), problems)
        name, year = v.get("holiday", ""), v.get("year", "")
        matches = periods.get((name, int(year)), []) if year.isdigit() else []
        period = matches[0] if len(matches) == 1 else None
        if not year.isdigit():
            problems.append(_("年份“%(year)s”应为四位数字，如 2026", year=year))
        elif not matches:
            problems.append(_("没有 %(year)s 年的节假日“%(name)s”", year=year, name=name))
        elif len(matches) > 1:
            problems.append(_("%(year)s 年有多个名为“%(name)s”的节假日", year=year, name=name))
        exempt = tables.yes_no(v.get("exempt", ""), blank=False)
        reason = v.get("exemption_reason", "")
        approver = v.get("exemption_approver", "")
        if exempt is None:
            problems.append(_("免于封存应为“是”或“否”"))
        elif exempt and not (reason and approver):
            problems.append(_("免于封存须填写免封原因（如值班、应急）和免封批准人"))
        elif not exempt and (reason or approver):
            problems.append(_("填写了免封原因或批准人，但“免于封存”不是“是”"))
        if vehicle_id is not None and period is not None:
            key = (vehicle_id, period.id)
            if key in seen:
                problems.append(_("与第 %(line)d 行重复", line=seen[key]))
            elif key in existing:
                problems.append(_("该车辆在此节假日已有封存登记"))
            seen.setdefault(key, row.line)
        return {
            "vehicle_id": vehicle_id,
            "holiday_period_id": period.id if period else None,
            "place": v.get("place", "")[:200],
            "key_holder": v.get("key_holder", "")[:60],
            "exempt": exempt,
            "exemption_reason": reason[:200],
            "exemption_approver": approver[:60],
        }

    return check


def validate_sealing_import(data: bytes, actor: audit.Actor) -> list[dict]:
    """Parse and check every row; raise ImportRejected naming each bad row, else return rows."""
    rows = tables.read_table(data, SEALING_REQUIRED)
    check = sealing_row_checker(plate_finder(actor))
    return tables.check_rows(rows, check, _("文件中没有封存登记数据。"))


def insert_records(model, rows: list[dict], action: str, details: dict, actor: audit.Actor):
    """Insert checked rows in the caller's transaction, with their first versions, one audit
    entry, and the evidence of affected reports checked again."""
    now = utcnow()
    records = [model(**row, entered_at=now, entered_by_id=actor.id) for row in rows]
    db.session.add_all(records)
    db.session.flush()
    add_first_versions(records, actor)
    evidence_changed.send(touched(records))
    audit.record(
        action,
        object_type=model.__tablename__,
        after={"count": len(records)} | details,
        actor=actor,
    )
    return records


def _file(data: bytes, filename: str) -> dict:
    return {"file": filename, "sha256": hashlib.sha256(data).hexdigest()}


@atomic()
def import_trip_approvals(
    data: bytes, *, actor: audit.Actor, filename: str = ""
) -> list[TripApproval]:
    """Import a table of trip approvals all or nothing; returns the new records."""
    rows = validate_trip_import(data, actor)
    details = _file(data, filename)
    return insert_records(TripApproval, rows, "trip_approvals_imported", details, actor)


@atomic()
def import_sealings(data: bytes, *, actor: audit.Actor, filename: str = "") -> list[Sealing]:
    """Import a table of sealing records all or nothing; returns the new records."""
    rows = validate_sealing_import(data, actor)
    return insert_records(Sealing, rows, "sealings_imported", _file(data, filename), actor)
