"""Writes for vehicles: create, edit, retire, import. The only place that changes them."""

import base64
import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import insert, or_, select, update

from .. import audit, tables
from ..auth.models import Unit
from ..auth.scope import fleet_unit_ids, in_fleet_scope, subtree_ids
from ..extensions import db
from ..fonts import cjk_font
from ..tables import ImportRejected, RowError
from ..timeutil import utcnow
from ..transaction import atomic
from .models import CATEGORY_LABELS, STATUS_LABELS, Category, Status, Sticker, Vehicle
from .plates import InvalidPlate, normalise_plate
from .qr import compute_modules, sticker_url
from .sheets import DEFAULT_LAYOUT, SheetResult, StickerFace, write_sheet

EXPORT_HEADER = [
    "车牌号",
    "单位编码",
    "单位名称",
    "编制类别",
    "品牌型号",
    "颜色",
    "状态",
    "公开标识",
]
IMPORT_COLUMNS = {
    "车牌号": "plate",
    "单位编码": "unit",
    "编制类别": "category",
    "品牌型号": "brand_model",
    "颜色": "colour",
    "状态": "status",
    "公开标识": "publicly_marked",
}
REQUIRED_COLUMNS = ("车牌号", "单位编码", "编制类别")


class DuplicatePlate(ValueError):
    """Another vehicle already has this plate."""


class VehicleRetired(ValueError):
    """The vehicle has been disposed of and can no longer change."""


class OutOfScope(ValueError):
    """The vehicle or unit is not one the actor manages."""


def check_scope(unit_id: int, actor: audit.Actor) -> None:
    """Refuse a write about a unit's cars by anyone but its fleet admins (the system, an
    operator's command, manages every car)."""
    if actor.id is None:
        return
    allowed = db.session.execute(
        select(Unit.id).where(Unit.id == unit_id, Unit.id.in_(fleet_unit_ids(actor)))
    ).first()
    if allowed is None:
        raise OutOfScope(unit_id)


def _reverse(labels: dict) -> dict[str, str]:
    """Both the stable code and its label, mapped to the code."""
    return {str(code): str(code) for code in labels} | {str(v): str(k) for k, v in labels.items()}


def _plate_taken(plate: str, except_id: int | None = None) -> bool:
    query = select(Vehicle.id).where(Vehicle.plate == plate)
    if except_id is not None:
        query = query.where(Vehicle.id != except_id)
    return db.session.execute(query).first() is not None


def create_vehicle(
    plate: str,
    unit: Unit,
    category: str,
    brand_model: str = "",
    colour: str = "",
    publicly_marked: bool = True,
    *,
    actor: audit.Actor,
) -> Vehicle:
    """Register a vehicle."""
    plate = normalise_plate(plate)
    check_scope(unit.id, actor)
    with atomic():
        if _plate_taken(plate):
            raise DuplicatePlate(plate)
        vehicle = Vehicle(
            plate=plate,
            unit=unit,
            category=Category(category),
            brand_model=brand_model.strip(),
            colour=colour.strip(),
            publicly_marked=publicly_marked,
        )
        db.session.add(vehicle)
        db.session.flush()
        audit.record("vehicle_created", vehicle, after=vehicle.snapshot(), actor=actor)
    return vehicle


@atomic()
def update_vehicle(vehicle: Vehicle, *, actor: audit.Actor, **changes) -> Vehicle:
    """Edit a vehicle's plate, unit, category, model, colour, status or marking."""
    check_scope(vehicle.unit_id, actor)
    if "unit" in changes:
        check_scope(changes["unit"].id, actor)
    if vehicle.status == Status.DISPOSED:
        raise VehicleRetired(vehicle.plate)
    before = vehicle.snapshot()
    if "plate" in changes:
        changes["plate"] = normalise_plate(changes["plate"])
        if _plate_taken(changes["plate"], except_id=vehicle.id):
            raise DuplicatePlate(changes["plate"])
    for name, value in changes.items():
        setattr(vehicle, name, value)
    after = vehicle.snapshot()
    if after != before:
        audit.record("vehicle_updated", vehicle, before=before, after=after, actor=actor)
        _follow_vehicle_change(vehicle, before, after, actor)
    return vehicle


