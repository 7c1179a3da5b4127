"""The reports package: every (state, action) pair, permissions, versions, the score."""

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from vehiclewatch import audit
from vehiclewatch.audit import AuditEntry
from vehiclewatch.extensions import db
from vehiclewatch.reports import workflow as services
from vehiclewatch.reports.models import Report, ReportEvent
from vehiclewatch.reports.states import TRANSITIONS, Action, State
from vehiclewatch.timeutil import utcnow

# A route through the workflow to reach each state from `submitted`.
PATHS = {
    State.SUBMITTED: [],
    State.ACCEPTED: [Action.ACCEPT],
    State.REJECTED: [Action.REJECT],
    State.DUPLICATE: [Action.MARK_DUPLICATE],
    State.TRANSFERRED: [Action.TRANSFER],
    State.VERIFYING: [Action.ACCEPT, Action.VERIFY],
    State.PARKED: [Action.ACCEPT, Action.PARK],
    State.PENDING_APPROVAL: [Action.ACCEPT, Action.VERIFY, Action.PROPOSE],
    State.CONCLUDED: [Action.ACCEPT, Action.VERIFY, Action.PROPOSE, Action.APPROVE],
    State.ANSWERED: [Action.ACCEPT, Action.VERIFY, Action.PROPOSE, Action.APPROVE, Action.REPLY],
}


@pytest.fixture
def people(org, make_user):
    return {
        "officer": make_user("officer", org["a"]),
        "leader": make_user("leader", org["a"]),
    }


def _details(action: Action, original: Report) -> dict:
    return {
        "reason": "不属于受理范围",
        "duplicate_of": original.id if original else None,
        "transferred_to": "市公安局交警支队",
        "method": "preliminary",
        "finding": "true",
        "outcome": "criticism",
        "reply": "经核实，情况属实，已对相关人员批评教育。",
        "text": "我有新的照片",
    }


def _actor(action: Action, people):
    roles = TRANSITIONS[action].roles
    if roles is None:
        return audit.PUBLIC
    return people["leader"] if "officer" not in roles else people["officer"]


def _walk(report, path, people, original):
    for action in path:
        services.transition(report, action, _actor(action, people), **_details(action, original))


@pytest.mark.parametrize(
    "state, action", list(itertools.product(list(State), list(Action))), ids=lambda v: str(v)
)
def test_every_state_action_pair(state, action, car, people, make_report):
    original, _ = make_report(car)
    report, _ = make_report(car)
    _walk(report, PATHS[state], people, original)
    assert report.state == state
    legal = state in TRANSITIONS[action].sources
    audit_before = db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    events_before = len(report.events)
    if legal:
        services.transition(report, action, _actor(action, people), **_details(action, original))
        db.session.expire_all()
        assert report.state == TRANSITIONS[action].target
        last = (
            db.session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc())).scalars().first()
        )
        assert last.action == f"report_{action.value}"
        assert len(report.events) == events_before + 1
    else:
        with pytest.raises(services.IllegalTransition):
            services.transition(
                report, action, _actor(action, people), **_details(action, original)
            )
        db.session.expire_all()
        assert report.state == state
        assert len(report.events) == events_before
        count = db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        assert count == audit_before


def test_only_a_leader_approves(car, people, make_report):
    report, _ = make_report(car)
    _walk(report, PATHS[State.PENDING_APPROVAL], people, None)
    with pytest.raises(services.NotPermitted):
        services.transition(report, Action.APPROVE, people["officer"])
    assert report.state == State.PENDING_APPROVAL
    fresh, _ = make_report(car)
    with pytest.raises(services.NotPermitted):
        services.transition(
            fresh, Action.ACCEPT, audit.PUBLIC
        )  # the public cannot act as an officer
    assert fresh.state == State.SUBMITTED


def test_required_details_are_enforced(car, people, make_report):
    report, _ = make_report(car)
    with pytest.raises(services.MissingInformation) as caught:
        services.transition(report, Action.REJECT, people["officer"])
    assert caught.value.fields == ["reason"]
    services.transition(report, Action.ACCEPT, people["officer"])
    with pytest.raises(services.MissingInformation):
        services.transition(report, Action.VERIFY, people["officer"], method="telepathy")
    db.session.expire_all()
    assert report.state == State.ACCEPTED and report.method is None


