"""Spot checks nobody can steer: the draw is committed in public before it is seen, its lists
wait for a public value a second officer enters, it is hidden during the round, reproducible
after it, never self-checked, and its problems become reports."""

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from vehiclewatch import audit
from vehiclewatch.calendar.services import add_holiday_period
from vehiclewatch.campaigns import services
from vehiclewatch.campaigns.models import SpotCheckDraw, SpotCheckItem
from vehiclewatch.campaigns.spotchecks import (
    DrawImpossible,
    canonical_candidates,
    draw_lists,
    mixed_seed,
    sha256_hex,
    team_pairing,
)
from vehiclewatch.extensions import db
from vehiclewatch.reports.models import Report
from vehiclewatch.timeutil import utcnow

CANDIDATES = {
    "a": [f"藏B·1{n:04d}" for n in range(40)],
    "b": [f"藏C·2{n:04d}" for n in range(30)],
    "city": [f"藏A·3{n:04d}" for n in range(20)],
}


def test_draw_is_reproducible_from_seed_and_candidates():
    seed = bytes(range(32))
    first = draw_lists(seed, CANDIDATES, 5)
    again = draw_lists(seed, {k: list(reversed(v)) for k, v in CANDIDATES.items()}, 5)
    assert first == again and all(len(v) == 5 for v in first.values())
    assert first["a"] == sorted(CANDIDATES["a"], key=lambda p: sha256_hex(seed + p.encode()))[:5]
    assert draw_lists(bytes(32), CANDIDATES, 5) != first


def test_no_jurisdiction_checks_itself():
    for n in range(50):
        teams = team_pairing(n.to_bytes(32, "big"), ["a", "b", "c", "city"])
        assert all(team != checked for checked, team in teams.items())
        assert sorted(teams.values()) == sorted(teams)  # every team checks exactly one list
    with pytest.raises(DrawImpossible):
        team_pairing(bytes(32), ["a"])


@pytest.fixture
def campaign_round(app):
    """A round under way today."""
    today = utcnow().date()
    add_holiday_period(
        "测试假期", today, today + timedelta(days=2), "national", [], actor=audit.SYSTEM
    )
    from vehiclewatch.calendar.rounds import round_for

    return round_for(today)


LOTTERY = "中国福利彩票双色球第2026141期"
NUMBERS = "03 07 12 19 25 31 09"


@pytest.fixture
def drawn(org, make_user):
    """Draw a round and have a second city officer enter the lottery's numbers."""

    def factory(round_key, per_jurisdiction, drawer, reason=None):
        draw = services.draw_spot_checks(
            round_key,
            per_jurisdiction,
            drawer,
            reason,
            public_source=LOTTERY,
            today=utcnow().date(),
        )
        return services.enter_public_value(draw, NUMBERS, make_user("officer", org["city"]))

    return factory


@pytest.fixture
def fleet(org, make_vehicle):
    for code, letter in (("a-jy", "B"), ("b-jy", "C"), ("city-ga", "A")):
        for n in range(8):
            make_vehicle(org[code], plate=f"藏{letter}·{n + 1:05d}")
    make_vehicle(org["a-jy"], plate="藏B·99999", publicly_marked=False)


