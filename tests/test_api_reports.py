"""The integration API's reads for case systems: reports scoped exactly as an officer of the
token's unit sees them, filters and cursor paging, photos behind the same check, no reporter
contact anywhere, reads on the case's record; rounds with their draws, published bulletins."""

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from vehiclewatch import audit
from vehiclewatch.audit import AuditEntry
from vehiclewatch.auth.tokens import create_token
from vehiclewatch.bulletins import services as bulletins
from vehiclewatch.calendar.rounds import load_campaigns, round_for
from vehiclewatch.calendar.services import add_holiday_period
from vehiclewatch.campaigns import services as spot_checks
from vehiclewatch.campaigns.models import SpotCheckDraw
from vehiclewatch.extensions import db
from vehiclewatch.reports.photostore import photo_store
from vehiclewatch.reports.workflow import transition
from vehiclewatch.review.queries import Deadlines, QueueFilters, matching_reports
from vehiclewatch.timeutil import to_local, utcnow

from .photo_samples import processed_photo

NAME, PHONE = "欧阳明月", "13987654321"
# The units whose cars get a report: county 甲's department and its escalated 纪委监委 (whose
# cars the city reviews), county 乙's department, a 市直 department and the city's 纪委监委.
UNITS = ("a-jy", "a-jw", "b-jy", "city-ga", "city-jw")


@pytest.fixture
def cases(org, make_vehicle, make_report):
    """Two reports about a car of each unit; the first about 甲县教育局's car is real-name,
    with a photo."""
    found = {}
    for code in UNITS:
        car = make_vehicle(org[code], external_id=f"car-{code}")
        found[code] = [make_report(car, category="private_use")[0]]
        found[code].append(make_report(car, category="tourism")[0])
    found["real"] = make_report(
        found["a-jy"][0].vehicle,
        reporter_name=NAME,
        reporter_phone=PHONE,
        description="车停在餐馆门口",
        photos=[processed_photo()],
    )[0]
    return found


@pytest.fixture
def reader(org, api_token):
    """A confirmed reports:read token of a unit: its request headers."""

    def factory(code: str, name: str | None = None) -> dict:
        return api_token(org[code], "reports:read", name=name)[0]

    return factory


def every(client, headers, path="/api/v1/reports", **params) -> list[dict]:
    """All pages of a list, following next_cursor."""
    items, cursor = [], None
    while True:
        query = params | ({"cursor": cursor} if cursor else {})
        response = client.get(path, query_string=query, headers=headers)
        assert response.status_code == 200, response.get_json()
        items += response.get_json()["items"]
        cursor = response.get_json()["next_cursor"]
        if cursor is None:
            return items


def ids(items) -> list[int]:
    return [item["id"] for item in items]


@pytest.mark.parametrize("code", ["a", "b", "city", "a-jy", "city-jw"])
def test_a_token_lists_exactly_what_an_officer_of_its_unit_has_in_the_queue(
    client, org, cases, reader, make_user, code
):
    officer = make_user("officer", org[code])
    queue = [r.id for r in matching_reports(officer, QueueFilters(state="all"), Deadlines())]
    listed = ids(every(client, reader(code)))
    assert sorted(listed) == sorted(queue)
    assert listed  # every unit here reviews some of the reports


def test_a_county_sees_its_own_cars_but_not_its_escalated_commission_or_another_county(
    client, cases, reader
):
    county_a = set(ids(every(client, reader("a"))))
    assert county_a == {r.id for r in cases["a-jy"]} | {cases["real"].id}
    city = set(ids(every(client, reader("city"))))
    assert {r.id for r in cases["a-jw"]} <= city  # 回避: the level above reviews them
    other = cases["b-jy"][0].id
    response = client.get(f"/api/v1/reports/{other}", headers=reader("a"))
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "report_not_found"
    # Exactly as for a report that does not exist.
    missing = client.get("/api/v1/reports/999999", headers=reader("a")).get_json()
    assert missing == response.get_json()
    assert client.get(f"/api/v1/reports/{other}", headers=reader("b")).status_code == 200


def test_a_report_the_countys_team_filed_elsewhere_is_readable_but_not_listed(
    client, org, cases, reader, make_report
):
    """As on the officers' pages: the queue holds the county's own cases only."""
    found = make_report(cases["a-jy"][0].vehicle, reader_jurisdiction_id=org["b"].id)[0]
    assert client.get(f"/api/v1/reports/{found.id}", headers=reader("b")).status_code == 200
    assert found.id not in ids(every(client, reader("b")))


