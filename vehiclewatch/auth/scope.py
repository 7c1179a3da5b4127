"""Who sees what: the one place where visibility rules are written.

Every query for vehicles or case content filters through these functions, so a
rule changed here changes everywhere (lists, counts, charts, exports, detail pages).
"""

from sqlalchemy import ColumnElement, false, or_, select, true

from ..extensions import db
from .models import Role, Unit, UnitKind, User


def subtree_ids(unit: Unit | None):
    """The unit and every unit below it in the tree (none at all for no unit)."""
    if unit is None:
        return select(Unit.id).where(false())
    return select(Unit.id).where(Unit.path.startswith(unit.path, autoescape=True))


def unscoped(actor) -> bool:
    """The system and an operator's commands act on every unit; an account or an API token
    (which carries its unit) only within its scope."""
    return getattr(actor, "unit", None) is None


def fleet_unit_ids(user: User):
    """Units whose vehicles, stickers, trip approvals and sealing the user manages."""
    if user.role != Role.FLEET_ADMIN:
        return select(Unit.id).where(false())
    return subtree_ids(user.unit)


def _reads_cases(user: User) -> bool:
    return user.role in (Role.OFFICER, Role.LEADER)


def case_unit_ids(user: User):
    """Units whose cars' reports the user may read (officers and leaders only)."""
    if not _reads_cases(user):
        return select(Unit.id).where(false())
    return officers_case_unit_ids(user.unit)


def officers_case_unit_ids(unit: Unit):
    """Units whose cars' reports the officers and leaders of `unit` read; an API token that
    reads reports reads exactly these for its unit."""
    if unit.kind == UnitKind.CITY:
        return select(Unit.id).where(true())
    return select(Unit.id).where(Unit.oversight_id == unit.jurisdiction_id)


def jurisdiction_case_unit_ids(jurisdiction: Unit):
    """Units whose cars' reports a jurisdiction's commission handles (its officers' case
    scope): the city handles all of them; a county, the units it oversees."""
    if jurisdiction.kind == UnitKind.CITY:
        return select(Unit.id).where(true())
    return select(Unit.id).where(Unit.oversight_id == jurisdiction.id)


def in_fleet_scope(user: User, unit_id_column) -> ColumnElement[bool]:
    return unit_id_column.in_(fleet_unit_ids(user))


def in_case_scope(user: User, unit_id_column) -> ColumnElement[bool]:
    """The user's case scope as a condition on a unit column (officers and leaders only)."""
    if not _reads_cases(user):
        return false()
    return officers_case_scope(user.unit, unit_id_column)


def officers_case_scope(unit: Unit, unit_id_column) -> ColumnElement[bool]:
    """The case scope of the officers of `unit` as a condition on a unit column. A county's
    units are read first and passed as values: given a subquery, SQLite cannot tell how few
    rows it selects and walks a global index (state, creation time) over every county's
    reports instead."""
    if unit.kind == UnitKind.CITY:
        return true()
    return unit_id_column.in_(db.session.execute(officers_case_unit_ids(unit)).scalars().all())


def in_report_scope(user: User, unit_id_column, reader_column) -> ColumnElement[bool]:
    """Reports: the case scope, plus those a user's cross-check team filed elsewhere."""
    if not _reads_cases(user):
        return false()
    return officers_report_scope(user.unit, unit_id_column, reader_column)


def officers_report_scope(unit: Unit, unit_id_column, reader_column) -> ColumnElement[bool]:
    """The reports the officers of `unit` may open: their case scope, plus those their
    cross-check team filed elsewhere."""
    return or_(officers_case_scope(unit, unit_id_column), reader_column == unit.jurisdiction_id)


def fleet_units(user: User) -> list[Unit]:
    """The units a fleet admin may choose from, in tree order."""
    return list(
        db.session.execute(
            select(Unit).where(Unit.id.in_(fleet_unit_ids(user))).order_by(Unit.path)
        ).scalars()
    )


class NotPermitted(Exception):
    """This actor may not take this action (a role, a scope or a four-eyes rule)."""
