"""The weekly bulletin (每周一督通报): figures against the database, freezing at approval,
who may approve, what the public sees, the PDF's text, and scope."""

import io
import re
from datetime import date, timedelta

import pypdf
import pytest
import sqlalchemy as sa
from sqlalchemy import select

from vehiclewatch import audit
from vehiclewatch.audit import AuditEntry
from vehiclewatch.bulletins import services
from vehiclewatch.bulletins.models import Bulletin, BulletinStatus
from vehiclewatch.bulletins.queries import round_figures
from vehiclewatch.calendar.rounds import round_for
from vehiclewatch.calendar.services import add_holiday_period
from vehiclewatch.campaigns.models import SpotCheckDraw, SpotCheckItem
from vehiclewatch.extensions import db
from vehiclewatch.fleet.stickers import issue_sticker
from vehiclewatch.reports.workflow import transition
from vehiclewatch.timeutil import to_local, utcnow

from .conftest import form_version

# Two weeks back: the round is over, so its bulletin can be approved.
SEEN = timedelta(days=14)


@pytest.fixture
def seen_at(app):
    """One sighting time for every report of a test, so they all share one round."""
    return utcnow() - SEEN


@pytest.fixture
def round_key(seen_at):
    """A holiday around the sighting day, entered before any report is filed."""
    day = to_local(seen_at).date()
    add_holiday_period("春节", day, day + timedelta(days=2), "national", [], actor=audit.SYSTEM)
    return round_for(day).key


@pytest.fixture
def cars(org, make_vehicle):
    made = {
        "a": make_vehicle(org["a-jy"], plate="藏B·10001"),
        "b": make_vehicle(org["b-jy"], plate="藏C·20001"),
        "a-jw": make_vehicle(org["a-jw"], plate="藏B·30001"),  # escalated: the city's
        "city": make_vehicle(org["city-ga"], plate="藏A·40001"),
    }
    for car in made.values():
        issue_sticker(car, actor=audit.SYSTEM)
    return made


@pytest.fixture
def staff(org, make_user):
    return {
        "a-officer": make_user("officer", org["a"]),
        "a-leader": make_user("leader", org["a"]),
        "b-officer": make_user("officer", org["b"]),
        "b-leader": make_user("leader", org["b"]),
        "city-officer": make_user("officer", org["city"]),
        "city-leader": make_user("leader", org["city"]),
    }


def conclude(report, officer, leader, *, finding="true", outcome="criticism", reply=None):
    transition(report, "accept", officer)
    transition(report, "verify", officer, method="preliminary")
    transition(report, "propose", officer, finding=finding, outcome=outcome)
    transition(report, "approve", leader)
    if reply:
        transition(report, "reply", officer, reply=reply)
    return report


@pytest.fixture
def round_reports(round_key, cars, staff, make_report, seen_at):
    """A round's worth of reports in every state that matters to the figures."""
    a_off, a_lead = staff["a-officer"], staff["a-leader"]
    city_off, city_lead = staff["city-officer"], staff["city-leader"]
    made = {}
    made["a-true"], _ = make_report(
        cars["a"], seen_at=seen_at, description="节假日驾驶公车接送家人"
    )
    conclude(made["a-true"], a_off, a_lead)
    made["a-accepted"], _ = make_report(cars["a"], seen_at=seen_at, category="tourism")
    transition(made["a-accepted"], "accept", a_off)
    made["a-false"], _ = make_report(cars["a"], seen_at=seen_at, category="entertainment")
    conclude(made["a-false"], a_off, a_lead, finding="false", outcome="none")
    made["a-transferred"], _ = make_report(cars["a"], seen_at=seen_at, category="traffic")
    transition(made["a-accepted"], "transfer", a_off, transferred_to="交警大队")
    transition(made["a-transferred"], "transfer", a_off, transferred_to="交警大队")
    made["b-partly"], _ = make_report(cars["b"], seen_at=seen_at, category="lending")
    conclude(
        made["b-partly"],
        staff["b-officer"],
        staff["b-leader"],
        finding="partly_true",
        reply="经核查部分属实，已处理。",
    )
    made["b-rejected"], _ = make_report(cars["b"], seen_at=seen_at)
    transition(made["b-rejected"], "reject", staff["b-officer"], reason="无具体内容")
    made["escalated"], _ = make_report(cars["a-jw"], seen_at=seen_at, category="wedding_funeral")
    conclude(made["escalated"], city_off, city_lead, outcome="admonishment")
    made["city"], _ = make_report(cars["city"], seen_at=seen_at)
    # Outside any campaign: never in a round.
    made["outside"], _ = make_report(cars["a"], seen_at=seen_at - timedelta(days=40))
    assert made["outside"].round_start is None
    return made


