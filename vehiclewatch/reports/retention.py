"""Retention: reporters' contacts and photos are deleted once their keeping period past the
day a report can no longer change has run out, unless a leader holds the report."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select

from .. import audit
from ..auth.models import Role, User
from ..extensions import db
from ..timeutil import utcnow
from ..transaction import atomic
from .models import Report, ReportPhoto
from .photos import remove_photo_files
from .photostore import photo_dir
from .states import Finding, Outcome, State
from .workflow import NotPermitted, handles

# Final without a reply: nothing can change from the day the state was set.
ENDED_STATES = (State.REJECTED, State.DUPLICATE, State.TRANSFERRED)
SUBSTANTIATED = (Finding.TRUE, Finding.PARTLY_TRUE)


def _days(setting: str) -> timedelta:
    return timedelta(days=int(current_app.config[setting]))


def _final_before(cutoff: datetime):
    """Reports that could no longer change at `cutoff`: answered and past the objection
    window, or rejected, duplicate or transferred."""
    window = _days("OBJECTION_WINDOW_DAYS")
    return or_(
        and_(Report.state.in_(ENDED_STATES), Report.state_changed_at <= cutoff),
        and_(Report.state == State.ANSWERED, Report.replied_at <= cutoff - window),
    )


def _substantiated():
    return and_(
        Report.finding.in_(SUBSTANTIATED),
        Report.outcome.is_not(None),
        Report.outcome != Outcome.NONE,
    )


@dataclass
class Due:
    contacts: list[int] = field(default_factory=list)
    photos: list[int] = field(default_factory=list)


def _contacts_due(now: datetime):
    return select(Report.id).where(
        Report.legal_hold.is_(False),
        Report.reporter_name_enc.is_not(None) | Report.reporter_phone_enc.is_not(None),
        _final_before(now - _days("RETAIN_CONTACT_DAYS")),
    )


def _photos_due(now: datetime):
    return select(Report.id).where(
        Report.legal_hold.is_(False),
        select(ReportPhoto.id).where(ReportPhoto.report_id == Report.id).exists(),
        or_(
            and_(~_substantiated(), _final_before(now - _days("RETAIN_PHOTO_DAYS"))),
            and_(_substantiated(), _final_before(now - _days("RETAIN_FINDING_DAYS"))),
        ),
    )


def due(now: datetime | None = None) -> Due:
    """Report ids whose contacts or photos are due for deletion (held reports never are)."""
    now = now or utcnow()
    return Due(
        contacts=list(db.session.scalars(_contacts_due(now).order_by(Report.id))),
        photos=list(db.session.scalars(_photos_due(now).order_by(Report.id))),
    )


def _purge_report(report_id: int, *, actor: audit.Actor) -> list:
    """Delete one report's due data in one transaction, checked again under the row lock (a
    hold or an objection may have come since); returns the photo file names to remove once
    it has committed (a crash in between leaves orphans `photos sweep` finds)."""
    with atomic():
        report = db.session.get(Report, report_id, with_for_update=True)
        now, removed, names = utcnow(), {}, []
        this = Report.id == report_id
        if db.session.scalar(_contacts_due(now).where(this)) is not None:
            report.reporter_name_enc = report.reporter_phone_enc = None
            report.contacts_purged_at = now
            removed["contacts"] = True
        if db.session.scalar(_photos_due(now).where(this)) is not None:
            for photo in list(report.photos):
                names += [photo.evidence_name, photo.display_name]
                db.session.delete(photo)
            report.photos_purged_at = now
            removed["photos"] = len(names) // 2
        if removed:
            audit.record("retention_purged", report, after=removed, actor=actor)
    return names


def apply(*, dry_run: bool = False, actor: audit.Actor = audit.SYSTEM) -> Due:
    """Delete what is due, one transaction and one audit entry per report; the case record
    and its audit trail stay. With dry_run, only say what would go."""
    found = due()
    if dry_run:
        return found
    for report_id in sorted(set(found.contacts) | set(found.photos)):
        remove_photo_files(photo_dir(), _purge_report(report_id, actor=actor))
    return found


def may_hold(user: User, report: Report) -> bool:
    return user.role == Role.LEADER and handles(user, report)


@atomic()
def set_legal_hold(report: Report, hold: bool, *, actor: User) -> None:
    """A leader of the report's scope places or lifts a legal hold (suspends purging)."""
    if not may_hold(actor, report):
        raise NotPermitted()
    if report.legal_hold == hold:
        return
    report.legal_hold = hold
    audit.record(
        "legal_hold_placed" if hold else "legal_hold_lifted",
        report,
        before={"legal_hold": not hold},
        after={"legal_hold": hold},
        actor=actor,
    )