def test_filters(client, org, cases, reader, make_user):
    headers = reader("city")
    officer = make_user("officer", org["a"])
    accepted = transition(cases["a-jy"][1], "accept", officer)
    by_state = every(client, headers, state="accepted")
    assert ids(by_state) == [accepted.id]
    assert by_state[0]["state"] == "accepted"
    tourism = {r.id for code in UNITS for r in cases[code] if r.category == "tourism"}
    assert set(ids(every(client, headers, category="tourism"))) == tourism
    a_units = {r.id for r in cases["a-jy"] + cases["a-jw"]} | {cases["real"].id}
    assert set(ids(every(client, headers, unit="a"))) == a_units  # the county's subtree
    assert every(client, headers, unit="no-such-unit") == []
    bad = client.get("/api/v1/reports?state=lost", headers=headers)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "query.state"


def test_since_is_filing_and_updated_since_is_any_timeline_entry(
    client, org, cases, reader, make_user, make_report
):
    headers = reader("a")
    moment = utcnow().isoformat()
    assert every(client, headers, since=moment) == []
    assert every(client, headers, **{"updated-since": moment}) == []
    changed = transition(cases["a-jy"][0], "accept", make_user("officer", org["a"]))
    new = make_report(cases["a-jy"][0].vehicle)[0]
    assert ids(every(client, headers, since=moment)) == [new.id]
    updated = every(client, headers, **{"updated-since": moment})
    assert ids(updated) == sorted([changed.id, new.id])
    accepted_at = next(e.at for e in changed.events if e.kind == "accept")
    assert updated[0]["updated_at"] == accepted_at.isoformat()
    naive = client.get("/api/v1/reports?since=2026-02-16T09:00:00", headers=headers)
    assert naive.status_code == 422  # a moment needs its offset


def test_round_filter(client, org, spring, make_vehicle, make_report, reader):
    car = make_vehicle(org["a-jy"])
    inside = make_report(car, seen_at=to_local(utcnow()).replace(2026, 2, 16, 10))[0]
    make_report(car)
    assert inside.round_start == date(2026, 2, 16)
    assert ids(every(client, reader("a"), round="2026-02-16")) == [inside.id]


def test_cursor_paging_has_no_gaps_or_repeats(client, cases, reader):
    headers = reader("city")
    pages, cursor = [], None
    while True:
        query = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        body = client.get("/api/v1/reports", query_string=query, headers=headers).get_json()
        pages.append(ids(body["items"]))
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [3, 3, 3, 2]
    flat = [i for p in pages for i in p]
    assert flat == sorted(set(flat))
    assert set(flat) == {r.id for code in UNITS for r in cases[code]} | {cases["real"].id}


def test_one_report_with_its_timeline_evidence_and_photos(app, client, org, cases, reader):
    real = cases["real"]
    body = client.get(f"/api/v1/reports/{real.id}", headers=reader("a")).get_json()
    base = app.config["PUBLIC_BASE_URL"]
    assert body["url"] == f"{base}/api/v1/reports/{real.id}"
    assert body["page_url"] == f"{base}/review/reports/{real.id}"
    assert body["unit"] == "a-jy" and body["jurisdiction"] == "a"
    assert body["vehicle"] == "car-a-jy" and body["real_name"] is True
    assert body["description"] == "车停在餐馆门口"
    assert [e["kind"] for e in body["events"]] == ["submitted"]
    assert body["events"][0]["actor"] is None  # the reporter
    assert body["evidence"]["parts"] == json.loads(real.score_details)
    assert body["evidence"]["score"] == real.score > 0
    assert body["evidence"]["dispatch"]["data_exists"] is False
    [photo] = body["photos"]
    assert photo["url"] == f"{base}/api/v1/reports/{real.id}/photos/{real.photos[0].id}"