def _follow_vehicle_change(vehicle: Vehicle, before: dict, after: dict, actor) -> None:
    """A printed sticker shows the plate and unit: a change makes it need a reprint.
    A car that becomes confidential loses its sticker."""
    live = vehicle.live_sticker
    if live is None:
        return
    if not after["publicly_marked"]:
        _revoke(live, _("转为涉密车辆，不再公开标识"), actor)
    elif (before["plate"], before["unit"]) != (after["plate"], after["unit"]):
        live.needs_reprint = True


@atomic()
def retire_vehicle(vehicle: Vehicle, reason: str, *, actor: audit.Actor) -> Vehicle:
    """Mark a vehicle disposed (已处置); it is never deleted."""
    check_scope(vehicle.unit_id, actor)
    if vehicle.status == Status.DISPOSED:
        raise VehicleRetired(vehicle.plate)
    before = vehicle.snapshot()
    vehicle.status = Status.DISPOSED
    audit.record(
        "vehicle_retired",
        vehicle,
        before=before,
        after=vehicle.snapshot() | {"reason": reason},
        actor=actor,
    )
    if vehicle.live_sticker is not None:
        _revoke(vehicle.live_sticker, _("车辆已处置"), actor)
    return vehicle


def validate_import(data: bytes, actor: audit.Actor) -> list[dict]:
    """Parse and check every row; raise ImportRejected naming each bad row, else return rows."""
    rows = tables.read_table(data, REQUIRED_COLUMNS)
    unit_query = select(Unit.code, Unit.id)
    if actor.id is not None:
        unit_query = unit_query.where(Unit.id.in_(fleet_unit_ids(actor)))
    units = dict(db.session.execute(unit_query).all())
    existing = set(db.session.execute(select(Vehicle.plate)).scalars())
    categories, statuses = _reverse(CATEGORY_LABELS), _reverse(STATUS_LABELS)
    seen: dict[str, int] = {}
    errors: list[RowError] = []
    good: list[dict] = []
    now = utcnow()
    for row in rows:
        v = {IMPORT_COLUMNS[k]: val for k, val in row.values.items() if k in IMPORT_COLUMNS}
        problems = []
        try:
            plate = normalise_plate(v.get("plate", ""))
        except InvalidPlate:
            plate = None
            problems.append(_("车牌号“%(plate)s”格式不正确", plate=v.get("plate", "")))
        if plate and plate in seen:
            problems.append(_("车牌号与第 %(line)d 行重复", line=seen[plate]))
        elif plate and plate in existing:
            problems.append(_("车牌号 %(plate)s 已登记", plate=plate))
        unit_id = units.get(v.get("unit", ""))
        if unit_id is None:
            problems.append(_("单位编码“%(code)s”不存在或不在管辖范围内", code=v.get("unit", "")))
        category = categories.get(v.get("category", ""))
        if category is None:
            problems.append(_("编制类别“%(c)s”无法识别", c=v.get("category", "")))
        status = statuses.get(v["status"]) if v.get("status") else Status.IN_USE
        if status is None:
            problems.append(_("状态“%(s)s”无法识别", s=v.get("status", "")))
        marked = tables.yes_no(v.get("publicly_marked", ""), blank=True)
        if marked is None:
            problems.append(_("公开标识应为“是”或“否”"))
        if plate:
            seen.setdefault(plate, row.line)
        if problems:
            errors.append(RowError(row.line, "；".join(problems)))
            continue
        good.append(
            {
                "plate": plate,
                "unit_id": unit_id,
                "category": category,
                "brand_model": v.get("brand_model", "")[:80],
                "colour": v.get("colour", "")[:40],
                "status": str(status),
                "publicly_marked": marked,
                "created_at": now,
                "updated_at": now,
            }
        )
    if errors:
        raise ImportRejected(errors)
    if not good:
        raise ImportRejected([RowError(0, _("文件中没有车辆数据。"))])
    return good


