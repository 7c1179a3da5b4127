"""Correcting (修改) and withdrawing (撤销) trip approvals and sealing records. Nothing is
overwritten without a copy: each change adds a version (who, when, why, and what the record
then said), and a withdrawn record stays, marked, with its versions. Only a record's current
version, and only while it is not withdrawn, counts as evidence; each change rescores the
reports its old and its new content bear on, as an import does, so an approval corrected
after a report to cover it counts as 补录.

`changes` name fields as the import does:
    trip approval: plate, purpose, destination, start_at, end_at (aware datetimes), driver,
                   approver, emergency (bool)
    sealing:       plate, holiday_period_id, place, key_holder, exempt (bool),
                   exemption_reason, exemption_approver
A field left out keeps its value; a sealing no longer exempt loses its exemption's reason and
approver.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit
from ..calendar.models import HolidayPeriod
from ..extensions import db
from ..fleet.guards import OutOfScope, check_scope
from ..fleet.models import Vehicle
from ..fleet.plates import InvalidPlate, normalise_plate
from ..inputs import MAX_ID
from ..timeutil import utcnow
from ..transaction import atomic
from .models import AMENDED, CANCELLED, Sealing, TripApproval, version_of
from .services import Touched, sealing_exists, touched
from .signals import evidence_changed

REASON_MAX = 200


class RecordNotFound(LookupError):
    """No trip approval or sealing record has this id."""


class ChangeRefused(ValueError):
    """A correction or withdrawal that cannot be made. `message` says why in the users'
    language (the pages and the API show it as it is); `field` names the input at fault, or is
    None when the record as a whole is."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidChange(ChangeRefused):
    """A field that does not exist or a value it cannot take, or a missing reason."""


class AlreadyCancelled(ChangeRefused):
    """The record was withdrawn: it can be neither corrected nor withdrawn again."""


class NothingChanged(ChangeRefused):
    """The correction gives every field the value it already has."""


# --- checking values ---------------------------------------------------------------------


def _text(limit: int, *, required: bool = False) -> Callable[[str, Any], str]:
    def check(field: str, value: Any) -> str:
        if not isinstance(value, str):
            raise InvalidChange(_("应为文字。"), field)
        value = value.strip()
        if required and not value:
            raise InvalidChange(_("不能为空。"), field)
        if len(value) > limit:
            raise InvalidChange(_("不能超过 %(n)d 个字。", n=limit), field)
        return value

    return check


