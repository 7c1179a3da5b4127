"""Four eyes: nobody alone both proposes and approves a disposition, and what the system
admin does to open case content takes a leader's confirmation."""

import pytest
from sqlalchemy import select

from vehiclewatch.audit import AuditEntry
from vehiclewatch.auth import foureyes, services
from vehiclewatch.auth.models import AccountChange, User
from vehiclewatch.extensions import db
from vehiclewatch.reports import workflow
from vehiclewatch.reports.states import Action, State

from .conftest import PASSWORD, AuthActions

DISPOSE = {"finding": "true", "outcome": "criticism"}


@pytest.fixture
def county(org, make_user):
    return {
        "officer": make_user("officer", org["a"]),
        "leader": make_user("leader", org["a"]),
        "city_leader": make_user("leader", org["city"]),
    }


def _pending_approval(report, accept, verify, propose):
    workflow.transition(report, Action.ACCEPT, accept)
    workflow.transition(report, Action.VERIFY, verify, method="preliminary")
    workflow.transition(report, Action.PROPOSE, propose, **DISPOSE)
    assert report.state == State.PENDING_APPROVAL


def _actions() -> list[str]:
    return list(db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars())


@pytest.mark.parametrize("step", ["accept", "verify", "propose"])
def test_a_leader_who_took_part_never_approves(step, car, county, org, make_user, make_report):
    other = make_user("leader", org["a"])
    report, _ = make_report(car)
    people = {"accept": county["officer"], "verify": county["officer"]}
    people["propose"] = county["officer"]
    people[step] = county["leader"]
    _pending_approval(report, people["accept"], people["verify"], people["propose"])
    with pytest.raises(workflow.FourEyes):
        workflow.transition(report, Action.APPROVE, county["leader"])
    assert report.state == State.PENDING_APPROVAL
    workflow.transition(report, Action.APPROVE, other)
    assert report.state == State.CONCLUDED


def test_a_leader_who_closed_a_report_never_approves_it(car, county, org, make_user, make_report):
    other = make_user("leader", org["a"])
    report, _ = make_report(car)
    workflow.transition(report, Action.ACCEPT, county["leader"])
    workflow.transition(report, Action.CLOSE, county["leader"], finding="false", outcome="none")
    with pytest.raises(workflow.FourEyes):
        workflow.transition(report, Action.APPROVE, county["leader"])
    workflow.transition(report, Action.APPROVE, other)
    assert report.state == State.CONCLUDED


@pytest.mark.parametrize(
    ("accepted_by", "refused", "approver"),
    [
        # The unit's only leader took part: a leader of the unit above approves.
        ("leader", "leader", "city_leader"),
        # Nobody's leader took part: the unit's own leader approves, not the one above.
        ("officer", "city_leader", "leader"),
    ],
)
def test_which_units_leader_approves(accepted_by, refused, approver, car, county, make_report):
    report, _ = make_report(car)
    _pending_approval(report, county[accepted_by], county["officer"], county["officer"])
    with pytest.raises(workflow.FourEyes):
        workflow.transition(report, Action.APPROVE, county[refused])
    workflow.transition(report, Action.APPROVE, county[approver])
    assert report.state == State.CONCLUDED


def test_the_approval_list_and_page_show_only_what_the_leader_may_approve(
    app, car, county, make_report
):
    own, _ = make_report(car)
    _pending_approval(own, county["leader"], county["officer"], county["officer"])
    others, _ = make_report(car)
    _pending_approval(others, county["officer"], county["officer"], county["officer"])
    leader = app.test_client()
    AuthActions(leader).login(county["leader"])
    todo = leader.get("/review/todo").get_data(as_text=True).split("等待我审批")[1]
    assert f"/review/reports/{others.id}" in todo
    assert f"/review/reports/{own.id}" not in todo
    page = leader.get(f"/review/reports/{own.id}").get_data(as_text=True)
    assert "批准办结" not in page
    refused = leader.post(
        f"/review/reports/{own.id}", data={"action": "approve", "version": own.version}
    )
    assert refused.status_code == 403 and "您参与了本件" in refused.get_data(as_text=True)
    city = app.test_client()
    AuthActions(city).login(county["city_leader"])
    todo = city.get("/review/todo").get_data(as_text=True).split("等待我审批")[1]
    assert f"/review/reports/{own.id}" in todo and f"/review/reports/{others.id}" not in todo