def test_the_reporters_contact_is_in_no_answer(client, org, cases, reader, spring):
    headers = reader("a")
    real = cases["real"]
    paths = [
        "/api/v1/reports",
        f"/api/v1/reports/{real.id}",
        "/api/v1/rounds",
        "/api/v1/rounds/2026-02-16",
        "/api/v1/bulletins",
    ]
    # Each body as sent and as read (JSON may escape the Chinese).
    bodies = []
    for path in paths:
        response = client.get(path, headers=headers)
        bodies += [response.get_data(as_text=True), json.dumps(response.get_json())]
        bodies.append(json.dumps(response.get_json(), ensure_ascii=False))
    assert f'"id": {real.id}' in bodies[2] and "车停在餐馆门口" in bodies[5]
    for body in bodies:
        assert NAME not in body and PHONE not in body
        assert real.reporter_name_enc not in body and real.reporter_phone_enc not in body
        assert "reporter_name" not in body and "reporter_phone" not in body
    document = client.get("/api/v1/openapi.json").get_data(as_text=True)
    assert "audited act" in document


def test_a_photo_needs_the_token_and_the_reports_scope(client, org, cases, reader, api_token):
    real = cases["real"]
    path = f"/api/v1/reports/{real.id}/photos/{real.photos[0].id}"
    assert client.get(path).status_code == 401
    fleet_headers = api_token(org["a"], "fleet:write")[0]
    forbidden = client.get(path, headers=fleet_headers)
    assert forbidden.status_code == 403 and forbidden.get_json()["code"] == "scope_missing"
    outside = client.get(path, headers=reader("b"))
    assert outside.status_code == 404 and outside.get_json()["code"] == "photo_not_found"
    # The photo only under its own report.
    elsewhere = cases["a-jy"][1].id
    wrong_report = f"/api/v1/reports/{elsewhere}/photos/{real.photos[0].id}"
    assert client.get(wrong_report, headers=reader("a")).status_code == 404
    stored = real.photos[0]
    for query, name in (("", stored.evidence_name), ("?size=display", stored.display_name)):
        with client.get(path + query, headers=reader("a")) as got:
            assert got.status_code == 200 and got.mimetype == "image/jpeg"
            assert got.data == photo_store().path(name).read_bytes()
            assert got.headers["X-Content-Type-Options"] == "nosniff"


def test_a_pending_token_reads_nothing(client, org, cases):
    _token, clear = create_token("待确认平台", org["a"], ["reports:read"], actor=audit.SYSTEM)
    headers = {"Authorization": f"Bearer {clear}"}
    for path in ("/api/v1/reports", f"/api/v1/reports/{cases['a-jy'][0].id}", "/api/v1/rounds"):
        response = client.get(path, headers=headers)
        assert response.status_code == 401 and response.get_json()["code"] == "unauthorized"


def _views(report_id: int) -> list[str]:
    return list(
        db.session.execute(
            select(AuditEntry.actor).where(
                AuditEntry.action == "report_viewed", AuditEntry.object_id == str(report_id)
            )
        ).scalars()
    )


def test_reading_a_report_is_on_its_record_as_an_officers_view_is(
    client, org, cases, reader, login_as
):
    headers = reader("a", name="案管平台")
    report = cases["a-jy"][0]
    every(client, headers)
    assert _views(report.id) == []  # the list is the queue: no one case is opened
    client.get(f"/api/v1/reports/{report.id}", headers=headers)
    assert _views(report.id) == ["api:案管平台"]
    officer, _user = login_as("officer", org["a"])
    page = officer.get(f"/review/reports/{report.id}").get_data(as_text=True)
    assert "api:案管平台" in page  # 查阅记录 names the token as it names officers


def test_no_state_changes_through_the_api(client, cases, reader):
    report = cases["a-jy"][0]
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(
            f"/api/v1/reports/{report.id}", json={"state": "accepted"}, headers=reader("a")
        )
        assert response.status_code == 405
    db.session.refresh(report)
    assert report.state == "submitted"


# --- rounds and draws -------------------------------------------------------------------


def test_rounds_follow_the_holiday_data(client, spring, reader):
    items = client.get("/api/v1/rounds", headers=reader("a")).get_json()["items"]
    expected = [r.key for c in reversed(load_campaigns()) for r in reversed(c.rounds())]
    assert [item["key"] for item in items] == expected
    one = client.get("/api/v1/rounds/2026-02-16", headers=reader("a")).get_json()
    assert one["campaign"]["holidays"] == ["春节"] and one["number"] == 3
    assert one["reports_url"].endswith("/api/v1/reports?round=2026-02-16")
    missing = client.get("/api/v1/rounds/2026-02-17", headers=reader("a"))
    assert missing.status_code == 404 and missing.get_json()["code"] == "round_not_found"


