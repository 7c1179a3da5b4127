"""Filing a report rescores its neighbours without work that grows with their number."""

import json
import random
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from vehiclewatch import audit
from vehiclewatch.extensions import db
from vehiclewatch.reports.models import Report
from vehiclewatch.reports.scoring import evidence
from vehiclewatch.timeutil import utcnow


@pytest.fixture
def car(org, make_vehicle):
    from vehiclewatch.fleet.stickers import issue_sticker

    vehicle = make_vehicle(org["a-jy"], plate="藏B·20001")
    issue_sticker(vehicle, actor=audit.SYSTEM)
    return vehicle


@contextmanager
def counted_statements():
    """Every statement sent to the database inside the block."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _statements_for_one_more(make_report, car, seen_at) -> list[str]:
    db.session.expire_all()
    with counted_statements() as statements:
        make_report(car, seen_at=seen_at)
    return statements


def _neighbour_updates(statements: list[str]) -> list[str]:
    return [s for s in statements if "score_details=CASE" in s.replace(" ", "")]


@pytest.fixture
def no_bursts(app):
    """Every filing counts: none is marked as part of a burst (those neither give nor get
    corroboration)."""
    app.config["CAR_BURST_PER_HOUR"] = 100_000


def test_queries_per_report_do_not_grow_with_neighbours(car, make_report, no_bursts):
    seen_at = utcnow() - timedelta(hours=1)
    make_report(car, seen_at=seen_at)
    # One, two and three earlier reports, each below the cap: all are raised at once.
    below_cap = [_statements_for_one_more(make_report, car, seen_at) for _ in range(3)]
    for minutes in range(200):
        make_report(car, seen_at=seen_at + timedelta(seconds=36 * minutes - 3600))
    at_cap = _statements_for_one_more(make_report, car, seen_at)
    assert len({len(statements) for statements in below_cap}) == 1
    assert all(len(_neighbour_updates(statements)) == 1 for statements in below_cap)
    # Two hundred neighbours, every one at the cap already: nothing to raise, and no more
    # statements than with one neighbour.
    assert _neighbour_updates(at_cap) == []
    assert len(at_cap) == len(below_cap[0]) - 1


def _stored(report: Report) -> dict[str, int]:
    return json.loads(report.score_details)


def _file_at_random(make_report, car, plate_only: bool) -> None:
    rng = random.Random(26)
    start = utcnow() - timedelta(hours=50)
    for _ in range(30):
        seen_at = start + timedelta(minutes=rng.randrange(0, 48 * 60))
        if plate_only:
            make_report(None, seen_at=seen_at, typed_plate="藏B·77777")
        else:
            make_report(car, seen_at=seen_at, plate_matches=rng.random() < 0.2)


def _stored_scores_match_a_full_rescore() -> list[Report]:
    db.session.expire_all()
    reports = db.session.execute(select(Report)).scalars().all()
    assert len(reports) == 30
    for report in reports:
        fresh = evidence(report)
        assert _stored(report) == fresh, report.seen_at
        assert report.score == sum(fresh.values())
    return reports


@pytest.mark.parametrize("plate_only", [False, True])
def test_raised_neighbours_match_a_full_rescore(car, make_report, plate_only, no_bursts):
    """Reports filed in random order over two days: each stored score equals what
    scoring it from scratch gives."""
    _file_at_random(make_report, car, plate_only)
    reports = _stored_scores_match_a_full_rescore()
    counts = {_stored(report).get("corroboration", 0) for report in reports}
    assert counts >= {15, 30, 45}  # the draw exercised every step below the cap and the cap


def test_reports_of_a_burst_neither_give_nor_get_corroboration(car, make_report, app):
    app.config["CAR_BURST_PER_HOUR"] = 10
    _file_at_random(make_report, car, plate_only=False)
    reports = _stored_scores_match_a_full_rescore()
    bursts = [report for report in reports if report.burst]
    assert len(bursts) == 20
    assert all("corroboration" not in _stored(report) for report in bursts)
