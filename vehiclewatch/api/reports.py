"""Reports for case-handling systems (reports:read): a list and one report with its timeline,
evidence and photos, scoped exactly as for an officer of the token's unit. Read only, and
never the reporter's contact."""

from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import RAISE
from sqlalchemy.orm import selectinload

from ..dispatch.queries import dispatch_evidence
from ..reports import queries, workflow
from ..reports.accel import send_photo
from ..reports.consistency import photo_flags
from ..reports.models import Report
from ..reports.scoring import score_parts
from . import guard
from .links import absolute
from .paging import page
from .problems import Problem
from .schemas import PhotoArgs, ReportListArgs, ReportOut, ReportPage

blp = Blueprint(
    "reports",
    __name__,
    description="举报（reports:read）. Read only: every action on a report is a named "
    "officer's act on the officers' pages (`page_url`). A reporter's name and phone are never "
    "returned, not even encrypted: revealing a real-name reporter is an audited act of an "
    "officer with that right, on the officers' pages only.",
)
NOT_FOUND = "report_not_found"


def _not_found() -> Problem:
    return Problem(404, NOT_FOUND, _("举报不存在或不在管辖范围内。"))


def _person(user) -> dict | None:
    return {"username": user.username, "name": user.display_name} if user else None


def _summary(report: Report, updated_at) -> dict:
    unit = report.unit
    return {
        "id": report.id,
        "url": absolute("reports.get_report", report_id=report.id),
        "page_url": absolute("review.report", report_id=report.id),
        "state": report.state,
        "category": report.category,
        "source": report.source,
        "unit": unit.code,
        "jurisdiction": unit.jurisdiction.code if unit.jurisdiction else None,
        "plate": report.plate,
        "vehicle": report.vehicle.external_id if report.vehicle else None,
        "seen_at": report.seen_at,
        "round": report.round_start,
        "created_at": report.created_at,
        "state_changed_at": report.state_changed_at,
        "updated_at": updated_at or report.created_at,
        "score": report.score,
        "flagged": report.flagged,
        "burst": report.burst,
    }


def _dispatch(report: Report) -> dict | None:
    if report.vehicle is None:
        return None
    found = dispatch_evidence(report.vehicle, report.seen_at, report.created_at)
    return {
        "data_exists": found.data_exists,
        "sealed": found.sealed,
        "not_covered": found.not_covered,
        "late": found.late,
        "covering": [a.id for a in found.covering],
    }


def _photo(report: Report, photo) -> dict:
    link = {"report_id": report.id, "photo_id": photo.id}
    return {
        "id": photo.id,
        "url": absolute("reports.photo", **link),
        "display_url": absolute("reports.photo", size="display", **link),
        "width": photo.width,
        "height": photo.height,
        "added_at": photo.added_at,
        "taken_at": photo.taken_at,
        "latitude": photo.latitude,
        "longitude": photo.longitude,
        "flags": photo_flags(report, photo),
    }


def _event(event) -> dict:
    return {
        "at": event.at,
        "kind": event.kind,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "actor": _person(event.actor),
        "public_text": event.public_text,
        "note": event.note,
    }


def _detail(report: Report) -> dict:
    """Everything the officers' page shows of the case but the reporter's contact."""
    latest = max((e.at for e in report.events), default=None)
    return _summary(report, latest) | {
        "place": report.place,
        "latitude": report.latitude,
        "longitude": report.longitude,
        "description": report.description,
        "plate_matches": report.plate_matches,
        "real_name": report.real_name,
        "assigned_to": _person(report.assigned_to),
        "method": report.method,
        "finding": report.finding,
        "outcome": report.outcome,
        "reject_reason": report.reject_reason,
        "transferred_to": report.transferred_to,
        "duplicate_of": report.duplicate_of_id,
        "public_reply": report.public_reply,
        "replied_at": report.replied_at,
        "objected_at": report.objected_at,
        "acknowledged_at": report.acknowledged_at,
        "legal_hold": report.legal_hold,
        "photos_purged_at": report.photos_purged_at,
        "evidence": {
            "score": report.score,
            "parts": score_parts(report),
            "dispatch": _dispatch(report),
        },
        "photos": [_photo(report, p) for p in report.photos],
        "events": [_event(e) for e in report.events],
    }


def _filters(args: dict) -> queries.ReportFilters:
    return queries.ReportFilters(
        state=args.get("state"),
        category=args.get("category"),
        unit_code=args.get("unit"),
        round_start=args.get("round_start"),
        filed_since=args.get("since"),
        updated_since=args.get("updated_since"),
    )


@blp.route("", methods=["GET"])
@guard.scope_required("reports:read")
@blp.arguments(ReportListArgs, location="query", unknown=RAISE)
@blp.response(200, ReportPage)
def list_reports(args):
    """The reports an officer of the token's unit has in the queue (every state), in id
    order; filter by state, category, unit (its subtree), round, filing time (`since`) or
    any change since a moment (`updated-since`). Summaries: read one report for its
    content, timeline, evidence and photos."""
    query = queries.queue_query(guard.actor().unit, _filters(args)).options(
        selectinload(Report.vehicle)  # each summary names its car
    )
    found = page(query, Report.id, args)
    changed = queries.last_changes([r.id for r in found["items"]])
    found["items"] = [_summary(r, changed.get(r.id)) for r in found["items"]]
    return found


@blp.route("/<int:report_id>", methods=["GET"])
@guard.scope_required("reports:read")
@blp.etag
@blp.response(200, ReportOut)
def get_report(report_id):
    """One report as an officer of the token's unit may open it: its content, timeline,
    evidence and score, and links to its photos; any other report is 404. Each read is
    recorded as a view of the case, named `api:TOKEN` in the page's 查阅记录, as an
    officer's opening of the page is."""
    report = queries.readable_report(guard.actor().unit, report_id)
    if report is None:
        raise _not_found()
    workflow.record_view(report, guard.actor())
    return _detail(report)


@blp.route("/<int:report_id>/photos/<int:photo_id>", methods=["GET"])
@guard.scope_required("reports:read")
@blp.arguments(PhotoArgs, location="query", unknown=RAISE)
@blp.doc(
    responses={
        "200": {
            "description": "the photo, re-encoded without its metadata",
            "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
)
def photo(args, report_id, photo_id):
    """A photo of a report the token may read (the same check as the report); 404 for any
    other."""
    found = queries.readable_photo(guard.actor().unit, report_id, photo_id)
    if found is None:
        raise Problem(404, "photo_not_found", _("照片不存在或不在管辖范围内。"))
    name = found.evidence_name if args["size"] == "evidence" else found.display_name
    return send_photo(name, f"report-{report_id}-photo-{photo_id}-{args['size']}.jpg")