# --- account changes ---------------------------------------------------------


@pytest.fixture
def admin(login_as, org):
    client, user = login_as("sysadmin", org["city"])
    return client


def _new_officer_form(org, **extra):
    return {
        "username": "officer-new",
        "display_name": "新干部",
        "role": "officer",
        "unit_id": org["a"].id,
        "active": "y",
        "password": "a long officer passphrase",
        **extra,
    }


def _user(username: str) -> User:
    db.session.expire_all()
    return db.session.execute(select(User).where(User.username == username)).scalar_one()


def test_a_case_seeing_account_waits_for_a_leader_of_its_unit(app, admin, county, org, make_user):
    response = admin.post("/admin/users/new", data=_new_officer_form(org, can_reveal_contact="y"))
    assert response.status_code == 302
    officer = _user("officer-new")
    assert not officer.active and officer.can_reveal_contact
    login = app.test_client().post(
        "/login", data={"username": "officer-new", "password": "a long officer passphrase"}
    )
    assert login.status_code == 401
    # Visible to both: the system admin's list and the leader's page.
    assert "officer-new" in admin.get("/admin/users").get_data(as_text=True).split("待领导确认")[1]
    stranger = app.test_client()
    AuthActions(stranger).login(make_user("leader", org["b"]))
    assert "officer-new" not in stranger.get("/account/confirmations").get_data(as_text=True)
    change = foureyes.pending_for(_user("officer-new"))[0]
    assert (
        stranger.post(
            f"/account/confirmations/{change.id}", data={"decision": "confirm"}
        ).status_code
        == 404
    )
    leader = app.test_client()
    AuthActions(leader).login(county["leader"])
    assert "officer-new" in leader.get("/account/confirmations").get_data(as_text=True)
    assert (
        leader.post(f"/account/confirmations/{change.id}", data={"decision": "confirm"}).status_code
        == 302
    )
    assert _user("officer-new").active
    assert "account_change_requested" in _actions() and "account_change_confirmed" in _actions()


def test_a_password_reset_of_an_officer_waits_and_the_old_one_works_meanwhile(
    app, admin, county, org
):
    officer = county["officer"]
    form = {
        "display_name": officer.display_name,
        "role": "officer",
        "unit_id": org["a"].id,
        "active": "y",
        "password": "the admin knows this one",
    }
    assert admin.post(f"/admin/users/{officer.id}", data=form).status_code == 302
    assert services.verify_password(_user(officer.username), PASSWORD)
    change = foureyes.pending_for(officer)[0]
    assert "password_hash" not in str(change.summary) and "重置密码" in str(change.summary)
    foureyes.decide(change, county["leader"], confirm=True)
    assert services.verify_password(_user(officer.username), "the admin knows this one")


def test_granting_the_reveal_right_can_be_refused(admin, county, org):
    officer = county["officer"]
    form = {
        "display_name": officer.display_name,
        "role": "officer",
        "unit_id": org["a"].id,
        "active": "y",
        "can_reveal_contact": "y",
    }
    admin.post(f"/admin/users/{officer.id}", data=form)
    assert not _user(officer.username).can_reveal_contact
    change = foureyes.pending_for(officer)[0]
    foureyes.decide(change, county["leader"], confirm=False)
    assert not _user(officer.username).can_reveal_contact
    assert "account_change_refused" in _actions()
    with pytest.raises(workflow.NotPermitted):  # decided once
        foureyes.decide(change, county["leader"], confirm=True)


