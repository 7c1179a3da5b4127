"""The vehicle list as a file: import (validate every row, then insert all) and export."""

import hashlib

from flask_babel import gettext as _
from sqlalchemy import insert, select

from .. import audit, tables
from ..auth.models import Unit
from ..auth.scope import fleet_unit_ids, unscoped
from ..extensions import db
from ..timeutil import utcnow
from ..transaction import atomic
from .models import CATEGORY_LABELS, STATUS_LABELS, Status, Vehicle
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


def _reverse(labels: dict) -> dict[str, str]:
    """Both the stable code and its label, mapped to the code."""
    return {str(code): str(code) for code in labels} | {str(v): str(k) for k, v in labels.items()}


def row_checker(actor: audit.Actor, replacing: dict[str, int] | None = None):
    """The check for one vehicle row (tables.check_rows), for an import or the API's upserts.
    `replacing` maps a row's `external_id` to the car it updates: that car's own plate is no
    clash."""
    unit_query = select(Unit.code, Unit.id)
    if not unscoped(actor):
        unit_query = unit_query.where(Unit.id.in_(fleet_unit_ids(actor)))
    units = dict(db.session.execute(unit_query).all())
    existing = dict(db.session.execute(select(Vehicle.plate, Vehicle.id)).all())
    replacing = replacing or {}
    categories, statuses = _reverse(CATEGORY_LABELS), _reverse(STATUS_LABELS)
    seen: dict[str, int] = {}
    now = utcnow()

    def check(row: tables.Row, problems: list[str]) -> dict:
        v = row.fields(IMPORT_COLUMNS)
        try:
            plate = normalise_plate(v.get("plate", ""))
        except InvalidPlate:
            plate = None
            problems.append(_("车牌号“%(plate)s”格式不正确", plate=v.get("plate", "")))
        owner = existing.get(plate)
        if plate and plate in seen:
            problems.append(_("车牌号与第 %(line)d 行重复", line=seen[plate]))
        elif owner is not None and owner != replacing.get(row.values.get("external_id")):
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
        return {
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

    return check


def validate_import(data: bytes, actor: audit.Actor) -> list[dict]:
    """Parse and check every row; raise ImportRejected naming each bad row, else return rows."""
    rows = tables.read_table(data, REQUIRED_COLUMNS)
    return tables.check_rows(rows, row_checker(actor), _("文件中没有车辆数据。"))


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