def test_the_commitment_is_public_and_the_lists_wait_for_the_public_value(
    campaign_round, fleet, org, login_as, runner, app
):
    city, leader = login_as("leader", org["city"])
    response = city.post(
        "/review/spot-checks",
        data={
            "round_key": campaign_round.key,
            "per_jurisdiction": 3,
            "public_source": LOTTERY,
        },
    )
    assert response.status_code == 302
    draw = db.session.execute(select(SpotCheckDraw)).scalar_one()
    assert draw.sealed and draw.items == [] and draw.public_source == LOTTERY
    assert sha256_hex(draw.candidates) == draw.candidates_hash
    assert "藏B·99999" not in draw.candidates  # confidential cars are never listed
    seed_hex = services.decrypt_contact(draw.seed_enc)
    assert sha256_hex(bytes.fromhex(seed_hex)) == draw.seed_hash
    # The commitment is public at once, to anyone: round, time, both hashes, the named draw.
    anonymous = app.test_client()
    for url in ("/spot-checks", f"/spot-checks/{draw.id}"):
        page = anonymous.get(url).get_data(as_text=True)
        assert draw.seed_hash in page and draw.candidates_hash in page and LOTTERY in page
        assert campaign_round.start.isoformat() in page and "待开奖后录入" in page
        assert seed_hex not in page and "藏B·00001" not in page
    # No team has a list yet.
    team_a, _ = login_as("officer", org["a"])
    mine = team_a.get("/review/spot-checks").get_data(as_text=True).split("抽取记录")[0]
    assert "目前没有分配给本检查组的抽查任务" in mine
    # The drawer may not enter the value, nor may a county; a second city officer does.
    refused = city.post(f"/review/spot-checks/draws/{draw.id}/public-value", data={"value": "1"})
    assert "另一名工作人员" in city.get(refused.headers["Location"]).get_data(as_text=True)
    assert (
        team_a.post(
            f"/review/spot-checks/draws/{draw.id}/public-value", data={"value": "1"}
        ).status_code
        == 403
    )
    second, _ = login_as("officer", org["city"])
    page = second.get("/review/spot-checks").get_data(as_text=True)
    assert "录入开奖号码" in page
    second.post(
        f"/review/spot-checks/draws/{draw.id}/public-value",
        data={"value": "  03 07  12 19 25 31\t09 "},
    )
    db.session.expire_all()
    draw = db.session.get(SpotCheckDraw, draw.id)
    assert draw.public_value == NUMBERS and not draw.sealed
    assert len(draw.items) == 9  # three jurisdictions × 3
    assert all(i.team_jurisdiction_id != i.jurisdiction_id for i in draw.items)
    assert NUMBERS in anonymous.get("/spot-checks").get_data(as_text=True)
    again = second.post(
        f"/review/spot-checks/draws/{draw.id}/public-value", data={"value": "1 2 3"}
    )
    assert "已录入开奖号码" in second.get(again.headers["Location"]).get_data(as_text=True)
    assert db.session.get(SpotCheckDraw, draw.id).public_value == NUMBERS
    # The ranking mixes the seed and the public value: the seed alone would not give it.
    seed = bytes.fromhex(seed_hex)
    candidates = json.loads(draw.candidates)
    drawn = {}
    for item in sorted(draw.items, key=lambda i: (i.jurisdiction.code, i.rank)):
        drawn.setdefault(item.jurisdiction.code, []).append(item.vehicle.plate)
    assert drawn == draw_lists(mixed_seed(seed, NUMBERS), candidates, 3)
    assert drawn != draw_lists(seed, candidates, 3)
    assert drawn != draw_lists(mixed_seed(seed, "03 07 12 19 25 31 10"), candidates, 3)
    # During the round nobody sees the seed: not on any page, not through the command.
    for role, unit in (("leader", "city"), ("officer", "a"), ("officer", "b")):
        client, _ = login_as(role, org[unit])
        page = client.get("/review/spot-checks").get_data(as_text=True)
        assert seed_hex not in page and draw.seed_hash in page
    assert seed_hex not in anonymous.get(f"/spot-checks/{draw.id}").get_data(as_text=True)
    refused = runner.invoke(args=["spot-check", "verify", campaign_round.key])
    assert refused.exit_code != 0 and "revealed after the round ends" in refused.output
    # A county team sees only the list it must check, which is another county's or the city's.
    page = team_a.get("/review/spot-checks").get_data(as_text=True)
    mine = [i for i in draw.items if i.team_jurisdiction_id == org["a"].id]
    others = [i for i in draw.items if i.team_jurisdiction_id != org["a"].id]
    assert all(i.vehicle.plate in page.split("抽取记录")[0] for i in mine)
    assert not any(i.vehicle.plate in page for i in others)


