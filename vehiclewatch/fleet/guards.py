"""Checks every fleet write makes first: is the unit the actor's, is the car still in service."""

from sqlalchemy import select

from .. import audit
from ..auth.models import Unit
from ..auth.scope import fleet_unit_ids, unscoped
from ..extensions import db


class VehicleRetired(ValueError):
    """The vehicle has been disposed of and can no longer change."""


class OutOfScope(ValueError):
    """The vehicle or unit is not one the actor manages."""


def check_scope(unit_id: int, actor: audit.Actor) -> None:
    """Refuse a write about a unit's cars by anyone but its fleet admins (the system, an
    operator's command, manages every car)."""
    if unscoped(actor):
        return
    allowed = db.session.execute(
        select(Unit.id).where(Unit.id == unit_id, Unit.id.in_(fleet_unit_ids(actor)))
    ).first()
    if allowed is None:
        raise OutOfScope(unit_id)