COMMITMENT = {
    "id",
    "round",
    "round_end",
    "drawn_at",
    "per_jurisdiction",
    "seed_hash",
    "candidates_hash",
    "public_source",
    "public_value",
    "public_value_at",
    "superseded_at",
    "redraw_reason",
    "page_url",
}


def test_a_draw_shows_its_commitment_and_after_the_round_what_reruns_it(
    client, org, make_vehicle, make_user, reader
):
    today = utcnow().date()
    add_holiday_period(
        "测试假期", today, today + timedelta(days=2), "national", [], actor=audit.SYSTEM
    )
    key = round_for(today).key
    for code, letter in (("a-jy", "B"), ("b-jy", "C"), ("city-ga", "A")):
        for n in range(3):
            make_vehicle(org[code], plate=f"藏{letter}·{n + 1:05d}")
    draw = spot_checks.draw_spot_checks(
        key, 2, make_user("leader", org["city"]), None, public_source="双色球第1期", today=today
    )
    draw = spot_checks.enter_public_value(draw, "01 02 03", make_user("officer", org["city"]))
    listed = client.get("/api/v1/rounds", headers=reader("a")).get_json()["items"]
    [summary] = [d for r in listed for d in r["draws"]]
    assert set(summary) == COMMITMENT  # nothing the public pages do not show
    assert summary["seed_hash"] == draw.seed_hash
    running = client.get(f"/api/v1/rounds/{key}", headers=reader("a")).get_json()
    [committed] = running["draws"]
    assert set(committed) == COMMITMENT | {"revealed"} and committed["revealed"] is None
    seed = spot_checks.decrypt_contact(draw.seed_enc)
    assert seed not in json.dumps(running)
    # The round ends: the seed, the public value and the candidates are published.
    db.session.execute(update(SpotCheckDraw).values(round_end=today - timedelta(days=1)))
    db.session.commit()
    ended = client.get(f"/api/v1/rounds/{key}", headers=reader("a")).get_json()
    revealed = ended["draws"][0]["revealed"]
    assert revealed["seed"] == seed and revealed["public_value"] == "01 02 03"
    assert revealed["candidates"] == draw.candidates
    page = client.get(f"/spot-checks/{draw.id}").get_data(as_text=True)
    assert seed in page and all(p in page for ps in revealed["lists"].values() for p in ps)


# --- bulletins --------------------------------------------------------------------------


def test_published_bulletins_only_to_any_working_token(
    client, org, make_user, make_vehicle, make_report, api_token
):
    day = to_local(utcnow()).date() - timedelta(days=14)
    add_holiday_period("春节", day, day + timedelta(days=2), "national", [], actor=audit.SYSTEM)
    key = round_for(day).key
    officer, leader = make_user("officer", org["a"]), make_user("leader", org["a"])
    published = bulletins.create_draft(key, org["a"], officer)
    case = bulletins.CaseText("甲县教育局", day, "节日期间公车私用", "批评教育", "甲县纪委监委")
    bulletins.save_draft(published, "第一轮通报", [case], officer)
    bulletins.approve(published, leader)
    bulletins.publish(published, leader)
    draft = bulletins.create_draft(key, org["b"], make_user("officer", org["b"]))
    fleet = api_token(org["b"], "fleet:write")[0]  # public data: any scope will do
    assert client.get("/api/v1/bulletins").status_code == 401
    listed = every(client, fleet, path="/api/v1/bulletins")
    assert ids(listed) == [published.id]
    one = client.get(f"/api/v1/bulletins/{published.id}", headers=fleet).get_json()
    assert one["doc_number"] == published.doc_number and one["issuer"] == "甲县纪委监委"
    assert one["page_url"].endswith(f"/bulletins/{published.id}")
    assert one["audit_anchor"] == published.audit_anchor
    assert one["figures"]["received"] == 0 and one["title"] == "第一轮通报"
    assert one["cases"] == [
        {
            "unit_name": "甲县教育局",
            "person_position": "",
            "occurred_on": day.isoformat(),
            "plate": "",
            "what_happened": "节日期间公车私用",
            "outcome": "批评教育",
            "deciding_body": "甲县纪委监委",
        }
    ]
    hidden = client.get(f"/api/v1/bulletins/{draft.id}", headers=fleet)
    assert hidden.status_code == 404 and hidden.mimetype == "application/problem+json"
    rounds = client.get(f"/api/v1/rounds/{key}", headers=api_token(org["a"], "reports:read")[0])
    assert [b["id"] for b in rounds.get_json()["bulletins"]] == [published.id]
