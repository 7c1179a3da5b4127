"""An officer's work on a report: `transition()`, the one function that changes a report's
state, with its rules (roles, scope, handlers, duplicates), and the audited reads of a case."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from .. import audit
from ..auth.foureyes import leaders_of
from ..auth.models import Role, Unit, User
from ..auth.scope import NotPermitted, in_case_scope
from ..extensions import db
from ..timeutil import utcnow
from ..transaction import atomic
from ..webhooks import outbox
from . import protection
from .models import Report, ReportEvent
from .scoring import rescore_others
from .states import (
    PARTICIPATION,
    TRANSITIONS,
    VERIFY_METHODS,
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


class MissingInformation(ValueError):
    """The action needs information that was not given (or is not valid)."""

    def __init__(self, fields: list[str]):
        super().__init__(", ".join(fields))
        self.fields = fields


class FourEyes(NotPermitted):
    """The actor took part in the case, or another unit's leader approves it."""


class StaleReport(Exception):
    """Someone else changed the report since it was loaded."""


class ObjectionNotAllowed(Exception):
    """An objection is possible once, within the window after the reply."""


def handles(user: User, report: Report) -> bool:
    """Whether the report is in the user's own case scope: its officers act on it. (A
    cross-check team may read what it filed elsewhere, but not handle it.)"""
    return (
        db.session.execute(
            select(Report.id).where(Report.id == report.id, in_case_scope(user, Report.unit_id))
        ).first()
        is not None
    )


def assignable_officers(actor: User) -> list[User]:
    """Who may handle a report the actor accepts: the active officers of the actor's unit."""
    return list(
        db.session.execute(
            select(User)
            .where(User.role == Role.OFFICER, User.unit_id == actor.unit_id, User.active.is_(True))
            .order_by(User.display_name)
        ).scalars()
    )


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


def participants(report: Report) -> set[int]:
    """Who took part in the case (accepted, verified, closed or proposed it)."""
    kinds = [action.value for action in PARTICIPATION]
    return set(
        db.session.execute(
            select(ReportEvent.actor_id).where(
                ReportEvent.report_id == report.id,
                ReportEvent.kind.in_(kinds),
                ReportEvent.actor_id.is_not(None),
            )
        ).scalars()
    )


def approving_jurisdiction(report: Report, took_part: set[int]) -> int:
    """Whose leaders approve: the handling commission's, or, when each of its leaders took
    part (or it has none), the level above's."""
    handling = db.session.get(Unit, report.unit.oversight_id)
    free = [u for u in leaders_of(handling.id) if u.id not in took_part]
    if free or handling.parent_id is None:
        return handling.id
    return db.session.get(Unit, handling.parent_id).jurisdiction_id


def may_approve(user: User, report: Report) -> bool:
    """Four eyes: a leader who took no part in the case, of the unit that approves it."""
    took_part = participants(report)
    return (
        user.role in TRANSITIONS[Action.APPROVE].roles
        and user.id not in took_part
        and user.unit.jurisdiction_id == approving_jurisdiction(report, took_part)
    )


def _check_permission(rule, report: Report, actor: audit.Actor) -> None:
    if rule.roles is None:  # the reporter's own step
        if actor.id is not None:
            raise NotPermitted()
    elif actor.id is None or actor.role not in rule.roles or not handles(actor, report):
        raise NotPermitted()
    elif rule.four_eyes and not may_approve(actor, report):
        raise FourEyes()


def _enum_value(enum, value, name: str) -> str:
    try:
        return enum(value).value
    except ValueError:
        raise MissingInformation([name]) from None


def _duplicate_original(report: Report, actor: User, original_id) -> Report:
    """The earlier report a duplicate joins: another report the actor handles."""
    original = db.session.execute(
        select(Report).where(
            Report.id == original_id,
            Report.id != report.id,
            in_case_scope(actor, Report.unit_id),
        )
    ).scalar_one_or_none()
    if original is None:
        raise MissingInformation(["duplicate_of"])
    return original