@pytest.fixture
def spot_checks(round_key, cars, org, staff):
    """A superseded draw and the current one, with results recorded on some items."""
    start = date.fromisoformat(round_key)
    old = SpotCheckDraw(
        round_start=start, round_end=start, per_jurisdiction=2, candidates="{}",
        candidates_hash="0" * 64, seed_hash="0" * 64, seed_enc="x", superseded_at=utcnow(),
    )  # fmt: skip
    current = SpotCheckDraw(
        round_start=start, round_end=start, per_jurisdiction=2, candidates="{}",
        candidates_hash="1" * 64, seed_hash="1" * 64, seed_enc="y",
    )  # fmt: skip
    db.session.add_all([old, current])
    db.session.flush()
    rows = [
        (old, "a", "b", "problem"),
        (current, "a", "b", "problem"),
        (current, "a-jw", "b", "sealed_in_place"),
        (current, "b", "a", "normal"),
        (current, "b", "a", None),
        (current, "city", "a", "has_dispatch"),
    ]
    for rank, (draw, car, team, result) in enumerate(rows):
        vehicle = cars[car]
        db.session.add(
            SpotCheckItem(
                draw=draw,
                vehicle=vehicle,
                jurisdiction_id=vehicle.unit.jurisdiction_id,
                team_jurisdiction_id=org[team].id,
                rank=rank,
                result=result,
            )
        )
    db.session.commit()


def direct_counts(round_key: str, jurisdiction) -> dict:
    """The same figures, counted straight from the tables with plain SQL."""
    scope = "" if jurisdiction.kind == "city" else "AND u.oversight_id = :j"
    params = {"d": date.fromisoformat(round_key), "j": jurisdiction.id}

    def run(sql: str, **extra):
        statement = sa.text(sql).bindparams(sa.bindparam("d", type_=sa.Date))
        return db.session.execute(statement, params | extra)

    def scalar(where: str = "") -> int:
        return run(
            "SELECT count(*) FROM report r JOIN unit u ON u.id = r.unit_id "
            f"WHERE r.round_start = :d {scope} {where}"
        ).scalar_one()

    item_scope = (
        "" if jurisdiction.kind == "city" else
        "AND i.jurisdiction_id IN (SELECT id FROM unit WHERE oversight_id = :j)"
    )  # fmt: skip
    items = (
        "SELECT count(*) FROM spot_check_item i JOIN spot_check_draw d ON d.id = i.draw_id "
        f"WHERE d.round_start = :d AND d.superseded_at IS NULL AND i.result IS NOT NULL "
        f"{item_scope}"
    )
    return {
        "received": scalar(),
        "accepted": scalar(
            "AND EXISTS (SELECT 1 FROM report_event e WHERE e.report_id = r.id "
            "AND e.kind = 'accept')"
        ),
        "substantiated": scalar(
            "AND r.finding IN ('true', 'partly_true') AND r.state IN ('concluded', 'answered')"
        ),
        "by_category": dict(
            run(
                "SELECT r.category, count(*) FROM report r JOIN unit u ON u.id = r.unit_id "
                f"WHERE r.round_start = :d {scope} GROUP BY r.category"
            ).all()
        ),
        "by_jurisdiction": dict(
            run(
                "SELECT j.name, count(*) FROM report r JOIN unit u ON u.id = r.unit_id "
                "JOIN unit j ON j.id = u.jurisdiction_id "
                f"WHERE r.round_start = :d {scope} GROUP BY j.name"
            ).all()
        ),
        "spot_checks_done": run(items).scalar_one(),
        "problems_found": run(items + " AND i.result = 'problem'").scalar_one(),
    }


