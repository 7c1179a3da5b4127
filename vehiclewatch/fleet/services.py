"""Writes for vehicles: create, edit, retire, import. The only place that changes them."""

import hashlib
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import insert, select

from .. import audit
from ..auth.models import Unit, User
from ..auth.scope import fleet_unit_ids
from ..extensions import db
from ..timeutil import utcnow
from ..transaction import commit
from . import spreadsheets
from .models import CATEGORY_LABELS, STATUS_LABELS, Category, Status, Vehicle
from .plates import InvalidPlate, normalise_plate

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
YES = {"是", "1", "y", "yes", "true"}
NO = {"否", "0", "n", "no", "false"}


class DuplicatePlate(ValueError):
    """Another vehicle already has this plate."""


class VehicleRetired(ValueError):
    """The vehicle has been disposed of and can no longer change."""


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


class ImportRejected(ValueError):
    """At least one row is bad; nothing was imported."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} bad rows")
        self.errors = errors


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
) -> Vehicle:
    """Register a vehicle."""
    plate = normalise_plate(plate)
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
    audit.record("vehicle_created", vehicle, after=vehicle.snapshot())
    commit()
    return vehicle


def update_vehicle(vehicle: Vehicle, **changes) -> Vehicle:
    """Edit a vehicle's plate, unit, category, model, colour, status or marking."""
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
        audit.record("vehicle_updated", vehicle, before=before, after=after)
    commit()
    return vehicle


def retire_vehicle(vehicle: Vehicle, reason: str) -> Vehicle:
    """Mark a vehicle disposed (已处置); it is never deleted."""
    if vehicle.status == Status.DISPOSED:
        raise VehicleRetired(vehicle.plate)
    before = vehicle.snapshot()
    vehicle.status = Status.DISPOSED
    audit.record(
        "vehicle_retired", vehicle, before=before, after=vehicle.snapshot() | {"reason": reason}
    )
    commit()
    return vehicle


def _parse_flag(text: str) -> bool | None:
    lowered = text.lower()
    if lowered in YES or text == "":
        return True
    if lowered in NO:
        return False
    return None


def validate_import(data: bytes, actor: User | None) -> list[dict]:
    """Parse and check every row; raise ImportRejected naming each bad row, else return rows."""
    try:
        header, rows = spreadsheets.read_rows(data)
    except spreadsheets.UnreadableFile:
        raise ImportRejected(
            [RowError(0, _("无法读取文件：请上传 CSV（UTF-8 或 GB18030）或 .xlsx 文件。"))]
        ) from None
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ImportRejected([RowError(1, _("缺少列：%(cols)s", cols="、".join(missing)))])
    unit_query = select(Unit.code, Unit.id)
    if actor is not None:
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
        marked = _parse_flag(v.get("publicly_marked", ""))
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


def import_vehicles(data: bytes, actor: User | None = None, filename: str = "") -> int:
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
    commit()
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


def export_vehicles(vehicles, fmt: str, actor: User | None = None) -> bytes:
    """The given vehicles as CSV or .xlsx, formula cells neutralised; audited."""
    rows = export_rows(vehicles)
    writer = spreadsheets.write_xlsx if fmt == "xlsx" else spreadsheets.write_csv
    data = writer(EXPORT_HEADER, rows)
    audit.record(
        "vehicles_exported",
        object_type="vehicle",
        after={"count": len(rows), "format": fmt},
        actor=actor,
    )
    commit()
    return data
