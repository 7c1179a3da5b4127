"""The officers' side: queue, scope, report page, workflow through the routes, conflicts,
deadlines, dashboard and exports."""

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from vehiclewatch import audit
from vehiclewatch.audit import AuditEntry
from vehiclewatch.extensions import db
from vehiclewatch.fleet.stickers import issue_sticker
from vehiclewatch.reports import workflow
from vehiclewatch.reports.models import Report
from vehiclewatch.reports.states import State
from vehiclewatch.timeutil import utcnow

from .conftest import form_version


@pytest.fixture
def cars(org, make_vehicle):
    made = {
        "a": make_vehicle(org["a-jy"], plate="藏B·10001"),
        "b": make_vehicle(org["b-jy"], plate="藏C·20001"),
        "a-jw": make_vehicle(org["a-jw"], plate="藏B·30001"),  # escalated unit
    }
    for car in made.values():
        issue_sticker(car, actor=audit.SYSTEM)
    return made


def _actions() -> list[str]:
    return [e.action for e in db.session.execute(select(AuditEntry)).scalars()]


def _v(report: Report) -> int:
    """The version a freshly loaded page would carry."""
    db.session.expire_all()
    return db.session.get(Report, report.id).version


def _post_action(client, report: Report, action: str, **data):
    """Take an action through the report's page, with the version a fresh page carries."""
    return client.post(
        f"/review/reports/{report.id}", data={"action": action, "version": _v(report), **data}
    )


def _age(report: Report, days: int) -> None:
    db.session.execute(
        update(Report)
        .where(Report.id == report.id)
        .values(created_at=utcnow() - timedelta(days=days))
    )
    db.session.commit()


def test_queue_orders_by_score_then_deadline(cars, make_report, login_as, org):
    from tests.photo_samples import processed_photo

    older, _ = make_report(cars["a"], seen_at=utcnow() - timedelta(days=3))
    _age(older, 2)
    newer, _ = make_report(cars["a"], seen_at=utcnow() - timedelta(days=1))
    strong, _ = make_report(cars["a"], photos=[processed_photo()], plate_matches=False)
    client, _ = login_as("officer", org["a"])
    page = client.get("/review/").get_data(as_text=True)
    order = [int(n) for n in re.findall(r'href="/review/reports/(\d+)"', page)]
    assert order == [strong.id, older.id, newer.id]
    assert "待受理 <b>3</b>" in page


def test_keyset_pagination_covers_every_report_once(cars, make_report, login_as, org):
    for n in range(55):
        make_report(cars["a"], seen_at=utcnow() - timedelta(hours=3 * n + 1))
    client, _ = login_as("officer", org["a"])
    first = client.get("/review/").get_data(as_text=True)
    ids = re.findall(r'href="/review/reports/(\d+)"', first)
    cursor = re.search(r'after=([^"&]+)', first).group(1)
    second = client.get(f"/review/?after={cursor}").get_data(as_text=True)
    more = re.findall(r'href="/review/reports/(\d+)"', second)
    assert len(ids) == 50 and len(more) == 5 and not set(ids) & set(more)


def test_county_officer_never_sees_another_county(cars, make_report, login_as, org):
    mine, _ = make_report(cars["a"], category="tourism")
    theirs, _ = make_report(cars["b"], category="lending")
    client, _ = login_as("officer", org["a"])
    assert client.get(f"/review/reports/{theirs.id}").status_code == 404
    assert (
        client.post(
            f"/review/reports/{theirs.id}", data={"action": "accept", "version": _v(theirs)}
        ).status_code
        == 404
    )
    queue = client.get("/review/").get_data(as_text=True)
    assert f"/review/reports/{mine.id}" in queue and f"/review/reports/{theirs.id}" not in queue
    assert "待受理 <b>1</b>" in queue
    exported = client.get("/review/export.csv").get_data().decode("utf-8-sig")
    assert "藏B·10001" in exported and "藏C·20001" not in exported
    dashboard = client.get("/review/dashboard").get_data(as_text=True)
    assert "公车外借" in dashboard  # the category row exists …
    assert re.search(r"公车外借</text>\s*<text[^>]*>0<", dashboard)  # … with nothing counted
    assert "乙县" not in dashboard