def as_dict(figures) -> dict:
    return {
        "received": figures.received,
        "accepted": figures.accepted,
        "substantiated": figures.substantiated,
        "by_category": figures.by_category,
        "by_jurisdiction": figures.by_jurisdiction,
        "spot_checks_done": figures.spot_checks_done,
        "problems_found": figures.problems_found,
    }


@pytest.mark.parametrize("jurisdiction", ["city", "a", "b"])
def test_figures_equal_direct_counts(round_reports, spot_checks, round_key, org, jurisdiction):
    unit = org[jurisdiction]
    figures = round_figures(round_key, unit)
    assert as_dict(figures) == direct_counts(round_key, unit)
    assert figures.received > 0  # the comparison is not vacuous


def test_figures_by_hand(round_reports, spot_checks, round_key, org):
    county = round_figures(round_key, org["a"])
    # a-true, a-accepted (accepted, then transferred), a-false, a-transferred (transferred
    # without being accepted); not the escalated unit's report, which is the city's.
    assert (county.received, county.accepted, county.substantiated) == (4, 3, 1)
    assert county.by_jurisdiction == {"甲县": 4}
    # The spot-check lists are per jurisdiction: the escalated unit's car is on the county's.
    assert (county.spot_checks_done, county.problems_found) == (2, 1)  # not the superseded
    city = round_figures(round_key, org["city"])
    assert (city.received, city.accepted, city.substantiated) == (8, 5, 3)
    assert city.by_jurisdiction == {"示例市": 1, "甲县": 5, "乙县": 2}
    assert (city.spot_checks_done, city.problems_found) == (4, 1)


def test_draft_cases_come_from_substantiated_decided_reports(round_reports, staff, org):
    bulletin = services.create_draft(
        round_reports["a-true"].round_start.isoformat(), org["city"], staff["city-officer"]
    )
    cases = {c.source_report_id: c for c in bulletin.cases}
    assert set(cases) == {
        round_reports["a-true"].id,
        round_reports["b-partly"].id,
        round_reports["escalated"].id,
    }
    case = cases[round_reports["a-true"].id]
    assert (case.unit_name, case.plate, case.outcome) == ("甲县教育局", "藏B·10001", "批评教育")
    assert case.what_happened == "节假日驾驶公车接送家人"
    assert case.deciding_body == "甲县纪委监委"
    assert case.occurred_on == to_local(round_reports["a-true"].seen_at).date()
    assert cases[round_reports["escalated"].id].deciding_body == "示例市纪委监委"
    assert [c.position for c in bulletin.cases] == [1, 2, 3]


def test_approval_freezes_the_figures(round_reports, round_key, staff, org, make_report, cars):
    draft = services.create_draft(round_key, org["a"], staff["a-officer"])
    live = round_figures(round_key, org["a"])
    services.approve(draft, staff["a-leader"])
    bulletin_id = draft.id
    make_report(cars["a"], seen_at=round_reports["a-true"].seen_at, category="lending")
    db.session.expire_all()
    bulletin = db.session.get(Bulletin, bulletin_id)
    from vehiclewatch.bulletins.queries import bulletin_figures

    assert bulletin.status == BulletinStatus.APPROVED
    assert bulletin_figures(bulletin) == live
    assert bulletin_figures(bulletin).received == 4
    # A fresh draw of the figures (what a new draft would show) counts the new report.
    assert round_figures(round_key, org["a"]).received == 5
    assert round_figures(round_key, org["a"]).by_category["lending"] == 1


