"""The unit tree: where a unit sits decides its path, its jurisdiction and who oversees it."""

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..extensions import db
from .models import Unit, UnitKind


class UnitError(ValueError):
    """A unit cannot be created or changed as asked."""


def check_parent(unit: Unit, parent: Unit | None) -> None:
    """Raise UnitError if the unit may not sit under this parent."""
    if parent is None:
        if unit.kind != UnitKind.CITY:
            raise UnitError(_("只有市本级可以作为单位树的根。"))
        return
    if unit.kind == UnitKind.CITY:
        raise UnitError(_("市本级是单位树的根，不能有上级单位。"))
    if unit.kind == UnitKind.COUNTY and parent.kind != UnitKind.CITY:
        raise UnitError(_("县（区）只能直接隶属于市本级。"))
    if parent.path.startswith(unit.path or "\0"):
        raise UnitError(_("单位不能移到它自己的下级单位之下。"))


def place_unit(unit: Unit, parent: Unit | None) -> None:
    """Derive path, jurisdiction and oversight from the parent (unit must have an id)."""
    check_parent(unit, parent)
    unit.path = f"{parent.path}{unit.code}/" if parent else f"/{unit.code}/"
    if unit.kind in (UnitKind.CITY, UnitKind.COUNTY):
        jurisdiction = unit
    else:
        jurisdiction = db.session.get(Unit, parent.jurisdiction_id)
    unit.jurisdiction_id = jurisdiction.id
    unit.oversight_id = jurisdiction.id
    if unit.escalated and jurisdiction.parent_id is not None:
        unit.oversight_id = db.session.get(Unit, jurisdiction.parent_id).jurisdiction_id


def move_unit(unit: Unit, parent: Unit | None, escalated: bool) -> None:
    """Put a unit under a parent, (un)escalated; its subtree follows (inside the caller's
    transaction)."""
    old_path = unit.path
    unit.escalated = escalated
    unit.parent = parent
    place_unit(unit, parent)
    descendants = db.session.execute(
        select(Unit)
        .where(Unit.path.startswith(old_path, autoescape=True), Unit.id != unit.id)
        .order_by(func.length(Unit.path))
    ).scalars()
    for child in descendants:
        place_unit(child, child.parent)