def test_a_stale_version_is_refused(car, people, make_report):
    report, _ = make_report(car)
    seen = report.version
    services.transition(report, Action.ACCEPT, people["officer"], expected_version=seen)
    with pytest.raises(services.StaleReport):
        services.transition(
            report, Action.TRANSFER, people["officer"], expected_version=seen, transferred_to="x"
        )
    assert report.state == State.ACCEPTED


def test_two_sessions_updating_at_once_one_wins(make_app, car, people, make_report):
    """Two officers load the same report in separate sessions; the second write is refused."""
    report, _ = make_report(car)
    report_id = report.id
    other_app = make_app()
    with other_app.app_context():
        theirs = db.session.get(Report, report_id)
        officer = db.session.get(type(people["officer"]), people["officer"].id)
        services.transition(theirs, Action.ACCEPT, officer)
    mine = report  # loaded before the other session's change
    with pytest.raises(services.StaleReport):
        services.transition(mine, Action.REJECT, people["officer"], reason="重复")
    db.session.expire_all()
    assert db.session.get(Report, report_id).state == State.ACCEPTED


def test_objection_once_within_the_window(car, people, make_report, app):
    report, _ = make_report(car)
    _walk(report, PATHS[State.ANSWERED], people, None)
    report.replied_at = utcnow() - timedelta(days=app.config["OBJECTION_WINDOW_DAYS"] + 1)
    db.session.commit()
    with pytest.raises(services.ObjectionNotAllowed):
        services.transition(report, Action.OBJECT, audit.PUBLIC, text="新情况")
    report.replied_at = utcnow()
    db.session.commit()
    services.transition(report, Action.OBJECT, audit.PUBLIC, text="新情况")
    assert report.state == State.VERIFYING
    _walk(report, [Action.PROPOSE, Action.APPROVE, Action.REPLY], people, None)
    with pytest.raises(services.ObjectionNotAllowed):
        services.transition(report, Action.OBJECT, audit.PUBLIC, text="再次异议")


def test_score_counts_photos_real_name_mismatch_and_corroboration(car, make_report):
    from tests.test_photos_helpers import processed_photo

    first, _ = make_report(car, plate_matches=False)
    assert first.score == 20
    second, _ = make_report(car, reporter_name="王某", photos=[processed_photo()])
    db.session.refresh(first)
    assert second.score == 10 + 10 + 15
    assert first.score == 20 + 15
    far, _ = make_report(car, seen_at=first.seen_at - timedelta(hours=5))
    assert far.score == 0
    for _ in range(4):
        make_report(car)
    db.session.refresh(first)
    assert first.score == 20 + 15 * 3  # at most three corroborating reports count


def test_duplicate_keeps_its_evidence_and_corroborates(car, people, make_report):
    original, _ = make_report(car, seen_at=utcnow() - timedelta(hours=10))
    later, _ = make_report(car, seen_at=utcnow() - timedelta(hours=9))
    assert original.score == 15
    services.transition(later, Action.MARK_DUPLICATE, people["officer"], duplicate_of=original.id)
    assert later.duplicate_of_id == original.id
    assert db.session.execute(select(func.count()).select_from(Report)).scalar_one() == 2
    assert original.score == 15


def test_no_path_deletes_a_report():
    import inspect

    from vehiclewatch.reports import evidence, filing, photostore, scoring, workflow

    for module in (evidence, filing, photostore, scoring, workflow):
        assert "delete(" not in inspect.getsource(module)
        assert "session.delete" not in inspect.getsource(module)


def test_every_event_is_kept(car, people, make_report):
    report, _ = make_report(car)
    _walk(report, PATHS[State.ANSWERED], people, None)
    kinds = [
        e.kind
        for e in db.session.execute(
            select(ReportEvent).where(ReportEvent.report_id == report.id).order_by(ReportEvent.id)
        ).scalars()
    ]
    assert kinds == ["submitted", "accept", "verify", "propose", "approve", "reply"]
