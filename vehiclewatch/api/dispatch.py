"""Trip approvals (派车单) and sealing (封存登记), the same routes for each: create one or
many, read, list, amend and cancel (every version kept; the reports they bear on are
rechecked, as after an import)."""

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema

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
    SealingOut,
    TripAmend,
    TripIn,
    TripOut,
    bulk_of,
    list_of,
    page_of,
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


def _change(function, record_id: int, *args):
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


@dataclass(frozen=True)
class Kind:
    """One kind of record and what the API does with it."""

    blueprint: Blueprint
    model: type
    add: Callable  # batch.add_…(items, actor=…)
    amend: Callable  # amendments.amend_…(actor, id, changes, reason)
    cancel: Callable  # amendments.cancel_…(actor, id, reason)
    new: type[Schema]
    changes: type[Schema]
    out: type[Schema]


def _routes(kind: Kind) -> None:
    """The same seven routes for trip approvals and for sealing."""
    blp, model = kind.blueprint, kind.model

    @blp.route("", methods=["GET"])
    @guard.scope_required("fleet:write")
    @blp.arguments(ListArgs, location="query", unknown=RAISE)
    @blp.response(200, page_of(kind.out))
    def list_records(args):
        """The token's cars' records, in id order (cancelled ones included)."""
        return page(queries.records_query(guard.actor(), model), model.id, args)

    @blp.route("", methods=["POST"])
    @guard.scope_required("fleet:write")
    @guard.idempotent
    @blp.arguments(kind.new)
    @blp.response(201, kind.out)
    @blp.doc(**IDEMPOTENT)
    def create(body):
        """Record one; the same checks as the import."""
        [record] = kind.add([body], actor=guard.actor())
        return record

    @blp.route("/bulk", methods=["POST"])
    @guard.scope_required("fleet:write")
    @guard.idempotent
    @blp.arguments(bulk_of(kind.new))
    @blp.response(201, list_of(kind.out))
    @blp.doc(**IDEMPOTENT)
    def create_many(body):
        """Record up to 1,000, all or nothing."""
        return {"items": kind.add(body["items"], actor=guard.actor())}

    @blp.route("/<int:record_id>", methods=["GET"])
    @guard.scope_required("fleet:write")
    @blp.etag
    @blp.response(200, kind.out)
    def get(record_id):
        """One record with every version (ETag)."""
        return _record_or_404(model, record_id)

    @blp.route("/<int:record_id>", methods=["PATCH"])
    @guard.scope_required("fleet:write")
    @blp.arguments(kind.changes)
    @blp.response(200, kind.out)
    def amend(body, record_id):
        """Correct a record; the version it replaces is kept. An approval that newly covers
        a report counts as 补录 (entered after the report)."""
        changes, reason = _changes(body)
        return _change(kind.amend, record_id, changes, reason)

    @blp.route("/<int:record_id>/cancel", methods=["POST"])
    @guard.scope_required("fleet:write")
    @guard.idempotent
    @blp.arguments(Reason)
    @blp.response(200, kind.out)
    @blp.doc(**IDEMPOTENT)
    def cancel(body, record_id):
        """Withdraw a record: it stays with its versions but no longer counts."""
        return _change(kind.cancel, record_id, body["reason"])


_routes(
    Kind(
        trips,
        TripApproval,
        batch.add_trip_approvals,
        amendments.amend_trip,
        amendments.cancel_trip,
        TripIn,
        TripAmend,
        TripOut,
    )
)
_routes(
    Kind(
        sealings,
        Sealing,
        batch.add_sealings,
        amendments.amend_sealing,
        amendments.cancel_sealing,
        SealingIn,
        SealingAmend,
        SealingOut,
    )
)