def test_escalated_units_reports_go_to_the_city(cars, make_report, login_as, org):
    report, _ = make_report(cars["a-jw"])
    county, _ = login_as("officer", org["a"])
    city, _ = login_as("officer", org["city"])
    assert county.get(f"/review/reports/{report.id}").status_code == 404
    assert f"/review/reports/{report.id}" not in county.get("/review/").get_data(as_text=True)
    assert city.get(f"/review/reports/{report.id}").status_code == 200


def test_fleet_admin_and_sysadmin_see_no_reports(cars, make_report, login_as, org):
    report, _ = make_report(cars["a"])
    for role in ("fleet_admin", "sysadmin"):
        client, _ = login_as(role, org["city"])
        assert client.get(f"/review/reports/{report.id}").status_code == 403
        assert client.get("/review/").status_code == 403
        assert client.get("/review/dashboard").status_code == 403
        assert client.get("/review/export.csv").status_code == 403


def test_workflow_through_the_routes(cars, make_report, login_as, org):
    report, _ = make_report(cars["a"])
    officer, _ = login_as("officer", org["a"])
    leader, _ = login_as("leader", org["a"])

    def act(client, action, **data):
        db.session.expire_all()
        version = db.session.get(Report, report.id).version
        return client.post(
            f"/review/reports/{report.id}", data={"action": action, "version": version, **data}
        )

    assert act(officer, "accept").status_code == 302
    assert act(officer, "verify", method="preliminary").status_code == 302
    assert act(officer, "propose", finding="true", outcome="criticism").status_code == 302
    refused = act(officer, "approve")
    assert refused.status_code == 403 and "没有权限" in refused.get_data(as_text=True)
    assert act(leader, "approve").status_code == 302
    assert act(officer, "reply", reply="已批评教育").status_code == 302
    db.session.expire_all()
    assert db.session.get(Report, report.id).state == State.ANSWERED
    page = officer.get(f"/review/reports/{report.id}").get_data(as_text=True)
    for label in ("受理", "开始核查", "提出处理意见", "批准办结", "答复举报人"):
        assert label in page


def test_illegal_action_posted_at_the_route_changes_nothing(cars, make_report, login_as, org):
    report, _ = make_report(cars["a"])
    officer, _ = login_as("officer", org["a"])
    response = _post_action(officer, report, "reply", reply="x")
    assert response.status_code == 409
    assert "不能“答复举报人”" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Report, report.id).state == State.SUBMITTED
    missing = officer.post(
        f"/review/reports/{report.id}", data={"action": "reject", "version": _v(report)}
    )
    assert missing.status_code == 422 and "请填写不予受理的理由" in missing.get_data(as_text=True)


def test_second_of_two_concurrent_officers_is_told(cars, make_report, login_as, org):
    report, _ = make_report(cars["a"])
    first, _ = login_as("officer", org["a"])
    second, _ = login_as("officer", org["a"])
    version_first = form_version(first.get(f"/review/reports/{report.id}").get_data(as_text=True))
    version_second = form_version(second.get(f"/review/reports/{report.id}").get_data(as_text=True))
    assert (
        first.post(
            f"/review/reports/{report.id}", data={"action": "accept", "version": version_first}
        ).status_code
        == 302
    )
    late = second.post(
        f"/review/reports/{report.id}",
        data={"action": "reject", "version": version_second, "reason": "无实质内容"},
    )
    assert late.status_code == 409
    assert "其他人刚刚处理了这件举报" in late.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Report, report.id).state == State.ACCEPTED


def test_mark_duplicate_needs_a_report_in_scope(cars, make_report, login_as, org):
    original, _ = make_report(cars["a"])
    elsewhere, _ = make_report(cars["b"])
    report, _ = make_report(cars["a"])
    officer, _ = login_as("officer", org["a"])
    refused = _post_action(officer, report, "mark_duplicate", duplicate_of=elsewhere.id)
    assert refused.status_code == 422
    ok = _post_action(officer, report, "mark_duplicate", duplicate_of=original.id)
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(Report, report.id).duplicate_of_id == original.id