def test_a_draft_follows_new_reports(round_reports, round_key, staff, org, make_report, cars):
    from vehiclewatch.bulletins.queries import bulletin_figures

    bulletin = services.create_draft(round_key, org["a"], staff["a-officer"])
    before = bulletin_figures(bulletin).received
    make_report(cars["a"], seen_at=round_reports["a-true"].seen_at)
    assert bulletin_figures(bulletin).received == before + 1


def test_only_a_leader_of_the_issuing_jurisdiction_approves(
    round_reports, round_key, org, login_as
):
    officer, _ = login_as("officer", org["a"])
    assert officer.post(f"/review/bulletins/new/{round_key}").status_code == 302
    bulletin = db.session.execute(select(Bulletin)).scalar_one()
    page = officer.get(f"/review/bulletins/{bulletin.id}").get_data(as_text=True)
    assert "审定通报" not in page  # no button for an officer …
    response = officer.post(f"/review/bulletins/{bulletin.id}/approve", data={"version": 1})
    assert response.status_code == 403  # … and no way round it
    city_leader, _ = login_as("leader", org["city"])
    response = city_leader.post(f"/review/bulletins/{bulletin.id}/approve", data={"version": 1})
    assert response.status_code == 403  # the county issues the county's bulletin
    leader, _ = login_as("leader", org["a"])
    page = leader.get(f"/review/bulletins/{bulletin.id}").get_data(as_text=True)
    assert "审定通报" in page
    response = leader.post(
        f"/review/bulletins/{bulletin.id}/approve", data={"version": form_version(page)}
    )
    assert response.status_code == 302
    db.session.expire_all()
    bulletin = db.session.get(Bulletin, bulletin.id)
    assert bulletin.status == BulletinStatus.APPROVED and bulletin.figures_json
    actions = [e.action for e in db.session.execute(select(AuditEntry)).scalars()]
    assert "bulletin_drafted" in actions and "bulletin_approved" in actions
    # Approved: no more edits.
    response = officer.post(
        f"/review/bulletins/{bulletin.id}",
        data={"version": bulletin.version, "title": "改过的标题"},
    )
    assert response.status_code == 409