def test_after_the_round_anyone_can_verify(
    campaign_round, fleet, org, login_as, runner, drawn, app
):
    leader = login_as("leader", org["city"])[1]
    draw = drawn(campaign_round.key, 4, leader)
    seed_hex = services.decrypt_contact(draw.seed_enc)
    # The round ends.
    db.session.execute(update(SpotCheckDraw).values(round_end=date.today() - timedelta(days=1)))
    db.session.commit()
    result = runner.invoke(args=["spot-check", "verify", campaign_round.key])
    assert result.exit_code == 0, result.output
    assert seed_hex in result.output and "verified: 12 cars" in result.output
    assert f"public value of {LOTTERY}: {NUMBERS}" in result.output
    client, _ = login_as("officer", org["b"])
    assert seed_hex in client.get("/review/spot-checks").get_data(as_text=True)
    # Everything needed to re-run it is published, to anyone.
    page = app.test_client().get(f"/spot-checks/{draw.id}").get_data(as_text=True)
    assert seed_hex in page and NUMBERS in page and "verify-draw.js" in page
    assert draw.candidates.replace('"', "&#34;") in page
    # Re-running the published draw by hand gives the same lists.
    mixed = mixed_seed(bytes.fromhex(seed_hex), NUMBERS)
    lists = draw_lists(mixed, json.loads(draw.candidates), 4)
    handed_out = sorted(i.vehicle.plate for i in draw.items)
    assert sorted(p for plates in lists.values() for p in plates) == handed_out
    assert canonical_candidates(json.loads(draw.candidates)) == draw.candidates
    # A different public value recorded afterwards is caught …
    draw.public_value = "03 07 12 19 25 31 10"
    db.session.commit()
    changed = runner.invoke(args=["spot-check", "verify", campaign_round.key])
    assert changed.exit_code == 1 and "MISMATCH" in changed.output
    draw.public_value = NUMBERS
    db.session.commit()
    # … and so is tampering with a handed-out list.
    item = draw.items[0]
    other_vehicle = (
        db.session.execute(select(SpotCheckItem.vehicle_id).where(SpotCheckItem.id != item.id))
        .scalars()
        .first()
    )
    item.vehicle_id = other_vehicle
    db.session.commit()
    tampered = runner.invoke(args=["spot-check", "verify", campaign_round.key])
    assert tampered.exit_code == 1 and "MISMATCH" in tampered.output


def test_draws_for_ended_rounds_are_refused(app, fleet, org, login_as):
    today = utcnow().date()
    add_holiday_period(
        "旧假期",
        today - timedelta(days=20),
        today - timedelta(days=18),
        "national",
        [],
        actor=audit.SYSTEM,
    )
    from vehiclewatch.calendar.rounds import load_campaigns

    ended = load_campaigns()[0].rounds()[0]
    client, leader = login_as("leader", org["city"])
    with pytest.raises(services.RoundEnded):
        services.draw_spot_checks(ended.key, 2, leader, public_source=LOTTERY, today=today)
    page = client.get("/review/spot-checks").get_data(as_text=True)
    assert f'value="{ended.key}"' not in page  # not offered
    response = client.post(
        "/review/spot-checks",
        data={"round_key": ended.key, "per_jurisdiction": 2, "public_source": LOTTERY},
    )
    assert response.status_code == 422
    assert db.session.execute(select(SpotCheckDraw)).first() is None