def test_moving_an_officer_is_confirmed_by_the_new_units_leader(admin, county, org, make_user):
    officer = county["officer"]
    b_leader = make_user("leader", org["b"])
    form = {
        "display_name": officer.display_name,
        "role": "officer",
        "unit_id": org["b"].id,
        "active": "y",
    }
    admin.post(f"/admin/users/{officer.id}", data=form)
    change = foureyes.pending_for(officer)[0]
    assert not foureyes.may_decide(change, county["leader"])
    foureyes.decide(change, b_leader, confirm=True)
    assert _user(officer.username).unit_id == org["b"].id


def test_a_totp_reset_of_an_officer_waits_and_ends_sessions_once_confirmed(app, admin, county):
    officer = county["officer"]
    client = app.test_client()
    AuthActions(client).login(officer)
    admin.post(f"/admin/users/{officer.id}/reset-totp")
    assert _user(officer.username).totp_enrolled
    assert client.get("/review/").status_code == 200
    foureyes.decide(foureyes.pending_for(officer)[0], county["leader"], confirm=True)
    assert not _user(officer.username).totp_enrolled
    assert client.get("/review/").status_code == 302
    again = app.test_client().post(
        "/login", data={"username": officer.username, "password": PASSWORD}
    )
    assert "/login/enrol" in again.headers["Location"]


def test_fleet_admin_changes_take_effect_at_once(admin, org, make_user):
    fleet = make_user("fleet_admin", org["a"])
    form = {
        "display_name": fleet.display_name,
        "role": "fleet_admin",
        "unit_id": org["a"].id,
        "active": "y",
        "password": "a new fleet passphrase",
    }
    admin.post(f"/admin/users/{fleet.id}", data=form)
    assert services.verify_password(_user(fleet.username), "a new fleet passphrase")
    assert not foureyes.pending()


def test_a_units_first_leader_from_the_command_line_is_exempt_and_audited(runner, org):
    def create(name, role):
        return runner.invoke(
            args=["create-user", name, "--name", name, "--role", role, "--unit", "a"],
            input="a long leader passphrase\na long leader passphrase\n",
        )

    assert create("first-leader", "leader").exit_code == 0
    assert _user("first-leader").active
    exempt = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "four_eyes_exempt")
    ).scalar_one()
    assert exempt.object_id == str(_user("first-leader").id)
    result = create("second-leader", "leader")
    assert "until a leader of its unit confirms" in result.output
    assert not _user("second-leader").active
    change = foureyes.pending_for(_user("second-leader"))[0]
    assert foureyes.may_decide(change, _user("first-leader"))


def test_seeded_accounts_are_confirmed_by_seeded_leaders(runner):
    runner.invoke(args=["seed"])
    users = db.session.execute(select(User)).scalars().all()
    assert all(u.active for u in users)
    decided = db.session.execute(select(AccountChange)).scalars().all()
    assert decided and all(c.confirmed and c.decided_by.role == "leader" for c in decided)
    assert not foureyes.pending()


def test_escalating_a_unit_waits_for_a_leader_of_the_commission_that_oversees_it(
    admin, county, org
):
    unit = org["a-jy"]
    form = {"name": "甲县教育体育局", "parent_id": org["a"].id, "escalated": "y"}
    response = admin.post(f"/admin/units/{unit.id}", data=form)
    assert response.status_code == 302
    db.session.expire_all()
    assert unit.name == "甲县教育体育局"  # a new name takes effect at once
    assert not unit.escalated and unit.oversight_id == org["a"].id
    change = db.session.execute(
        select(AccountChange).where(AccountChange.subject_unit_id == unit.id)
    ).scalar_one()
    assert change.unit_id == org["a"].id
    assert "甲县教育体育局" in admin.get("/admin/users").get_data(as_text=True)
    foureyes.decide(change, county["leader"], confirm=True)
    db.session.expire_all()
    assert unit.escalated and unit.oversight_id == org["city"].id