def _flag(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidChange(_("应为“是”或“否”。"), field)
    return value


def _moment(field: str, value: Any) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidChange(_("应为带时区的时间。"), field)
    return value


def _period(field: str, value: Any) -> HolidayPeriod:
    period = db.session.get(HolidayPeriod, value) if isinstance(value, int) else None
    if period is None:
        raise InvalidChange(_("没有这个节假日。"), field)
    return period


TRIP_FIELDS: dict[str, Callable[[str, Any], Any]] = {
    "purpose": _text(200, required=True),
    "destination": _text(200),
    "start_at": _moment,
    "end_at": _moment,
    "driver": _text(60),
    "approver": _text(60),
    "emergency": _flag,
}
SEALING_FIELDS: dict[str, Callable[[str, Any], Any]] = {
    "holiday_period_id": _period,
    "place": _text(200),
    "key_holder": _text(60),
    "exempt": _flag,
    "exemption_reason": _text(200),
    "exemption_approver": _text(60),
}


def _vehicle(value: Any, actor: audit.Actor) -> Vehicle:
    """The car a plate names, if the actor manages it; an unknown car and another unit's car
    get the same answer."""
    refused = InvalidChange(_("该车牌号未登记，或不在您的管理范围内。"), "plate")
    try:
        plate = normalise_plate(value) if isinstance(value, str) else None
    except InvalidPlate:
        raise InvalidChange(
            _("车牌号格式不正确，例如 藏A·12345 或 藏A·D12345。"), "plate"
        ) from None
    vehicle = db.session.execute(select(Vehicle).where(Vehicle.plate == plate)).scalar_one_or_none()
    if vehicle is None:
        raise refused
    try:
        check_scope(vehicle.unit_id, actor)
    except OutOfScope:
        raise refused from None
    return vehicle


def _reason(reason: Any) -> str:
    return _text(REASON_MAX, required=True)("reason", reason)


# Inputs that name another row, and the record's attribute that holds it.
RELATIONS = {"plate": "vehicle", "holiday_period_id": "holiday_period"}


def _checked(fields: dict, changes: Mapping[str, Any], actor: audit.Actor) -> dict[str, Any]:
    """Each change checked and converted (a plate to its car, a period id to the period),
    keyed by the record's attribute."""
    values: dict[str, Any] = {}
    for field, value in changes.items():
        if field == "plate":
            values["vehicle"] = _vehicle(value, actor)
        elif field in fields:
            values[RELATIONS.get(field, field)] = fields[field](field, value)
        else:
            raise InvalidChange(_("没有这一项：%(field)s。", field=field), str(field))
    return values


# --- the record --------------------------------------------------------------------------


def _current(model, record_id: int, actor: audit.Actor):
    """The record, locked for the change, if it exists, the actor manages its car and it was
    not withdrawn."""
    if not isinstance(record_id, int) or not 0 < record_id <= MAX_ID:
        raise RecordNotFound(record_id)
    # Locked by id alone: PostgreSQL locks no row of an outer join (the eager loads).
    db.session.execute(select(model.id).where(model.id == record_id).with_for_update())
    record = db.session.get(model, record_id, populate_existing=True)
    if record is None:
        raise RecordNotFound(record_id)
    check_scope(record.vehicle.unit_id, actor)
    if record.cancelled_at is not None:
        raise AlreadyCancelled(_("该记录已撤销，不能再修改或撤销。"))
    return record


def _new_version(record, change: str, actor: audit.Actor, reason: str, before: dict, was):
    """Count and keep the record's new version, audit it and rescore what the record bore on
    before and after."""
    now = utcnow()
    record.version += 1
    if change == AMENDED:
        record.amended_at = now
    else:
        record.cancelled_at = now
    db.session.flush()
    db.session.add(version_of(record, change, actor, now, reason))
    action = f"{record.__tablename__}_{change}"
    audit.record(
        action, record, before=before, after={**record.snapshot(), "reason": reason}, actor=actor
    )
    now_touches = touched([record])
    evidence_changed.send(
        Touched(was.vehicle_ids | now_touches.vehicle_ids, was.days | now_touches.days)
    )


def _amend(model, fields, record_id, changes, reason, actor, check):
    if not isinstance(changes, Mapping) or not changes:
        raise InvalidChange(_("没有要修改的内容。"))
    reason = _reason(reason)
    with atomic():
        record = _current(model, record_id, actor)
        values = _checked(fields, changes, actor)
        check(record, values)
        if all(getattr(record, name) == value for name, value in values.items()):
            raise NothingChanged(_("修改后的内容与原来相同。"))
        before, was = record.snapshot(), touched([record])
        for field, value in values.items():
            setattr(record, field, value)
        _new_version(record, AMENDED, actor, reason, before, was)
    return record


def _check_trip(record: TripApproval, values: dict) -> None:
    start = values.get("start_at", record.start_at)
    end = values.get("end_at", record.end_at)
    if end <= start:
        raise InvalidChange(_("结束时间应晚于开始时间。"), "end_at")


def _check_sealing(record: Sealing, values: dict) -> None:
    period = values.get("holiday_period", record.holiday_period)
    vehicle = values.get("vehicle", record.vehicle)
    if sealing_exists(vehicle.id, period.id, besides=record.id):
        raise InvalidChange(_("该车辆在此节假日已有封存登记。"), "holiday_period_id")
    if not values.get("exempt", record.exempt):
        values.update(exempt=False, exemption_reason="", exemption_approver="")
        return
    for field, label in (("exemption_reason", _("原因")), ("exemption_approver", _("批准人"))):
        if not values.get(field, getattr(record, field)):
            raise InvalidChange(_("免于封存须填写%(what)s。", what=label), field)


def _cancel(model, record_id, reason, actor):
    reason = _reason(reason)
    with atomic():
        record = _current(model, record_id, actor)
        _new_version(record, CANCELLED, actor, reason, record.snapshot(), touched([record]))
    return record


def amend_trip(
    actor: audit.Actor, trip_id: int, changes: Mapping[str, Any], reason: str
) -> TripApproval:
    """Correct a trip approval (派车单), keeping the version it replaces; returns it.
    Raises RecordNotFound, OutOfScope (not the actor's car), AlreadyCancelled, InvalidChange
    (a field, a value, the reason, or an end not after the start), NothingChanged."""
    return _amend(TripApproval, TRIP_FIELDS, trip_id, changes, reason, actor, _check_trip)


def cancel_trip(actor: audit.Actor, trip_id: int, reason: str) -> TripApproval:
    """Withdraw a trip approval: it stays, with its versions, but no longer counts; returns
    it. Raises RecordNotFound, OutOfScope, AlreadyCancelled, InvalidChange (no reason)."""
    return _cancel(TripApproval, trip_id, reason, actor)


def amend_sealing(
    actor: audit.Actor, sealing_id: int, changes: Mapping[str, Any], reason: str
) -> Sealing:
    """Correct a sealing record (封存登记), keeping the version it replaces; returns it.
    Raises RecordNotFound, OutOfScope, AlreadyCancelled, InvalidChange (a field, a value, the
    reason, an exemption without reason or approver, or a second record for the car and
    holiday), NothingChanged."""
    return _amend(Sealing, SEALING_FIELDS, sealing_id, changes, reason, actor, _check_sealing)


def cancel_sealing(actor: audit.Actor, sealing_id: int, reason: str) -> Sealing:
    """Withdraw a sealing record: it stays, with its versions, but no longer counts; returns
    it. Raises RecordNotFound, OutOfScope, AlreadyCancelled, InvalidChange (no reason)."""
    return _cancel(Sealing, sealing_id, reason, actor)
