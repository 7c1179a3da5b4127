"""Spot checks nobody can steer: the draw is committed before it is seen, hidden during the
round, reproducible after it, never self-checked, and its problems become reports."""

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


@pytest.fixture
def fleet(org, make_vehicle):
    for code, letter in (("a-jy", "B"), ("b-jy", "C"), ("city-ga", "A")):
        for n in range(8):
            make_vehicle(org[code], plate=f"藏{letter}·{n + 1:05d}")
    make_vehicle(org["a-jy"], plate="藏B·99999", publicly_marked=False)


def test_draw_commits_before_it_is_seen_and_hides_the_seed(
    campaign_round, fleet, org, login_as, runner
):
    city, leader = login_as("leader", org["city"])
    response = city.post(
        "/review/spot-checks", data={"round_key": campaign_round.key, "per_jurisdiction": 3}
    )
    assert response.status_code == 302
    draw = db.session.execute(select(SpotCheckDraw)).scalar_one()
    assert len(draw.items) == 9  # three jurisdictions × 3
    assert sha256_hex(draw.candidates) == draw.candidates_hash
    assert "藏B·99999" not in draw.candidates  # confidential cars are never listed
    assert all(i.team_jurisdiction_id != i.jurisdiction_id for i in draw.items)
    seed_hex = services.decrypt_contact(draw.seed_enc)
    assert sha256_hex(bytes.fromhex(seed_hex)) == draw.seed_hash
    # During the round nobody sees the seed: not on any page, not through the command.
    for role, unit in (("leader", "city"), ("officer", "a"), ("officer", "b")):
        client, _ = login_as(role, org[unit])
        page = client.get("/review/spot-checks").get_data(as_text=True)
        assert seed_hex not in page and draw.seed_hash in page
    refused = runner.invoke(args=["spot-check", "verify", campaign_round.key])
    assert refused.exit_code != 0 and "revealed after the round ends" in refused.output
    # A county team sees only the list it must check, which is another county's or the city's.
    team_a, _ = login_as("officer", org["a"])
    page = team_a.get("/review/spot-checks").get_data(as_text=True)
    mine = [i for i in draw.items if i.team_jurisdiction_id == org["a"].id]
    others = [i for i in draw.items if i.team_jurisdiction_id != org["a"].id]
    assert all(i.vehicle.plate in page.split("抽取记录")[0] for i in mine)
    assert not any(i.vehicle.plate in page for i in others)


def test_after_the_round_anyone_can_verify(campaign_round, fleet, org, login_as, runner):
    leader = login_as("leader", org["city"])[1]
    draw = services.draw_spot_checks(campaign_round.key, 4, leader)
    seed_hex = services.decrypt_contact(draw.seed_enc)
    # The round ends.
    db.session.execute(update(SpotCheckDraw).values(round_end=date.today() - timedelta(days=1)))
    db.session.commit()
    result = runner.invoke(args=["spot-check", "verify", campaign_round.key])
    assert result.exit_code == 0, result.output
    assert seed_hex in result.output and "verified: 12 cars" in result.output
    client, _ = login_as("officer", org["b"])
    assert seed_hex in client.get("/review/spot-checks").get_data(as_text=True)
    # Re-running the published draw by hand gives the same lists.
    import json

    lists = draw_lists(bytes.fromhex(seed_hex), json.loads(draw.candidates), 4)
    drawn = sorted(i.vehicle.plate for i in draw.items)
    assert sorted(p for plates in lists.values() for p in plates) == drawn
    assert canonical_candidates(json.loads(draw.candidates)) == draw.candidates
    # Tampering with a handed-out list is caught.
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


def test_redraw_needs_a_reason_and_is_shown(campaign_round, fleet, org, login_as):
    client, leader = login_as("leader", org["city"])
    first = services.draw_spot_checks(campaign_round.key, 2, leader)
    again = client.post(
        "/review/spot-checks", data={"round_key": campaign_round.key, "per_jurisdiction": 2}
    )
    assert "如确需重抽，请填写理由" in again.get_data(as_text=True)
    client.post(
        "/review/spot-checks",
        data={"round_key": campaign_round.key, "per_jurisdiction": 2, "reason": "车辆台账更新"},
    )
    draws = db.session.execute(select(SpotCheckDraw).order_by(SpotCheckDraw.id)).scalars().all()
    assert len(draws) == 2 and draws[0].id == first.id
    assert draws[0].superseded_at is not None and draws[0].redraw_reason == "车辆台账更新"
    assert draws[0].seed_hash != draws[1].seed_hash
    page = client.get("/review/spot-checks").get_data(as_text=True)
    assert "车辆台账更新" in page
    from vehiclewatch.audit import AuditEntry

    actions = [e.action for e in db.session.execute(select(AuditEntry)).scalars()]
    assert "spot_check_redrawn" in actions


def test_only_city_prepares_draws(campaign_round, fleet, org, login_as):
    county, _ = login_as("leader", org["a"])
    response = county.post(
        "/review/spot-checks", data={"round_key": campaign_round.key, "per_jurisdiction": 2}
    )
    assert response.status_code == 403
    assert db.session.execute(select(SpotCheckDraw)).first() is None


def test_a_problem_opens_a_report_the_team_can_still_read(campaign_round, fleet, org, login_as):
    leader = login_as("leader", org["city"])[1]
    draw = services.draw_spot_checks(campaign_round.key, 2, leader)
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


def test_each_round_gets_its_own_draw(app, fleet, org, login_as):
    from vehiclewatch.calendar.rounds import load_campaigns

    today = utcnow().date()
    add_holiday_period(
        "长假", today, today + timedelta(days=15), "national", [], actor=audit.SYSTEM
    )
    first, second = load_campaigns()[0].rounds()[:2]
    leader = login_as("leader", org["city"])[1]
    one = services.draw_spot_checks(first.key, 3, leader)
    two = services.draw_spot_checks(second.key, 3, leader)
    assert one.seed_hash != two.seed_hash
    assert one.candidates_hash == two.candidates_hash  # same cars to choose from …
    plates = lambda draw: sorted(i.vehicle.plate for i in draw.items)  # noqa: E731
    assert plates(one) != plates(two)  # … but a different list