def test_redraw_needs_a_reason_and_is_public(campaign_round, fleet, org, login_as, drawn, app):
    client, leader = login_as("leader", org["city"])
    first = drawn(campaign_round.key, 2, leader)
    data = {"round_key": campaign_round.key, "per_jurisdiction": 2, "public_source": LOTTERY}
    again = client.post("/review/spot-checks", data=data)
    assert "如确需重抽，请填写理由" in again.get_data(as_text=True)
    client.post("/review/spot-checks", data=data | {"reason": "车辆台账更新"})
    draws = db.session.execute(select(SpotCheckDraw).order_by(SpotCheckDraw.id)).scalars().all()
    assert len(draws) == 2 and draws[0].id == first.id
    assert draws[0].superseded_at is not None and draws[0].redraw_reason == "车辆台账更新"
    assert draws[0].seed_hash != draws[1].seed_hash
    page = client.get("/review/spot-checks").get_data(as_text=True)
    assert "车辆台账更新" in page
    public = app.test_client().get("/spot-checks").get_data(as_text=True)
    assert "车辆台账更新" in public  # the redraw and its reason are public
    assert draws[0].seed_hash in public and draws[1].seed_hash in public  # both stay listed
    from vehiclewatch.audit import AuditEntry

    actions = [e.action for e in db.session.execute(select(AuditEntry)).scalars()]
    assert "spot_check_redrawn" in actions


def test_only_city_prepares_draws(campaign_round, fleet, org, login_as):
    county, _ = login_as("leader", org["a"])
    response = county.post(
        "/review/spot-checks",
        data={"round_key": campaign_round.key, "per_jurisdiction": 2, "public_source": LOTTERY},
    )
    assert response.status_code == 403
    assert db.session.execute(select(SpotCheckDraw)).first() is None


def test_a_problem_opens_a_report_the_team_can_still_read(
    campaign_round, fleet, org, login_as, drawn
):
    leader = login_as("leader", org["city"])[1]
    draw = drawn(campaign_round.key, 2, leader)
    item = next(i for i in draw.items if i.jurisdiction_id == org["b"].id)
    team_code = next(code for code in ("a", "city") if org[code].id == item.team_jurisdiction_id)
    team, _ = login_as("officer", org[team_code])
    response = team.post(
        f"/review/spot-checks/items/{item.id}",
        data={"result": "problem", "category": "holiday_unsealed", "note": "节日期间未按规定封存"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    item = db.session.get(SpotCheckItem, item.id)
    report = db.session.get(Report, item.report_id)
    assert report.source == "inspection" and report.unit_id == item.vehicle.unit_id
    assert report.state == "submitted"
    assert team.get(f"/review/reports/{report.id}").status_code == 200
    # It is handled by the car's own officers; a county team only reads it.
    accept = team.post(f"/review/reports/{report.id}/accept", data={"version": report.version})
    assert accept.status_code == (302 if team_code == "city" else 403)
    owners, _ = login_as("officer", org["b"])
    assert owners.get(f"/review/reports/{report.id}").status_code == 200
    # Another team cannot record results for a list that is not theirs.
    stranger_code = next(
        c for c in ("a", "b", "city") if org[c].id not in (item.team_jurisdiction_id,)
    )
    stranger, _ = login_as("officer", org[stranger_code])
    assert (
        stranger.post(f"/review/spot-checks/items/{item.id}", data={"result": "normal"}).status_code
        == 404
    )


def test_each_round_gets_its_own_draw(app, fleet, org, login_as, drawn):
    from vehiclewatch.calendar.rounds import load_campaigns

    today = utcnow().date()
    add_holiday_period(
        "长假", today, today + timedelta(days=15), "national", [], actor=audit.SYSTEM
    )
    first, second = [r for r in load_campaigns()[0].rounds() if r.end >= today][:2]
    leader = login_as("leader", org["city"])[1]
    one = drawn(first.key, 3, leader)
    two = drawn(second.key, 3, leader)
    assert one.seed_hash != two.seed_hash
    assert one.candidates_hash == two.candidates_hash  # same cars to choose from …
    plates = lambda draw: sorted(i.vehicle.plate for i in draw.items)  # noqa: E731
    assert plates(one) != plates(two)  # … but a different list
