"""Trip approvals (派车单) and sealing (封存登记): create one or many, read, list, amend and
cancel (every version kept; reports they bear on are rechecked, as after an import)."""

from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import RAISE

from ..dispatch import amendments, batch, queries
from ..dispatch.models import Sealing, TripApproval
from ..fleet import queries as fleet_queries
from ..fleet.guards import OutOfScope
from . import guard
from .paging import page
from .problems import Problem
from .schemas import (
    IDEMPOTENCY_PARAMETER,
    ListArgs,
    Reason,
    SealingAmend,
    SealingIn,
    SealingList,
    SealingOut,
    SealingPage,
    TripAmend,
    TripIn,
    TripList,
    TripOut,
    TripPage,
    bulk_of,
)

trips = Blueprint("trips", __name__, description="派车单（fleet:write）")
sealings = Blueprint("sealings", __name__, description="封存登记（fleet:write）")
IDEMPOTENT = {"parameters": [IDEMPOTENCY_PARAMETER]}


def _record_or_404(model, record_id: int):
    record = queries.record_in_scope(guard.actor(), model, record_id)
    if record is None:
        raise Problem(404, "record_not_found", _("记录不存在或不在管理范围内。"))
    return record


def _changes(body: dict) -> tuple[dict, str]:
    """The amendment's changes as the domain takes them (a car by plate), and its reason."""
    changes = dict(body)
    reason = changes.pop("reason")
    if "vehicle" in changes:
        vehicle = fleet_queries.vehicle_by_external_id(guard.actor(), changes.pop("vehicle"))
        if vehicle is None:
            message = _("该车辆未登记，或不在您的管理范围内。")
            raise Problem(422, "invalid", errors=[{"field": "vehicle", "message": message}])
        changes["plate"] = vehicle.plate
    return changes, reason


def _change(function, model, record_id: int, *args):
    """Amend or cancel through the domain; its refusals as problems."""
    try:
        return function(guard.actor(), record_id, *args)
    except (amendments.RecordNotFound, OutOfScope):
        raise Problem(404, "record_not_found", _("记录不存在或不在管理范围内。")) from None
    except amendments.AlreadyCancelled as exc:
        raise Problem(409, "record_cancelled", exc.message) from None
    except amendments.ChangeRefused as exc:
        field = {"plate": "vehicle"}.get(exc.field, exc.field)
        errors = [{"field": field, "message": exc.message}] if field else None
        code = "nothing_changed" if isinstance(exc, amendments.NothingChanged) else "invalid"
        raise Problem(422, code, exc.message, errors) from None


# --- trip approvals ---------------------------------------------------------------------


@trips.route("", methods=["GET"])
@guard.scope_required("fleet:write")
@trips.arguments(ListArgs, location="query", unknown=RAISE)
@trips.response(200, TripPage)
def list_trips(args):
    """The token's cars' trip approvals, in id order (cancelled ones included)."""
    return page(queries.records_query(guard.actor(), TripApproval), TripApproval.id, args)


@trips.route("", methods=["POST"])
@guard.scope_required("fleet:write")
@guard.idempotent
@trips.arguments(TripIn)
@trips.response(201, TripOut)
@trips.doc(**IDEMPOTENT)
def create_trip(body):
    """Record one trip approval; the same checks as the import."""
    [trip] = batch.add_trip_approvals([body], actor=guard.actor())
    return trip


@trips.route("/bulk", methods=["POST"])
@guard.scope_required("fleet:write")
@guard.idempotent
@trips.arguments(bulk_of(TripIn))
@trips.response(201, TripList)
@trips.doc(**IDEMPOTENT)
def create_trips(body):
    """Record up to 1,000 trip approvals, all or nothing."""
    return {"items": batch.add_trip_approvals(body["items"], actor=guard.actor())}


@trips.route("/<int:trip_id>", methods=["GET"])
@guard.scope_required("fleet:write")
@trips.etag
@trips.response(200, TripOut)
def get_trip(trip_id):
    """One trip approval with every version (ETag)."""
    return _record_or_404(TripApproval, trip_id)


@trips.route("/<int:trip_id>", methods=["PATCH"])
@guard.scope_required("fleet:write")
@trips.arguments(TripAmend)
@trips.response(200, TripOut)
def amend_trip(body, trip_id):
    """Correct a trip approval; the version it replaces is kept. One that newly covers a
    report counts as 补录 (entered after the report)."""
    changes, reason = _changes(body)
    return _change(amendments.amend_trip, TripApproval, trip_id, changes, reason)


@trips.route("/<int:trip_id>/cancel", methods=["POST"])
@guard.scope_required("fleet:write")
@guard.idempotent
@trips.arguments(Reason)
@trips.response(200, TripOut)
@trips.doc(**IDEMPOTENT)
def cancel_trip(body, trip_id):
    """Withdraw a trip approval: it stays with its versions but no longer counts."""
    return _change(amendments.cancel_trip, TripApproval, trip_id, body["reason"])


# --- sealing ----------------------------------------------------------------------------


@sealings.route("", methods=["GET"])
@guard.scope_required("fleet:write")
@sealings.arguments(ListArgs, location="query", unknown=RAISE)
@sealings.response(200, SealingPage)
def list_sealings(args):
    """The token's cars' sealing records, in id order (cancelled ones included)."""
    return page(queries.records_query(guard.actor(), Sealing), Sealing.id, args)


@sealings.route("", methods=["POST"])
@guard.scope_required("fleet:write")
@guard.idempotent
@sealings.arguments(SealingIn)
@sealings.response(201, SealingOut)
@sealings.doc(**IDEMPOTENT)
def create_sealing(body):
    """Record one car's sealing (or exemption) for a holiday; the same checks as the import."""
    [sealing] = batch.add_sealings([body], actor=guard.actor())
    return sealing


@sealings.route("/bulk", methods=["POST"])
@guard.scope_required("fleet:write")
@guard.idempotent
@sealings.arguments(bulk_of(SealingIn))
@sealings.response(201, SealingList)
@sealings.doc(**IDEMPOTENT)
def create_sealings(body):
    """Record up to 1,000 sealing records, all or nothing."""
    return {"items": batch.add_sealings(body["items"], actor=guard.actor())}


@sealings.route("/<int:sealing_id>", methods=["GET"])
@guard.scope_required("fleet:write")
@sealings.etag
@sealings.response(200, SealingOut)
def get_sealing(sealing_id):
    """One sealing record with every version (ETag)."""
    return _record_or_404(Sealing, sealing_id)


@sealings.route("/<int:sealing_id>", methods=["PATCH"])
@guard.scope_required("fleet:write")
@sealings.arguments(SealingAmend)
@sealings.response(200, SealingOut)
def amend_sealing(body, sealing_id):
    """Correct a sealing record; the version it replaces is kept."""
    changes, reason = _changes(body)
    return _change(amendments.amend_sealing, Sealing, sealing_id, changes, reason)


@sealings.route("/<int:sealing_id>/cancel", methods=["POST"])
@guard.scope_required("fleet:write")
@guard.idempotent
@sealings.arguments(Reason)
@sealings.response(200, SealingOut)
@sealings.doc(**IDEMPOTENT)
def cancel_sealing(body, sealing_id):
    """Withdraw a sealing record: it stays with its versions but no longer counts."""
    return _change(amendments.cancel_sealing, Sealing, sealing_id, body["reason"])
