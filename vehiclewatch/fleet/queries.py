"""Reads for vehicles, always through the viewer's scope."""

from flask import abort
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager

from ..auth.models import Unit, User
from ..auth.scope import in_fleet_scope, subtree_ids
from ..extensions import db
from .models import Sticker, Vehicle
from .plates import plate_search_key

PAGE_SIZE = 50


def vehicle_or_404(user: User, vehicle_id: int) -> Vehicle:
    """A vehicle the user manages; any other answers 404, as if it did not exist."""
    vehicle = db.session.execute(
        select(Vehicle).where(Vehicle.id == vehicle_id, in_fleet_scope(user, Vehicle.unit_id))
    ).scalar_one_or_none()
    if vehicle is None:
        abort(404)
    return vehicle


def vehicle_query(user: User, *, q="", unit_id=None, category="", status="", reprint=False):
    query = select(Vehicle).where(in_fleet_scope(user, Vehicle.unit_id))
    if q:
        key = plate_search_key(q)
        query = query.where(func.replace(Vehicle.plate, "·", "").contains(key, autoescape=True))
    if unit_id:
        query = query.where(Vehicle.unit_id.in_(subtree_ids(db.session.get(Unit, unit_id))))
    if category:
        query = query.where(Vehicle.category == category)
    if status:
        query = query.where(Vehicle.status == status)
    if reprint:
        flagged = select(Sticker.vehicle_id).where(
            Sticker.revoked_at.is_(None), Sticker.needs_reprint.is_(True)
        )
        query = query.where(Vehicle.id.in_(flagged))
    return query


def search_vehicles(user: User, page: int = 1, **filters) -> tuple[list[Vehicle], int]:
    """One page of matching vehicles and the total count."""
    query = vehicle_query(user, **filters)
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db.session.execute(
        query.order_by(Vehicle.plate).limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE)
    ).scalars()
    return list(rows), total


def vehicle_by_plate(plate: str) -> Vehicle | None:
    """Any registered vehicle with this plate, confidential ones included: a typed-plate
    report still reaches the right officers, though the reporter is told nothing more."""
    return db.session.execute(select(Vehicle).where(Vehicle.plate == plate)).scalar_one_or_none()


def print_queue(user: User) -> list[Sticker]:
    """The user's cars whose live sticker was never printed or needs a reprint (a plate or
    unit change, a reissue), in the order sheets print them."""
    return list(
        db.session.execute(
            select(Sticker)
            .join(Sticker.vehicle)
            .join(Unit, Vehicle.unit_id == Unit.id)
            .options(contains_eager(Sticker.vehicle))
            .where(
                in_fleet_scope(user, Vehicle.unit_id),
                Sticker.revoked_at.is_(None),
                or_(Sticker.needs_reprint.is_(True), Sticker.printed_at.is_(None)),
            )
            .order_by(Unit.path, Vehicle.plate)
        ).scalars()
    )


def vehicle_by_external_id(user: User, external_id: str) -> Vehicle | None:
    """The car with this fleet-platform key, if the user (or API token) manages it."""
    return db.session.execute(
        select(Vehicle).where(
            Vehicle.external_id == external_id, in_fleet_scope(user, Vehicle.unit_id)
        )
    ).scalar_one_or_none()


def unit_by_code(code: str) -> Unit | None:
    return db.session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()
