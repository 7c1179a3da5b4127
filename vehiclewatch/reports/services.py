"""Writes for reports: file_report, transition (the one function that changes a report's
state), add_information. Nothing else changes a report."""

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from .. import audit
from ..auth.models import Unit, UnitKind, User
from ..campaigns.rounds import load_campaigns, round_for
from ..extensions import db
from ..fleet.models import Sticker, Vehicle
from ..timeutil import local_zone, utcnow
from ..transaction import commit
from . import protection
from .bursts import mark_burst
from .models import Category, Report, ReportEvent, ReportPhoto, Source
from .photos import ProcessedPhoto, remove_photo_files, stored_names, write_photo_files
from .scoring import rescore, rescore_others, rescore_with_neighbours
from .states import (
    OPEN_STATES,
    TRANSITIONS,
    Action,
    Finding,
    Method,
    Outcome,
    State,
)


class IllegalTransition(Exception):
    """The action is not possible from the report's current state."""

    def __init__(self, state: str, action: str):
        super().__init__(f"{action} is not allowed from {state}")
        self.state, self.action = state, action


class NotPermitted(Exception):
    """This actor may not take this action."""


class MissingInformation(ValueError):
    """The action needs information that was not given (or is not valid)."""

    def __init__(self, fields: list[str]):
        super().__init__(", ".join(fields))
        self.fields = fields


class StaleReport(Exception):
    """Someone else changed the report since it was loaded."""


class ReportClosed(Exception):
    """The report no longer takes additions from its reporter."""


class ObjectionNotAllowed(Exception):
    """An objection is possible once, within the window after the reply."""


@dataclass
class NewReport:
    category: str
    seen_at: datetime
    place: str = ""
    description: str = ""
    plate_matches: bool | None = None
    latitude: float | None = None
    longitude: float | None = None
    reporter_name: str = ""
    reporter_phone: str = ""
    source: str = Source.SCAN
    vehicle: Vehicle | None = None
    sticker: Sticker | None = None
    typed_plate: str | None = None
    photos: list[ProcessedPhoto] = field(default_factory=list)
    note: str | None = None  # e.g. how an officer received it (来电、来信、来访)