def _assignee(actor: User, assignee_id) -> User:
    if not assignee_id:
        return actor
    chosen = next((u for u in assignable_officers(actor) if u.id == assignee_id), None)
    if chosen is None:
        raise MissingInformation(["assignee"])
    return chosen


def _apply(report: Report, action: Action, actor, data: dict) -> str | None:
    """Set the action's facts on the report; returns the text the reporter will see, if any."""
    if action is Action.ACCEPT:
        report.assigned_to = _assignee(actor, data.get("assignee"))
    elif action is Action.REJECT:
        report.reject_reason = data["reason"].strip()
        return report.reject_reason
    elif action is Action.MARK_DUPLICATE:
        original = _duplicate_original(report, actor, data["duplicate_of"])
        report.duplicate_of_id = original.id
        rescore_others([original])
    elif action is Action.TRANSFER:
        report.transferred_to = data["transferred_to"].strip()
        return report.transferred_to
    elif action is Action.VERIFY:
        report.method = _enum_value(Method, data["method"], "method")
        if report.method not in VERIFY_METHODS:
            raise MissingInformation(["method"])
    elif action in (Action.CLOSE, Action.PROPOSE):
        report.finding = _enum_value(Finding, data["finding"], "finding")
        report.outcome = _enum_value(Outcome, data["outcome"], "outcome")
        if action is Action.CLOSE:
            report.method = Method.CLOSED
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
    actor: audit.Actor,
    *,
    expected_version: int | None = None,
    note: str | None = None,
    **data,
) -> Report:
    """Take an action on a report: the only way its state changes. Refuses an illegal
    transition, a missing right, scope or detail, and a stale version; writes the timeline
    and the audit log in the same transaction. `assignee` and `duplicate_of` are ids."""
    action = Action(action)
    rule = TRANSITIONS[action]
    try:
        with atomic():
            # A stale page first: "someone else just acted" explains more than "not allowed".
            if expected_version is not None and expected_version != report.version:
                raise StaleReport()
            if report.state not in rule.sources:
                raise IllegalTransition(report.state, action)
            _check_permission(rule, report, actor)
            missing = [f for f in rule.required if not data.get(f)]
            if missing:
                raise MissingInformation(missing)
            before = _snapshot(report)
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
                    actor_id=actor.id,
                    public_text=public_text,
                    note=(note or data.get("text") or "").strip() or None,
                )
            )
            db.session.flush()
            audit.record(
                f"report_{action.value}",
                report,
                before=before,
                after=_snapshot(report),
                actor=actor,
            )
            outbox.report_state_changed(report, from_state, action.value)
    except StaleDataError:
        raise StaleReport() from None
    return report


@atomic()
def acknowledge(report: Report, actor: User) -> None:
    """Record that a real-name reporter was told whether the report is accepted."""
    if not report.real_name or report.acknowledged_at is not None:
        raise IllegalTransition(report.state, "acknowledge")
    if actor.role not in TRANSITIONS[Action.ACCEPT].roles or not handles(actor, report):
        raise NotPermitted()
    report.acknowledged_at = utcnow()
    db.session.add(ReportEvent(report=report, kind="acknowledge", actor=actor))
    audit.record("report_acknowledged", report, actor=actor)


@atomic()
def record_view(report: Report, actor: audit.Actor) -> None:
    """Every look at a case is on the record (who has viewed it is shown on the page): an
    officer's, or an API token's (`api:NAME`) reading it for a case system."""
    audit.record("report_viewed", report, actor=actor)


@atomic()
def record_export(count: int, fmt: str, filters: dict, *, actor: User) -> None:
    """An export of case data leaves the system: who, what and how much is on the record."""
    audit.record(
        "reports_exported",
        object_type="report",
        after={"count": count, "format": fmt, "filters": filters},
        actor=actor,
    )


def reveal_contact(report: Report, actor: User) -> tuple[str | None, str | None]:
    """A real-name reporter's name and phone, for an officer with that right; audited."""
    if not actor.can_reveal_contact:
        raise NotPermitted()
    with atomic():
        audit.record("contact_revealed", report, actor=actor)
    return (
        protection.decrypt_contact(report.reporter_name_enc),
        protection.decrypt_contact(report.reporter_phone_enc),
    )