def test_editing_cases_through_the_page(round_reports, round_key, org, login_as):
    officer, _ = login_as("officer", org["city"])
    officer.post(f"/review/bulletins/new/{round_key}")
    bulletin = db.session.execute(select(Bulletin)).scalar_one()
    page = officer.get(f"/review/bulletins/{bulletin.id}").get_data(as_text=True)
    assert "甲县教育局" in page and "新增典型问题" in page
    first, second = (c.snapshot() | {"id": c.source_report_id} for c in bulletin.cases[:2])
    data = {"version": form_version(page), "title": "关于第一周的通报"}
    for i, case in enumerate((first, second)):
        data |= {
            f"cases-{i}-unit_name": case["unit_name"],
            f"cases-{i}-person_position": "办公室主任" if i == 0 else "",
            f"cases-{i}-occurred_on": case["occurred_on"],
            f"cases-{i}-plate": case["plate"],
            f"cases-{i}-what_happened": case["what_happened"],
            f"cases-{i}-outcome": case["outcome"],
            f"cases-{i}-deciding_body": case["deciding_body"],
            f"cases-{i}-source_report_id": str(case["id"]),
        }
    data["cases-1-remove"] = "y"
    data |= {
        "cases-2-unit_name": "乙县交通局",
        "cases-2-occurred_on": first["occurred_on"],
        "cases-2-what_happened": "明察暗访发现公车停放在农家乐",
        "cases-2-outcome": "诫勉",
        "cases-2-deciding_body": "乙县纪委监委",
        "cases-2-source_report_id": str(round_reports["city"].id),  # not one of the draft's
        "cases-3-unit_name": "",  # the spare blank row
    }
    response = officer.post(f"/review/bulletins/{bulletin.id}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    bulletin = db.session.get(Bulletin, bulletin.id)
    assert bulletin.title == "关于第一周的通报"
    assert [(c.position, c.unit_name, c.person_position) for c in bulletin.cases] == [
        (1, first["unit_name"], "办公室主任"),
        (2, "乙县交通局", ""),
    ]
    assert bulletin.cases[0].source_report_id == first["id"]
    assert bulletin.cases[1].source_report_id is None
    # The page loaded before the save is stale now.
    response = officer.post(f"/review/bulletins/{bulletin.id}", data=data)
    assert response.status_code == 409
    # A case without what happened is refused.
    page = officer.get(f"/review/bulletins/{bulletin.id}").get_data(as_text=True)
    response = officer.post(
        f"/review/bulletins/{bulletin.id}",
        data={
            "version": form_version(page),
            "title": "x",
            "cases-0-unit_name": "甲县教育局",
            "cases-0-occurred_on": first["occurred_on"],
        },
    )
    assert response.status_code == 422


def test_unpublished_bulletins_do_not_exist_for_the_public(
    round_reports, round_key, staff, org, client
):
    bulletin = services.create_draft(round_key, org["a"], staff["a-officer"])
    for step in (None, services.approve):
        if step:
            step(bulletin, staff["a-leader"])
        assert client.get(f"/bulletins/{bulletin.id}").status_code == 404
        assert client.get(f"/bulletins/{bulletin.id}.pdf").status_code == 404
        assert bulletin.title not in client.get("/bulletins").get_data(as_text=True)
    services.publish(bulletin, staff["a-leader"])
    page = client.get(f"/bulletins/{bulletin.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "甲县教育局" in text and "藏B·10001" in text and "批评教育" in text
    listing = client.get("/bulletins").get_data(as_text=True)
    assert f"/bulletins/{bulletin.id}" in listing and bulletin.title in listing
    assert "/bulletins" in client.get("/").get_data(as_text=True)


def _pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def test_pdf_text_is_real_chinese(round_reports, round_key, staff, org, client):
    bulletin = services.create_draft(round_key, org["a"], staff["a-officer"])
    services.approve(bulletin, staff["a-leader"])
    services.publish(bulletin, staff["a-leader"])
    response = client.get(f"/bulletins/{bulletin.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _pdf_text(response.data)
    assert "每周一督通报" in text
    assert "甲县纪委监委" in text
    assert "藏B·10001" in text and "甲县教育局" in text
    assert "节假日驾驶公车接送家人" in text
    start = bulletin.round_start
    assert f"{start.year}年{start.month}月{start.day}日" in text
    assert "收到举报" in text


def test_pdf_with_the_builtin_font(round_reports, round_key, staff, org):
    """Without a TrueType CJK font the PDF falls back to STSong-Light, still as real text."""
    from vehiclewatch.bulletins.pdf import bulletin_pdf
    from vehiclewatch.bulletins.queries import bulletin_figures
    from vehiclewatch.fonts import cjk_font

    bulletin = services.create_draft(round_key, org["a"], staff["a-officer"])
    font = cjk_font("/nonexistent/font.ttc", search_system=False)
    data = bulletin_pdf(bulletin, bulletin_figures(bulletin), font)
    assert b"STSong-Light" in data
    text = _pdf_text(data)
    assert "每周一督通报" in text and "草稿" in text and "藏B·10001" in text


def test_county_officer_cannot_open_another_countys_bulletin(
    round_reports, round_key, staff, org, login_as
):
    theirs = services.create_draft(round_key, org["b"], staff["b-officer"])
    officer, _ = login_as("officer", org["a"])
    assert officer.get(f"/review/bulletins/{theirs.id}").status_code == 404
    assert officer.get(f"/review/bulletins/{theirs.id}.pdf").status_code == 404
    assert officer.post(f"/review/bulletins/{theirs.id}", data={"title": "x"}).status_code == 404
    leader, _ = login_as("leader", org["a"])
    response = leader.post(f"/review/bulletins/{theirs.id}/approve", data={"version": 1})
    assert response.status_code == 404
    listing = officer.get("/review/bulletins").get_data(as_text=True)
    assert f"/review/bulletins/{theirs.id}" not in listing
    city, _ = login_as("officer", org["city"])
    assert city.get(f"/review/bulletins/{theirs.id}").status_code == 200


def test_one_bulletin_per_round_and_jurisdiction(round_reports, round_key, org, login_as):
    officer, _ = login_as("officer", org["a"])
    first = officer.post(f"/review/bulletins/new/{round_key}")
    again = officer.post(f"/review/bulletins/new/{round_key}")
    assert first.headers["Location"] == again.headers["Location"]
    assert db.session.execute(sa.select(sa.func.count(Bulletin.id))).scalar_one() == 1
    assert officer.post("/review/bulletins/new/2001-01-01").status_code == 404
    listing = officer.get("/review/bulletins").get_data(as_text=True)
    assert "草稿" in listing


def test_an_approved_bulletin_carries_the_audit_head(
    round_reports, round_key, staff, org, client, runner
):
    """Whoever keeps a published bulletin holds an anchor for `audit verify`."""
    bulletin = services.create_draft(round_key, org["a"], staff["a-officer"])
    assert bulletin.audit_anchor is None
    services.approve(bulletin, staff["a-leader"])
    approval = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "bulletin_approved")
    ).scalar_one()
    assert (bulletin.audit_count, bulletin.audit_head) == (approval.seq, approval.hash)
    services.publish(bulletin, staff["a-leader"])
    anchor = f"{approval.seq}:{approval.hash}"
    assert anchor in client.get(f"/bulletins/{bulletin.id}").get_data(as_text=True)
    assert anchor in _pdf_text(client.get(f"/bulletins/{bulletin.id}.pdf").data)
    result = runner.invoke(args=["audit", "verify", "--anchor", anchor])
    assert result.exit_code == 0 and "1 anchors checked" in result.output


def _publish(bulletin, leader):
    services.approve(bulletin, leader)
    return services.publish(bulletin, leader)


def test_pdf_has_the_same_tables_as_the_page(round_reports, round_key, staff, org, client):
    """A county's bulletin has one region: the page shows 按地区, and so does the PDF."""
    bulletin = _publish(
        services.create_draft(round_key, org["a"], staff["a-officer"]), staff["a-leader"]
    )
    page = client.get(f"/bulletins/{bulletin.id}").get_data(as_text=True)
    assert "按地区" in page and "按问题类型" in page
    text = _pdf_text(client.get(f"/bulletins/{bulletin.id}.pdf").data)
    assert "按问题类型" in text and "按地区" in text
    assert "地区举报（件）甲县" in text


def test_a_number_is_assigned_at_approval_in_a_yearly_sequence(
    app, round_reports, round_key, staff, org, client
):
    app.config["BULLETIN_NUMBER_PREFIX"] = "甲纪通"
    first = services.create_draft(round_key, org["a"], staff["a-officer"])
    second = services.create_draft(round_key, org["b"], staff["b-officer"])
    assert first.doc_number is None
    year = to_local(utcnow()).year
    services.approve(second, staff["b-leader"])
    services.approve(first, staff["a-leader"])
    assert second.doc_number == f"甲纪通〔{year}〕1号"
    assert first.doc_number == f"甲纪通〔{year}〕2号"
    services.publish(first, staff["a-leader"])
    assert f"甲纪通〔{year}〕2号" in client.get(f"/bulletins/{first.id}").get_data(as_text=True)
    assert f"甲纪通〔{year}〕2号" in _pdf_text(client.get(f"/bulletins/{first.id}.pdf").data)


def test_simultaneous_approvals_take_different_numbers(app, round_reports, round_key, staff, org):
    """Two leaders approve at the same moment: each bulletin gets its own number."""
    import threading

    ids = [
        services.create_draft(round_key, org[code], staff[f"{code}-officer"]).id
        for code in ("a", "b")
    ]
    leaders = [staff["a-leader"].id, staff["b-leader"].id]
    barrier = threading.Barrier(2)
    errors = []

    def approve(bulletin_id, leader_id):
        with app.app_context():
            try:
                bulletin = db.session.get(Bulletin, bulletin_id)
                leader = db.session.get(type(staff["a-leader"]), leader_id)
                leader.unit.jurisdiction  # noqa: B018 (loaded before the race)
                barrier.wait()
                services.approve(bulletin, leader)
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=approve, args=pair) for pair in zip(ids, leaders, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    db.session.expire_all()
    numbers = sorted(db.session.get(Bulletin, i).number_seq for i in ids)
    assert numbers == [1, 2]


CLOSING_PUNCTUATION = "，。、；：？！」）》’”〕】"
OPENING_PUNCTUATION = "「（《‘“〔【"


def test_pdf_lines_break_by_chinese_rules(app, round_reports, round_key, staff, org, tmp_path):
    """No printed line starts with closing punctuation or ends with opening punctuation,
    wherever the sentences happen to fall against the margin."""
    import subprocess

    from vehiclewatch.bulletins.pdf import bulletin_pdf
    from vehiclewatch.bulletins.queries import bulletin_figures
    from vehiclewatch.fonts import cjk_font

    bulletin = services.create_draft(round_key, org["a"], staff["a-officer"])
    cases = [
        services.CaseText(
            unit_name="甲县教育局",
            occurred_on=bulletin.round_start,
            what_happened="公" * n
            + "，驾驶公车（"
            + "车" * (n % 5)
            + "）前往《景区》"
            + "游" * (40 - n)
            + "。",
            outcome="批评教育",
            deciding_body="甲县纪委监委",
        )
        for n in range(1, 40)
    ]
    services.save_draft(bulletin, bulletin.title, cases, staff["a-officer"])
    pdf = tmp_path / "bulletin.pdf"
    font = cjk_font(app.config.get("CJK_FONT_PATH"))
    pdf.write_bytes(bulletin_pdf(bulletin, bulletin_figures(bulletin), font))
    text = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert "".join(lines).count("驾驶公车") == 39  # every case is there
    starts = [line for line in lines if line[0] in CLOSING_PUNCTUATION]
    ends = [line for line in lines if line[-1] in OPENING_PUNCTUATION]
    assert not starts and not ends, (starts, ends)


def test_a_bulletin_cannot_be_approved_before_its_round_ends(org, staff, login_as):
    today = to_local(utcnow()).date()
    add_holiday_period("元旦", today, today + timedelta(days=1), "national", [], actor=audit.SYSTEM)
    current = services.create_draft(round_for(today).key, org["a"], staff["a-officer"])
    with pytest.raises(services.RoundNotOver):
        services.approve(current, staff["a-leader"])
    leader, _ = login_as("leader", org["a"])
    page = leader.get(f"/review/bulletins/{current.id}").get_data(as_text=True)
    assert "结束后才能审定通报" in page and "审定通报</button>" not in page
    refused = leader.post(
        f"/review/bulletins/{current.id}/approve", data={"version": current.version}
    )
    assert refused.status_code == 409 and "结束后才能审定通报" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Bulletin, current.id).status == BulletinStatus.DRAFT


