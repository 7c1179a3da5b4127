"""Vehicles by the fleet platform's external id: upsert one or many, read, list, retire."""

import re

from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import RAISE

from ..fleet import queries, sync
from ..fleet.guards import VehicleRetired
from ..fleet.models import Vehicle
from ..fleet.vehicles import retire_vehicle
from . import guard
from .paging import page
from .problems import Problem
from .schemas import (
    EXTERNAL_ID_PARAMETER,
    EXTERNAL_ID_PATTERN,
    IDEMPOTENCY_PARAMETER,
    Reason,
    UpsertResult,
    VehicleBulk,
    VehicleIn,
    VehicleListArgs,
    VehicleOut,
    VehiclePage,
)

blp = Blueprint("vehicles", __name__, description="车辆（fleet:write）")


def vehicle_or_404(external_id: str) -> Vehicle:
    """A car the token manages, by external id; any other is 404, as if it did not exist."""
    vehicle = None
    if re.fullmatch(EXTERNAL_ID_PATTERN, external_id):
        vehicle = queries.vehicle_by_external_id(guard.actor(), external_id)
    if vehicle is None:
        raise Problem(404, "vehicle_not_found", _("车辆不存在或不在管理范围内。"))
    return vehicle


def _upsert(items: list[dict]) -> list[tuple[Vehicle, bool]]:
    try:
        return sync.upsert_vehicles(items, actor=guard.actor())
    except sync.ExternalIdTaken:
        raise Problem(
            409, "external_id_taken", _("该 external_id 已属于其他单位的车辆。")
        ) from None
    except VehicleRetired:
        raise Problem(409, "vehicle_retired", _("该车辆已处置，不能再修改。")) from None


@blp.route("", methods=["GET"])
@guard.scope_required("fleet:write")
@blp.arguments(VehicleListArgs, location="query", unknown=RAISE)
@blp.response(200, VehiclePage)
def list_vehicles(args):
    """The token's cars, in id order; filter by unit (its subtree), status or plate."""
    unit_id = None
    if args.get("unit"):
        unit = queries.unit_by_code(args["unit"])
        unit_id = unit.id if unit else -1
    query = queries.vehicle_query(
        guard.actor(), q=args.get("plate", ""), unit_id=unit_id, status=args.get("status", "")
    )
    return page(query, Vehicle.id, args)


@blp.route("/<external_id>", methods=["GET"], parameters=[EXTERNAL_ID_PARAMETER])
@guard.scope_required("fleet:write")
@blp.etag
@blp.response(200, VehicleOut)
def get_vehicle(external_id):
    """One car (ETag; If-None-Match answers 304 when unchanged)."""
    return vehicle_or_404(external_id)


@blp.route("/<external_id>", methods=["PUT"], parameters=[EXTERNAL_ID_PARAMETER])
@guard.scope_required("fleet:write")
@blp.arguments(VehicleIn)
@blp.response(200, VehicleOut)
@blp.alt_response(201, schema=VehicleOut, description="created")
def put_vehicle(body, external_id):
    """Create or update one car; the same checks as the vehicle import."""
    if not re.fullmatch(EXTERNAL_ID_PATTERN, external_id):
        raise Problem(404, "vehicle_not_found", _("车辆不存在或不在管理范围内。"))
    [(vehicle, created)] = _upsert([body | {"external_id": external_id}])
    return vehicle, 201 if created else 200


@blp.route("/bulk", methods=["POST"])
@guard.scope_required("fleet:write")
@guard.idempotent
@blp.arguments(VehicleBulk)
@blp.response(200, UpsertResult)
@blp.doc(parameters=[IDEMPOTENCY_PARAMETER])
def bulk_vehicles(body):
    """Create or update up to 1,000 cars, all or nothing."""
    results = _upsert(body["items"])
    created = sum(1 for _vehicle, new in results if new)
    return {
        "created": created,
        "updated": len(results) - created,
        "items": [vehicle for vehicle, _new in results],
    }


@blp.route("/<external_id>/retire", methods=["POST"], parameters=[EXTERNAL_ID_PARAMETER])
@guard.scope_required("fleet:write")
@guard.idempotent
@blp.arguments(Reason)
@blp.response(200, VehicleOut)
@blp.doc(parameters=[IDEMPOTENCY_PARAMETER])
def retire(body, external_id):
    """Mark a car disposed (已处置); its sticker is revoked. It is never deleted."""
    vehicle = vehicle_or_404(external_id)
    try:
        return retire_vehicle(vehicle, body["reason"], actor=guard.actor())
    except VehicleRetired:
        raise Problem(409, "vehicle_retired", _("该车辆已处置。")) from None