def test_views_are_audited_and_shown(cars, make_report, login_as, org):
    report, _ = make_report(cars["a"])
    officer, user = login_as("officer", org["a"])
    officer.get(f"/review/reports/{report.id}")
    page = officer.get(f"/review/reports/{report.id}").get_data(as_text=True)
    assert _actions().count("report_viewed") == 2
    assert user.username in page.split("查阅记录")[1]


def test_contact_reveal_needs_the_right_and_is_audited(cars, make_report, login_as, org):
    report, _ = make_report(cars["a"], reporter_name="王某", reporter_phone="13900001111")
    allowed, _ = login_as("officer", org["a"], can_reveal_contact=True)
    denied, _ = login_as("officer", org["a"])
    page = allowed.get(f"/review/reports/{report.id}").get_data(as_text=True)
    assert "13900001111" not in page
    assert denied.post(f"/review/reports/{report.id}/reveal").status_code == 403
    shown = allowed.post(f"/review/reports/{report.id}/reveal").get_data(as_text=True)
    assert "13900001111" in shown and "王某" in shown
    assert _actions().count("contact_revealed") == 1


def test_entry_of_a_call_enters_the_workflow(cars, login_as, org):
    officer, user = login_as("officer", org["a"])
    page = officer.get("/review/reports/new").get_data(as_text=True)
    submission = re.search(r'name="submission_id" type="hidden" value="([^"]+)"', page).group(1)
    seen = (utcnow() + timedelta(hours=8) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = officer.post(
        "/review/reports/new",
        data={
            "submission_id": submission,
            "channel": "phone",
            "plate": "藏b10001",
            "category": "private_use",
            "seen_at": seen,
            "description": "来电反映接送子女",
        },
    )
    assert response.status_code == 200
    assert re.search(r'id="receipt">[A-Z2-7-]{24}<', response.get_data(as_text=True))
    report = db.session.execute(select(Report)).scalar_one()
    assert report.source == "call_letter" and report.vehicle_id == cars["a"].id
    assert report.state == State.SUBMITTED and report.events[0].note == "来电（12388 等）"


def test_overdue_is_badged_filtered_and_counted(cars, make_report, login_as, org):
    late, _ = make_report(cars["a"], seen_at=utcnow() - timedelta(days=12))
    _age(late, 10)
    fresh, _ = make_report(cars["a"])
    officer, _ = login_as("officer", org["a"])
    filtered = officer.get("/review/?overdue=1").get_data(as_text=True)
    assert (
        f"/review/reports/{late.id}" in filtered and f"/review/reports/{fresh.id}" not in filtered
    )
    assert "已超期" in filtered
    dashboard = officer.get("/review/dashboard").get_data(as_text=True)
    assert re.search(r"已超期</dt><dd>1<", dashboard)


def test_real_name_acknowledgement_deadline(cars, make_report, login_as, org):
    report, _ = make_report(cars["a"], reporter_phone="13900001111")
    _age(report, 30)
    officer, _ = login_as("officer", org["a"])
    version = form_version(officer.get(f"/review/reports/{report.id}").get_data(as_text=True))
    officer.post(f"/review/reports/{report.id}", data={"action": "accept", "version": version})
    assert f"/review/reports/{report.id}" in officer.get("/review/?overdue=1").get_data(
        as_text=True
    )
    officer.post(f"/review/reports/{report.id}/acknowledge")
    assert f"/review/reports/{report.id}" not in officer.get("/review/?overdue=1").get_data(
        as_text=True
    )


def test_export_is_scoped_neutralised_and_audited(cars, make_report, login_as, org):
    make_report(cars["a"], place='=HYPERLINK("http://x")')
    officer, _ = login_as("officer", org["a"])
    text = officer.get("/review/export.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][6].startswith("'=")
    xlsx = officer.get("/review/export.xlsx")
    assert xlsx.mimetype.endswith("spreadsheetml.sheet")
    assert _actions().count("reports_exported") == 2


def test_todo_lists_assignments_and_approvals(cars, make_report, login_as, org):
    from vehiclewatch.reports import workflow as services

    officer_client, officer = login_as("officer", org["a"])
    leader_client, leader = login_as("leader", org["a"])
    assigned, _ = make_report(cars["a"])
    services.transition(assigned, "accept", officer)
    waiting, _ = make_report(cars["a"])
    for action, details in (("accept", {}), ("close", {"finding": "false", "outcome": "none"})):
        services.transition(waiting, action, officer, **details)
    mine = officer_client.get("/review/todo").get_data(as_text=True)
    assert f"/review/reports/{assigned.id}" in mine
    approvals = leader_client.get("/review/todo").get_data(as_text=True)
    assert f"/review/reports/{waiting.id}" in approvals.split("等待我审批")[1]


def test_jurisdiction_filter_offers_only_what_the_officer_sees(cars, login_as, org):
    county, _ = login_as("officer", org["a"])
    page = county.get("/review/").get_data(as_text=True)
    options = page.split('name="jurisdiction"')[1].split("</select>")[0]
    assert "甲县" in options and "乙县" not in options and "示例市" not in options
    city, _ = login_as("officer", org["city"])
    options = city.get("/review/").get_data(as_text=True).split('name="jurisdiction"')[1]
    options = options.split("</select>")[0]
    assert all(name in options for name in ("示例市", "甲县", "乙县"))


def _queue_ids(client, query: str = "") -> list[int]:
    page = client.get(f"/review/{query}").get_data(as_text=True)
    return [int(n) for n in re.findall(r'href="/review/reports/(\d+)"', page)]


def test_queue_opens_on_reports_still_being_worked_on(cars, make_report, login_as, org, make_user):
    officer, me = login_as("officer", org["a"])
    leader = make_user("leader", org["a"])
    answered, _ = make_report(cars["a"], plate_matches=False)  # a high score
    for action, data in (
        ("accept", {}),
        ("close", {"finding": "true", "outcome": "criticism"}),
    ):
        workflow.transition(answered, action, me, **data)
    workflow.transition(answered, "approve", leader)
    concluded_waiting_reply = answered.id
    rejected, _ = make_report(cars["a"], plate_matches=False)
    workflow.transition(rejected, "reject", me, reason="无实质内容")
    waiting, _ = make_report(cars["a"])
    assert _queue_ids(officer) == [concluded_waiting_reply, waiting.id]
    workflow.transition(answered, "reply", me, reply="已处理")
    assert _queue_ids(officer) == [waiting.id]
    assert _queue_ids(officer, "?state=finished") == [answered.id, rejected.id]
    assert set(_queue_ids(officer, "?state=all")) == {answered.id, rejected.id, waiting.id}
    assert _queue_ids(officer, "?state=answered") == [answered.id]
    assert officer.get("/review/?state=nonsense").status_code == 400


def test_default_queue_pages_through_open_reports_only(cars, make_report, login_as, org):
    officer, me = login_as("officer", org["a"])
    for n in range(52):
        report, _ = make_report(cars["a"], seen_at=utcnow() - timedelta(hours=n + 1))
        if n % 4 == 0:
            workflow.transition(report, "reject", me, reason="无实质内容")
    for n in range(12):
        make_report(cars["a"], seen_at=utcnow() - timedelta(days=1, hours=n))
    first = officer.get("/review/").get_data(as_text=True)
    ids = re.findall(r'href="/review/reports/(\d+)"', first)
    cursor = re.search(r'after=([^"&]+)', first).group(1)
    rest = re.findall(r'href="/review/reports/(\d+)"', officer.get(f"/review/?after={cursor}").text)
    states = dict(db.session.execute(select(Report.id, Report.state)).all())
    shown = [int(i) for i in ids + rest]
    assert len(ids) == 50 and len(shown) == len(set(shown)) == 52 + 12 - 13
    assert all(states[i] == State.SUBMITTED for i in shown)


def test_assignee_choice_is_only_the_units_officers(cars, make_report, login_as, org, make_user):
    report, _ = make_report(cars["a"])
    officer, me = login_as("officer", org["a"])
    colleague = make_user("officer", org["a"])
    leader = make_user("leader", org["a"])
    elsewhere = make_user("officer", org["b"])
    page = officer.get(f"/review/reports/{report.id}").get_data(as_text=True)
    select_html = page.split('name="assignee"')[1].split("</select>")[0]
    assert colleague.display_name in select_html
    assert leader.display_name not in select_html and elsewhere.display_name not in select_html
    refused = _post_action(officer, report, "accept", assignee=leader.id)
    assert refused.status_code == 422 and "请从本单位的承办人中选择" in refused.get_data(
        as_text=True
    )
    ok = _post_action(officer, report, "accept", assignee=colleague.id)
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(Report, report.id).assigned_to_id == colleague.id


def test_a_refused_action_is_shown_at_the_reports_address(cars, make_report, login_as, org):
    report, _ = make_report(cars["a"])
    officer, _ = login_as("officer", org["a"])
    refused = officer.post(
        f"/review/reports/{report.id}", data={"action": "reject", "version": _v(report)}
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    # The message stands in the reject form, beside its field.
    reject_form = page.split('id="action-reject"')[1].split("</form>")[0]
    assert "请填写不予受理的理由" in reject_form
    done = _post_action(officer, report, "reject", reason="无实质内容")
    assert done.status_code == 302 and done.headers["Location"] == f"/review/reports/{report.id}"
    assert officer.post(f"/review/reports/{report.id}", data={"action": "x"}).status_code == 400


def test_viewers_by_display_name_repeated_views_as_one_line(cars, make_report, login_as, org):
    report, _ = make_report(cars["a"])
    officer, me = login_as("officer", org["a"])
    for _ in range(3):
        officer.get(f"/review/reports/{report.id}")
    other, them = login_as("officer", org["a"])
    other.get(f"/review/reports/{report.id}")
    page = officer.get(f"/review/reports/{report.id}").get_data(as_text=True)
    lines = re.findall(r"<li>(.*?)</li>", page.split('class="viewers"')[1].split("</ul>")[0])
    # Mine merge into one line, though someone else looked in between.
    assert len(lines) == 2
    # Display names (as in 办理过程), not usernames.
    assert lines[0].startswith(f"{me.display_name} · ") and "4 次" in lines[0]
    assert lines[1].startswith(f"{them.display_name} · ")
    assert _actions().count("report_viewed") == 5


def test_dashboard_weeks_are_local_weeks(app, cars, make_report, login_as, org):
    """A report filed on Monday 07:00 in Asia/Shanghai (Sunday 23:00 UTC) counts in that
    Monday's week, not the one before."""
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from vehiclewatch.review import queries

    deadlines = queries.Deadlines()
    mondays = queries.local_week_starts(deadlines.now, 12)
    early = datetime.combine(mondays[-2], time(7), tzinfo=ZoneInfo(app.config["TIMEZONE"]))
    report, _ = make_report(cars["a"], seen_at=early - timedelta(hours=1))
    db.session.execute(update(Report).where(Report.id == report.id).values(created_at=early))
    db.session.commit()
    _, officer = login_as("officer", org["a"])
    weeks = dict(queries.dashboard(officer, deadlines).by_week)
    assert len(weeks) == 12
    assert weeks[str(mondays[-2])] == 1 and weeks[str(mondays[-3])] == 0


def test_evidence_that_disagrees_with_its_report_is_flagged(cars, make_report, login_as, org):
    from dataclasses import replace

    from tests.photo_samples import processed_photo

    seen = utcnow() - timedelta(hours=2)
    far_and_old = replace(
        processed_photo(), taken_at=seen - timedelta(days=60), latitude=29.70, longitude=91.17
    )
    fitting = replace(
        processed_photo(), taken_at=seen + timedelta(minutes=5), latitude=29.6502, longitude=91.1001
    )
    report, _ = make_report(
        cars["a"], seen_at=seen, latitude=29.65, longitude=91.10, photos=[far_and_old, fitting]
    )
    score = report.score
    officer, _ = login_as("officer", org["a"])
    page = officer.get(f"/review/reports/{report.id}").get_data(as_text=True)
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", page, re.S)
    assert "拍摄时间与举报的看到时间相差约 60 天" in captions[0]
    assert "拍摄位置距举报填写的位置约 8.8 公里" in captions[0]
    assert "疑点" not in captions[1]
    db.session.expire_all()
    assert db.session.get(Report, report.id).score == score