def test_a_leader_withdraws_an_approval_before_publication(
    round_reports, round_key, staff, org, login_as
):
    bulletin = services.create_draft(round_key, org["a"], staff["a-officer"])
    services.approve(bulletin, staff["a-leader"])
    number = bulletin.doc_number
    with pytest.raises(services.NotPermitted):
        services.withdraw(bulletin, staff["a-officer"])
    leader, _ = login_as("leader", org["a"])
    page = leader.get(f"/review/bulletins/{bulletin.id}").get_data(as_text=True)
    response = leader.post(
        f"/review/bulletins/{bulletin.id}/withdraw", data={"version": _form_version(page)}
    )
    assert response.status_code == 302
    db.session.expire_all()
    bulletin = db.session.get(Bulletin, bulletin.id)
    assert bulletin.status == BulletinStatus.DRAFT and bulletin.figures_json is None
    assert bulletin.audit_anchor is None and bulletin.doc_number == number
    withdrawn = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "bulletin_withdrawn")
    ).scalar_one()
    assert withdrawn.object_id == str(bulletin.id)
    # Editable again; approved again, it keeps its number.
    services.save_draft(bulletin, "更正后的标题", [], staff["a-officer"])
    services.approve(bulletin, staff["a-leader"])
    assert bulletin.doc_number == number
    services.publish(bulletin, staff["a-leader"])
    with pytest.raises(services.WrongStatus):
        services.withdraw(bulletin, staff["a-leader"])