@atomic()
def import_vehicles(data: bytes, *, actor: audit.Actor, filename: str = "") -> int:
    """Import a vehicle table all or nothing; returns how many vehicles were added."""
    rows = validate_import(data, actor)
    db.session.execute(insert(Vehicle), rows)
    audit.record(
        "vehicles_imported",
        object_type="vehicle",
        after={
            "count": len(rows),
            "file": filename,
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        actor=actor,
    )
    return len(rows)


def export_rows(vehicles) -> list[list]:
    return [
        [
            v.plate,
            v.unit.code,
            v.unit.name,
            v.category_label,
            v.brand_model,
            v.colour,
            v.status_label,
            "是" if v.publicly_marked else "否",
        ]
        for v in vehicles
    ]


@atomic()
def export_vehicles(vehicles, fmt: str, *, actor: audit.Actor) -> bytes:
    """The given vehicles as CSV or .xlsx, formula cells neutralised; audited."""
    rows = export_rows(vehicles)
    data = tables.write(fmt, EXPORT_HEADER, rows)
    audit.record(
        "vehicles_exported",
        object_type="vehicle",
        after={"count": len(rows), "format": fmt},
        actor=actor,
    )
    return data


# --- stickers ----------------------------------------------------------------

SHORT_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
SHORT_CODE_LENGTH = 8
TOKEN_BYTES = 15  # 120 bits: 24 base32 characters, no padding


class ConfidentialVehicle(ValueError):
    """A confidential (not publicly marked) vehicle never gets a sticker."""


class StickerAlreadyIssued(ValueError):
    """The vehicle already has a live sticker: reissue it instead."""


class NoLiveSticker(ValueError):
    """There is no live sticker to reissue."""


def new_token() -> str:
    return base64.b32encode(secrets.token_bytes(TOKEN_BYTES)).decode("ascii")


def new_short_code() -> str:
    return "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))


def _unique_short_code() -> str:
    while True:
        code = new_short_code()
        if not db.session.execute(select(Sticker.id).where(Sticker.short_code == code)).first():
            return code


def _sticker_snapshot(sticker: Sticker) -> dict:
    return {
        "vehicle": sticker.vehicle.plate,
        "short_code": sticker.short_code,
        "generation": sticker.generation,
        "revoked_at": sticker.revoked_at,
        "revoke_reason": sticker.revoke_reason,
    }


def _issue(vehicle: Vehicle, actor: audit.Actor) -> Sticker:
    if not vehicle.publicly_marked:
        raise ConfidentialVehicle(vehicle.plate)
    if vehicle.status == Status.DISPOSED:
        raise VehicleRetired(vehicle.plate)
    if vehicle.live_sticker is not None:
        raise StickerAlreadyIssued(vehicle.plate)
    token = new_token()
    url = sticker_url(current_app.config["PUBLIC_BASE_URL"], token)
    sticker = Sticker(
        vehicle=vehicle,
        token=token,
        short_code=_unique_short_code(),
        generation=max((s.generation for s in vehicle.stickers), default=0) + 1,
        url=url,
        qr_modules=compute_modules(url),
    )
    db.session.add(sticker)
    db.session.flush()
    audit.record("sticker_issued", sticker, after=_sticker_snapshot(sticker), actor=actor)
    return sticker


def _revoke(sticker: Sticker, reason: str, actor: audit.Actor) -> None:
    before = _sticker_snapshot(sticker)
    sticker.revoked_at = utcnow()
    sticker.revoke_reason = reason
    audit.record(
        "sticker_revoked", sticker, before=before, after=_sticker_snapshot(sticker), actor=actor
    )


@atomic()
def issue_sticker(vehicle: Vehicle, *, actor: audit.Actor) -> Sticker:
    """Give a vehicle its first (or, after a revocation, its next) sticker."""
    check_scope(vehicle.unit_id, actor)
    return _issue(vehicle, actor)


@atomic()
def reissue_sticker(vehicle: Vehicle, reason: str, *, actor: audit.Actor) -> Sticker:
    """Revoke the live sticker (keeping it in the history) and issue a new one."""
    check_scope(vehicle.unit_id, actor)
    live = vehicle.live_sticker
    if live is None:
        raise NoLiveSticker(vehicle.plate)
    _revoke(live, reason, actor)
    return _issue(vehicle, actor)


@atomic()
def issue_missing_stickers(vehicle_ids, *, actor: audit.Actor) -> int:
    """Issue first stickers to the eligible vehicles among these that have none; never reissues."""
    has_live = select(Sticker.vehicle_id).where(Sticker.revoked_at.is_(None))
    vehicles = db.session.execute(
        select(Vehicle).where(
            Vehicle.id.in_(vehicle_ids),
            Vehicle.publicly_marked.is_(True),
            Vehicle.status != Status.DISPOSED,
            Vehicle.id.not_in(has_live),
        )
    ).scalars()
    count = 0
    for vehicle in vehicles:
        _issue(vehicle, actor)
        count += 1
    return count


@dataclass(frozen=True)
class Selection:
    """Which vehicles a sticker sheet is for: a unit's subtree, the print queue (live stickers
    never printed or marked "needs reprint"), chosen vehicles, or any combination (all of
    them must hold)."""

    unit_id: int | None = None
    needs_reprint: bool = False
    vehicle_ids: tuple[int, ...] = ()


class NothingToPrint(ValueError):
    """The selection holds no vehicle that can carry a sticker."""


def selected_vehicle_ids(selection: Selection, actor: audit.Actor):
    """The eligible (publicly marked, not disposed) vehicles of a selection, within scope."""
    query = select(Vehicle.id).where(
        Vehicle.publicly_marked.is_(True), Vehicle.status != Status.DISPOSED
    )
    if actor.id is not None:
        query = query.where(in_fleet_scope(actor, Vehicle.unit_id))
    if selection.unit_id:
        unit = db.session.get(Unit, selection.unit_id)
        query = query.where(Vehicle.unit_id.in_(subtree_ids(unit)))
    if selection.vehicle_ids:
        query = query.where(Vehicle.id.in_(selection.vehicle_ids))
    if selection.needs_reprint:
        flagged = select(Sticker.vehicle_id).where(
            Sticker.revoked_at.is_(None),
            or_(Sticker.needs_reprint.is_(True), Sticker.printed_at.is_(None)),
        )
        query = query.where(Vehicle.id.in_(flagged))
    return query


def _faces(vehicle_ids) -> Iterator[StickerFace]:
    rows = db.session.execute(
        select(Vehicle.plate, Unit.name, Sticker.short_code, Sticker.url, Sticker.qr_modules)
        .join(Unit, Vehicle.unit_id == Unit.id)
        .join(Sticker, Sticker.vehicle_id == Vehicle.id)
        .where(Sticker.revoked_at.is_(None), Vehicle.id.in_(vehicle_ids))
        .order_by(Unit.path, Vehicle.plate)
        .execution_options(yield_per=500)
    )
    for row in rows:
        yield _face(*row)


def _face(plate: str, unit_name: str, short_code: str, url: str, modules: str) -> StickerFace:
    matrix = [[c == "1" for c in row] for row in modules.split("\n")]
    return StickerFace(plate, unit_name, f"{short_code[:4]}-{short_code[4:]}", url, matrix)


def sticker_face(sticker: Sticker) -> StickerFace:
    """What one printed sticker shows."""
    vehicle = sticker.vehicle
    return _face(
        vehicle.plate, vehicle.unit.name, sticker.short_code, sticker.url, sticker.qr_modules
    )


def print_stickers(
    selection: Selection,
    out: BinaryIO,
    *,
    layout: str = DEFAULT_LAYOUT,
    start: int = 1,
    back: bool = False,
    actor: audit.Actor,
) -> SheetResult:
    """Write the selection's sticker sheet as a PDF. Vehicles without a sticker get their
    first one; a live sticker is never reissued, and no token changes."""
    ids = selected_vehicle_ids(selection, actor)
    with atomic():
        issue_missing_stickers(ids, actor=actor)
        result = write_sheet(
            out,
            _faces(ids),
            layout=layout,
            start=start,
            hotline_local=current_app.config["HOTLINE_LOCAL"],
            back=back,
            font=cjk_font(current_app.config.get("CJK_FONT_PATH")),
        )
        if result.stickers == 0:
            raise NothingToPrint()
        db.session.execute(
            update(Sticker)
            .where(Sticker.revoked_at.is_(None), Sticker.vehicle_id.in_(ids))
            .values(needs_reprint=False, printed_at=utcnow())
        )
        audit.record(
            "stickers_printed",
            object_type="sticker",
            after={
                "count": result.stickers,
                "layout": layout,
                "start": start,
                "unit_id": selection.unit_id,
                "needs_reprint": selection.needs_reprint,
                "vehicle_ids": list(selection.vehicle_ids),
            },
            actor=actor,
        )
    return result