def photo_dir() -> Path:
    configured = current_app.config.get("PHOTO_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "photos"


def _utc_capture_time(taken_at: datetime | None) -> datetime | None:
    if taken_at is None:
        return None
    if taken_at.tzinfo is None:  # cameras record local time; assume the deployment's zone
        taken_at = taken_at.replace(tzinfo=local_zone())
    return taken_at.astimezone(utcnow().tzinfo)


def _store_photos(photos: list[ProcessedPhoto]) -> list[ReportPhoto]:
    """Write (and fsync) every photo file before any row naming it can commit."""
    rows: list[ReportPhoto] = []
    try:
        for photo in photos:
            evidence_name, display_name = write_photo_files(photo_dir(), photo)
            rows.append(
                ReportPhoto(
                    evidence_name=evidence_name,
                    display_name=display_name,
                    width=photo.width,
                    height=photo.height,
                    source_format=photo.source_format,
                    taken_at=_utc_capture_time(photo.taken_at),
                    latitude=photo.latitude,
                    longitude=photo.longitude,
                )
            )
    except BaseException:
        _discard_files(rows)
        raise
    return rows


def _discard_files(rows: list[ReportPhoto]) -> None:
    names = [n for r in rows for n in (r.evidence_name, r.display_name)]
    remove_photo_files(photo_dir(), names)


def _round_start(seen_at: datetime):
    found = round_for(seen_at.astimezone(local_zone()).date())
    return found.start if found else None


def relink_rounds() -> int:
    """Re-derive reports' rounds after the holiday data changed; returns how many moved.
    Only reports in a round now, or seen inside a campaign, can move."""
    campaigns = load_campaigns()
    margin = timedelta(days=1)  # seen_at is UTC; the campaign's days are local
    inside = [
        Report.seen_at.between(
            datetime.combine(c.start, time(), UTC) - margin,
            datetime.combine(c.end, time(), UTC) + 2 * margin,
        )
        for c in campaigns
    ]
    candidates = db.session.execute(
        select(Report.id, Report.seen_at, Report.round_start).where(
            or_(Report.round_start.is_not(None), *inside)
        )
    ).all()
    moved = 0
    for report_id, seen_at, current in candidates:
        found = round_for(seen_at.astimezone(local_zone()).date(), campaigns)
        start = found.start if found else None
        if start != current:
            db.session.execute(
                update(Report.__table__)
                .where(Report.__table__.c.id == report_id)
                .values(round_start=start)
            )
            report = db.session.get(Report, report_id)
            set_committed_value(report, "round_start", start)
            rescore_others([report])
            moved += 1
    return moved


def _city_unit_id() -> int:
    return db.session.execute(select(Unit.id).where(Unit.kind == UnitKind.CITY)).scalar_one()


def existing_submission(submission_id: str) -> Report | None:
    """The report a form's one-time token already created, if any (a double submit)."""
    return db.session.execute(
        select(Report).where(Report.submission_hash == protection.submission_hash(submission_id))
    ).scalar_one_or_none()


def file_report(
    new: NewReport, submission_id: str, actor: User | None = None
) -> tuple[Report, str]:
    """File a report in one transaction; returns it and its receipt. A repeated submission
    of the same form returns the first report and the same receipt."""
    receipt = protection.receipt_for(submission_id)
    earlier = existing_submission(submission_id)
    if earlier is not None:
        return earlier, receipt
    photo_rows = _store_photos(new.photos)
    name = new.reporter_name.strip()
    phone = new.reporter_phone.strip()
    report = Report(
        vehicle=new.vehicle,
        sticker=new.sticker,
        typed_plate=new.typed_plate,
        unit_id=new.vehicle.unit_id if new.vehicle else _city_unit_id(),
        seen_at=new.seen_at,
        place=new.place.strip(),
        latitude=new.latitude,
        longitude=new.longitude,
        category=Category(new.category),
        description=new.description.strip(),
        plate_matches=new.plate_matches,
        real_name=bool(name or phone),
        reporter_name_enc=protection.encrypt_contact(name),
        reporter_phone_enc=protection.encrypt_contact(phone),
        receipt_hash=protection.receipt_hash(receipt),
        submission_hash=protection.submission_hash(submission_id),
        source=Source(new.source),
        state=State.SUBMITTED,
        photos=photo_rows,
        round_start=_round_start(new.seen_at),
    )
    try:
        if new.vehicle is not None:
            # Filings about one car take turns, so each counts the others' corroboration.
            db.session.execute(
                select(Vehicle.id).where(Vehicle.id == new.vehicle.id).with_for_update()
            )
        mark_burst(report)
        db.session.add(report)
        db.session.flush()
        db.session.add(
            ReportEvent(
                report=report,
                kind="submitted",
                to_state=State.SUBMITTED,
                actor=actor,
                note=new.note,
            )
        )
        rescore_with_neighbours(report)
        audit.record(
            "report_filed",
            report,
            after={
                "vehicle": report.plate,
                "category": report.category,
                "source": report.source,
                "photos": len(photo_rows),
                "real_name": report.real_name,
            },
            actor=actor,
        )
        commit()
    except IntegrityError:
        # The same form submitted twice at once: the other request won; answer as it did.
        db.session.rollback()
        _discard_files(photo_rows)
        earlier = existing_submission(submission_id)
        if earlier is None:
            raise
        return earlier, receipt
    except BaseException:
        db.session.rollback()
        _discard_files(photo_rows)
        raise
    return report, receipt


def find_by_receipt(receipt: str) -> Report | None:
    if not protection.normalise_receipt(receipt):
        return None
    return db.session.execute(
        select(Report).where(Report.receipt_hash == protection.receipt_hash(receipt))
    ).scalar_one_or_none()


def add_information(report: Report, text: str, photos: list[ProcessedPhoto]) -> None:
    """The reporter adds information or photos to an open report."""
    if report.state not in OPEN_STATES:
        raise ReportClosed()
    rows = _store_photos(photos)
    try:
        report.photos.extend(rows)
        db.session.add(ReportEvent(report=report, kind="addition", note=text.strip() or None))
        rescore(report)
        audit.record("report_added_to", report, after={"photos": len(rows), "text": bool(text)})
        commit()
    except BaseException:
        db.session.rollback()
        _discard_files(rows)
        raise


def can_object(report: Report) -> bool:
    """An objection (异议) is possible once, within the window after the public reply."""
    window = timedelta(days=current_app.config["OBJECTION_WINDOW_DAYS"])
    return (
        report.state == State.ANSWERED
        and report.objected_at is None
        and report.replied_at is not None
        and utcnow() - report.replied_at <= window
    )


def _snapshot(report: Report) -> dict:
    return {
        "state": report.state,
        "assigned_to": report.assigned_to_id,
        "method": report.method,
        "finding": report.finding,
        "outcome": report.outcome,
        "transferred_to": report.transferred_to,
        "duplicate_of": report.duplicate_of_id,
        "version": report.version,
    }


def _check_permission(rule, actor: User | None) -> None:
    if rule.roles is None:
        if actor is not None:
            raise NotPermitted()
    elif actor is None or actor.role not in rule.roles:
        raise NotPermitted()


def _enum_value(enum, value, name: str) -> str:
    try:
        return enum(value).value
    except ValueError:
        raise MissingInformation([name]) from None


def _apply(report: Report, action: Action, actor: User | None, data: dict) -> str | None:
    """Set the action's facts on the report; returns the text the reporter will see, if any."""
    if action is Action.ACCEPT:
        report.assigned_to = data.get("assignee") or actor
    elif action is Action.REJECT:
        report.reject_reason = data["reason"].strip()
        return report.reject_reason
    elif action is Action.MARK_DUPLICATE:
        original: Report = data["duplicate_of"]
        if original.id == report.id:
            raise MissingInformation(["duplicate_of"])
        report.duplicate_of_id = original.id
    elif action is Action.TRANSFER:
        report.transferred_to = data["transferred_to"].strip()
        return report.transferred_to
    elif action is Action.VERIFY:
        report.method = _enum_value(Method, data["method"], "method")
    elif action in (Action.CLOSE, Action.PROPOSE):
        report.finding = _enum_value(Finding, data["finding"], "finding")
        report.outcome = _enum_value(Outcome, data["outcome"], "outcome")
        if action is Action.CLOSE:
            report.method = "closed"
    elif action is Action.REPLY:
        report.public_reply = data["reply"].strip()
        report.replied_at = utcnow()
        return report.public_reply
    elif action is Action.OBJECT:
        if not can_object(report):
            raise ObjectionNotAllowed()
        report.objected_at = utcnow()
    return None


def transition(
    report: Report,
    action: Action | str,
    actor: User | None,
    *,
    expected_version: int | None = None,
    note: str | None = None,
    **data,
) -> Report:
    """Take an action on a report: the only way its state changes. Refuses an illegal
    transition, a missing right or detail, and a stale version; writes the timeline and
    the audit log in the same transaction."""
    action = Action(action)
    rule = TRANSITIONS[action]
    # A stale page first: "someone else just acted" explains more than "not allowed now".
    if expected_version is not None and expected_version != report.version:
        raise StaleReport()
    if report.state not in rule.sources:
        raise IllegalTransition(report.state, action)
    _check_permission(rule, actor)
    missing = [f for f in rule.required if not data.get(f)]
    if missing:
        raise MissingInformation(missing)
    before = _snapshot(report)
    try:
        public_text = _apply(report, action, actor, data)
        from_state = report.state
        report.state = rule.target
        report.state_changed_at = utcnow()
        db.session.add(
            ReportEvent(
                report=report,
                kind=action.value,
                from_state=from_state,
                to_state=rule.target,
                actor=actor,
                public_text=public_text,
                note=(note or data.get("text") or "").strip() or None,
            )
        )
        db.session.flush()
        if action is Action.MARK_DUPLICATE:
            rescore_others([data["duplicate_of"]])
        audit.record(f"report_{action.value}", report, before=before, after=_snapshot(report))
        commit()
    except StaleDataError:
        db.session.rollback()
        raise StaleReport() from None
    except BaseException:
        db.session.rollback()
        raise
    return report


def score_parts(report: Report) -> dict[str, int]:
    return json.loads(report.score_details or "{}")


def orphan_photos(min_age: timedelta = timedelta(minutes=10)) -> list[str]:
    """Photo files no row names: left by a failure between the fsync and the commit. Files
    younger than min_age may still belong to a report being filed, so they are left alone."""
    folder = photo_dir()
    referenced = set()
    for evidence_name, display_name in db.session.execute(
        select(ReportPhoto.evidence_name, ReportPhoto.display_name)
    ):
        referenced.update((evidence_name, display_name))
    cutoff = (utcnow() - min_age).timestamp()
    return sorted(
        name
        for name in stored_names(folder) - referenced
        if (folder / name).stat().st_mtime < cutoff
    )


def remove_orphan_photos(names: list[str]) -> int:
    """Delete orphaned photo files (never a file a report names); audited."""
    removed = remove_photo_files(photo_dir(), names)
    audit.record("orphan_photos_removed", object_type="report_photo", after={"files": names})
    commit()
    return removed


def record_view(report: Report, actor: User) -> None:
    """Every look at a case is on the record (who has viewed it is shown on the page)."""
    audit.record("report_viewed", report, actor=actor)
    commit()


def record_export(count: int, fmt: str, filters: dict) -> None:
    """An export of case data leaves the system: who, what and how much is on the record."""
    audit.record(
        "reports_exported",
        object_type="report",
        after={"count": count, "format": fmt, "filters": filters},
    )
    commit()


def reveal_contact(report: Report, actor: User) -> tuple[str | None, str | None]:
    """A real-name reporter's name and phone, for an officer with that right; audited."""
    if not actor.can_reveal_contact:
        raise NotPermitted()
    audit.record("contact_revealed", report, actor=actor)
    commit()
    return (
        protection.decrypt_contact(report.reporter_name_enc),
        protection.decrypt_contact(report.reporter_phone_enc),
    )


def acknowledge(report: Report, actor: User) -> None:
    """Record that a real-name reporter was told whether the report is accepted."""
    if not report.real_name or report.acknowledged_at is not None:
        raise IllegalTransition(report.state, "acknowledge")
    if actor.role not in TRANSITIONS[Action.ACCEPT].roles:
        raise NotPermitted()
    report.acknowledged_at = utcnow()
    db.session.add(ReportEvent(report=report, kind="acknowledge", actor=actor))
    audit.record("report_acknowledged", report, actor=actor)
    commit()


def recheck_evidence(vehicle_ids: set[int], days: set[date]) -> int:
    """Rescore the reports new trip-approval or sealing data bears on: those about these cars,
    and (the unit-and-day rule) any car of their units, seen on one of these local days.
    Not an edit: versions stay. Returns how many reports were rescored."""
    if not vehicle_ids or not days:
        return 0
    zone = local_zone()
    units = select(Vehicle.unit_id).where(Vehicle.id.in_(vehicle_ids))
    cars = select(Vehicle.id).where(Vehicle.unit_id.in_(units))
    first = datetime.combine(min(days), time(), tzinfo=zone)
    after = datetime.combine(max(days) + timedelta(days=1), time(), tzinfo=zone)
    candidates = db.session.execute(
        select(Report).where(
            Report.vehicle_id.in_(cars), Report.seen_at >= first, Report.seen_at < after
        )
    ).scalars()
    matching = [r for r in candidates if r.seen_at.astimezone(zone).date() in days]
    rescore_others(matching)
    return len(matching)