def _form_version(page: str) -> str:
    return re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)


def test_a_published_bulletin_is_corrected_by_a_new_version(
    round_reports, round_key, staff, org, login_as, client
):
    original = _publish(
        services.create_draft(round_key, org["a"], staff["a-officer"]), staff["a-leader"]
    )
    leader, _ = login_as("leader", org["a"])
    page = leader.get(f"/review/bulletins/{original.id}").get_data(as_text=True)
    assert "起草更正版" in page
    assert (
        leader.post(f"/review/bulletins/{original.id}/correct", data={"note": " "}).status_code
        == 422
    )
    note = "第 1 条典型问题的处理结果由“批评教育”更正为“诫勉谈话”。"
    response = leader.post(f"/review/bulletins/{original.id}/correct", data={"note": note})
    assert response.status_code == 302
    correction = db.session.execute(
        select(Bulletin).where(Bulletin.corrects_id == original.id)
    ).scalar_one()
    assert correction.is_draft and [c.unit_name for c in correction.cases] == [
        c.unit_name for c in original.cases
    ]
    # Only one correction of a bulletin; a second request leads to it.
    again = leader.post(f"/review/bulletins/{original.id}/correct", data={"note": "再改"})
    assert again.headers["Location"].endswith(f"/review/bulletins/{correction.id}")
    # Not yet published: the public sees only the original, without a link.
    assert "本通报已被更正" not in client.get(f"/bulletins/{original.id}").get_data(as_text=True)
    _publish(correction, staff["a-leader"])
    assert correction.doc_number != original.doc_number
    earlier = client.get(f"/bulletins/{original.id}").get_data(as_text=True)
    assert "本通报已被更正" in earlier and f'href="/bulletins/{correction.id}"' in earlier
    later = client.get(f"/bulletins/{correction.id}").get_data(as_text=True)
    assert "更正" in later and note.replace("“", "&#34;") not in later
    assert f'href="/bulletins/{original.id}"' in later and original.doc_number in later
    listing = client.get("/bulletins").get_data(as_text=True)
    assert f"/bulletins/{original.id}" in listing and f"/bulletins/{correction.id}" in listing
    text = _pdf_text(client.get(f"/bulletins/{correction.id}.pdf").data)
    assert "更正" in text and f"本通报更正{original.doc_number}" in text
    assert "由“批评教育”更正为“诫勉谈话”" in text


def test_break_lines_moves_breaks_to_allowed_places():
    from vehiclewatch.bulletins.linebreak import break_lines

    def one(ch):
        return 1

    assert break_lines("一二三，四五", one, 3) == ["一二", "三，四", "五"]
    assert break_lines("一二（三四", one, 3) == ["一二", "（三四"]
    # A run of Latin letters and digits stays whole while it fits a line.
    assert break_lines("车牌号藏B10001。", one, 8, 6) == ["车牌号藏", "B10001。"]
