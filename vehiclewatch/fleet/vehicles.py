"""Writes for one vehicle: create, edit, retire. The only place that changes a car."""

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit
from ..auth.models import Unit
from ..extensions import db
from ..transaction import atomic
from .guards import VehicleRetired, check_scope
from .models import Category, Status, Vehicle
from .plates import normalise_plate
from .stickers import revoke


class DuplicatePlate(ValueError):
    """Another vehicle already has this plate."""


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
    external_id: str | None = None,
    status: str = Status.IN_USE,
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
            external_id=external_id,
            status=status,
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
        revoke(live, _("转为涉密车辆，不再公开标识"), actor)
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
        revoke(vehicle.live_sticker, _("车辆已处置"), actor)
    return vehicle
