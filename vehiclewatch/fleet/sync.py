"""Keeping vehicles in step with a fleet platform: upsert by the platform's external id, one
car or many (all or nothing, with the import's row checks), and look-ups by that id."""

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit, tables
from ..auth.models import Unit
from ..auth.scope import fleet_unit_ids, unscoped
from ..extensions import db
from ..transaction import atomic
from .guards import check_scope
from .models import Vehicle
from .plates import InvalidPlate, normalise_plate
from .vehicle_files import IMPORT_COLUMNS, row_checker
from .vehicles import create_vehicle, update_vehicle

HEADERS = {name: header for header, name in IMPORT_COLUMNS.items()}
FIELDS = ("plate", "unit_id", "category", "brand_model", "colour", "status", "publicly_marked")


class ExternalIdTaken(ValueError):
    """The external id belongs to a car outside the actor's units."""


def _as_row(index: int, item: dict) -> tables.Row:
    """An API item as an import row: the same column names, so the same checks apply. Its
    line is the item's position (1-based)."""
    values = {HEADERS[k]: str(v) for k, v in item.items() if k in HEADERS}
    if "publicly_marked" in item:
        values[HEADERS["publicly_marked"]] = "是" if item["publicly_marked"] else "否"
    return tables.Row(index, values | {"external_id": item["external_id"]})


def _current(items: list[dict], actor) -> dict[str, Vehicle]:
    """The cars the items name: by external id, else (adopting a car entered on the pages
    or imported) by plate among cars that have no external id yet."""
    found = db.session.execute(
        select(Vehicle).where(Vehicle.external_id.in_([item["external_id"] for item in items]))
    )
    current = {v.external_id: v for v in found.scalars()}
    plates = {}
    for item in items:
        try:
            plates[normalise_plate(item["plate"])] = item["external_id"]
        except InvalidPlate:
            continue
    unclaimed = select(Vehicle).where(Vehicle.plate.in_(plates), Vehicle.external_id.is_(None))
    if not unscoped(actor):
        unclaimed = unclaimed.where(Vehicle.unit_id.in_(fleet_unit_ids(actor)))
    for vehicle in db.session.execute(unclaimed).scalars():
        current.setdefault(plates[vehicle.plate], vehicle)
    return current


def _apply(checked: dict, external_id: str, current: Vehicle | None, actor) -> Vehicle:
    values = {k: checked[k] for k in FIELDS}
    unit = db.session.get(Unit, values.pop("unit_id"))
    if current is None:
        plate = values.pop("plate")
        return create_vehicle(plate, unit, actor=actor, external_id=external_id, **values)
    changes = {k: v for k, v in values.items() if getattr(current, k) != v}
    if current.external_id != external_id:
        changes["external_id"] = external_id
    if unit.id != current.unit_id:
        changes["unit"] = unit
    return update_vehicle(current, actor=actor, **changes) if changes else current


def _checker(items: list[dict], current: dict[str, Vehicle], actor):
    """The import's row check, plus: one item per external id."""
    check = row_checker(actor, {key: v.id for key, v in current.items()})
    first: dict[str, int] = {}

    def check_item(row: tables.Row, problems: list[str]) -> dict:
        checked = check(row, problems)
        line = first.setdefault(row.values["external_id"], row.line)
        if line != row.line:
            problems.append(_("external_id 与第 %(line)d 项重复", line=line))
        return checked

    return check_item


@atomic()
def upsert_vehicles(items: list[dict], *, actor: audit.Actor) -> list[tuple[Vehicle, bool]]:
    """Create or update cars by external id, all or nothing; each item is checked as an
    import row is (ImportRejected names every bad item). Returns (car, created) pairs."""
    current = _current(items, actor)
    for vehicle in current.values():
        try:
            check_scope(vehicle.unit_id, actor)
        except ValueError:
            raise ExternalIdTaken(vehicle.external_id) from None
    rows = tables.check_rows(
        [_as_row(n, item) for n, item in enumerate(items, start=1)],
        _checker(items, current, actor),
        _("没有车辆数据。"),
    )
    results = []
    for row, item in zip(rows, items, strict=True):
        before = current.get(item["external_id"])
        results.append((_apply(row, item["external_id"], before, actor), before is None))
    return results
