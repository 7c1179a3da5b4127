"""The outbox: what the report and bulletin services call, inside their own transaction, to
record an event. One row each, no reads: fan-out to the subscriptions is the worker's job, so
an event is never lost while the worker is down and filing pays one INSERT."""

import uuid

from ..extensions import db
from ..timeutil import utcnow
from .models import BULLETIN_PUBLISHED, REPORT_FILED, REPORT_STATE_CHANGED, Event


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _report_facts(report) -> dict:
    """What a case system may learn of a report: ids, state, category, times. Never the
    reporter, the place, the description, the plate or the photos."""
    return {
        "id": report.id,
        "state": report.state,
        "category": report.category,
        "source": report.source,
        "round": _iso(report.round_start),
        "seen_at": _iso(report.seen_at),
        "filed_at": _iso(report.created_at),
        "state_changed_at": _iso(report.state_changed_at),
    }


def _add(event_type: str, subject_id: int, unit_id: int, data: dict) -> None:
    db.session.add(
        Event(
            event_id=str(uuid.uuid4()),
            type=event_type,
            occurred_at=utcnow(),
            subject_id=subject_id,
            unit_id=unit_id,
            data=data,
        )
    )


def report_filed(report) -> None:
    """A report was filed (flushed: it has its id). Call inside the filing's transaction."""
    _add(REPORT_FILED, report.id, report.unit_id, _report_facts(report) | {"previous_state": None})


def report_state_changed(report, previous_state: str, action: str) -> None:
    """A report's state changed by `action`. Call inside the transition's transaction."""
    facts = _report_facts(report) | {"previous_state": previous_state, "action": action}
    _add(REPORT_STATE_CHANGED, report.id, report.unit_id, facts)


def bulletin_published(bulletin) -> None:
    """A bulletin was published. Call inside the publication's transaction."""
    data = {
        "id": bulletin.id,
        "doc_number": bulletin.doc_number,
        "title": bulletin.title,
        "round": _iso(bulletin.round_start),
        "round_end": _iso(bulletin.round_end),
        "published_at": _iso(bulletin.published_at),
        "corrects": bulletin.corrects_id,
    }
    _add(BULLETIN_PUBLISHED, bulletin.id, bulletin.jurisdiction_id, data)
