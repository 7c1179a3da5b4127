"""Officer queue at scale: 1,000,000 reports, 50,000 vehicles, 20 counties (SQLite, or the
database named by BENCH_DATABASE_URL). First page filtered by county and state, ranked by
urgency, p95 against a reference: a bare primary-key lookup in the same session. Plus the
dashboard's grouped counts."""

import os
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from flask_migrate import upgrade
from helpers import vehicle_rows
from sqlalchemy import insert, select, text

from vehiclewatch import audit, create_app
from vehiclewatch.auth.models import Role, Unit, UnitKind
from vehiclewatch.auth.services import create_unit, create_user
from vehiclewatch.extensions import db
from vehiclewatch.fleet.models import Vehicle
from vehiclewatch.reports.models import Report
from vehiclewatch.review import figures, queries
from vehiclewatch.timeutil import utcnow

REPORTS = int(os.environ.get("BENCH_REPORTS", 1_000_000))
VEHICLES = 50_000
COUNTIES = 20
STATES = ["submitted"] * 4 + ["accepted", "verifying", "concluded", "answered", "rejected"]


def _populate() -> list:
    rng = random.Random(7)
    city = create_unit("city", "示例市", UnitKind.CITY, None, actor=audit.SYSTEM)
    counties = []
    for n in range(COUNTIES):
        county = create_unit(f"c{n}", f"县{n}", UnitKind.COUNTY, city, actor=audit.SYSTEM)
        create_unit(f"c{n}-d", f"县{n}部门", UnitKind.DEPARTMENT, county, actor=audit.SYSTEM)
        counties.append(county)
    departments = db.session.execute(select(Unit).where(Unit.kind == "department")).scalars().all()
    now = utcnow()
    vehicles = vehicle_rows(VEHICLES, [d.id for d in departments], 10000)
    db.session.execute(insert(Vehicle), vehicles)
    unit_of = dict(db.session.execute(select(Vehicle.id, Vehicle.unit_id)).all())
    vehicle_ids = list(unit_of)
    batch = []
    for i in range(REPORTS):
        vehicle_id = vehicle_ids[rng.randrange(len(vehicle_ids))]
        created = now - timedelta(minutes=rng.randrange(60 * 24 * 365))
        batch.append(
            {
                "vehicle_id": vehicle_id,
                "unit_id": unit_of[vehicle_id],
                "seen_at": created - timedelta(hours=1),
                "place": "",
                "category": "private_use",
                "description": "",
                "real_name": False,
                "receipt_hash": f"{i:064x}",
                "receipt_key": "bench",
                "source": "scan",
                "state": STATES[rng.randrange(len(STATES))],
                "state_changed_at": created,
                "score": rng.choice((0, 10, 10, 20, 25, 35, 45, 60, 85)),
                "score_details": "{}",
                "flagged": False,
                "created_at": created,
                "version": 1,
            }
        )
        if len(batch) == 50_000:
            db.session.execute(insert(Report), batch)
            batch = []
    if batch:
        db.session.execute(insert(Report), batch)
    officer = create_user(
        "bench-officer",
        "基准",
        Role.OFFICER,
        counties[3],
        "swift-yak-grazes-2026",
        actor=audit.SYSTEM,
    )
    db.session.commit()
    # A production database has planner statistics (and, on PostgreSQL, a visibility map for
    # index-only scans) from autovacuum; a fresh bulk load must gather them first.
    command = "VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE"
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(command))
    return officer


def _time(fn, runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def run() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        uri = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{Path(tmp)}/queue.sqlite3"
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": uri, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1}
        )
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            start = time.perf_counter()
            officer = _populate()
            populate = time.perf_counter() - start
            deadlines = queries.Deadlines()
            filters = queries.QueueFilters(state="submitted")
            reference = _time(lambda: db.session.get(Report, 12345, populate_existing=True), 200)
            page = _time(lambda: queries.queue_page(officer, filters, deadlines), 50)
            # The queue's default view: every report still being worked on.
            working = queries.QueueFilters()
            default = _time(lambda: queries.queue_page(officer, working, deadlines), 50)
            counts = _time(lambda: queries.state_counts(officer, filters, deadlines), 20)
            dashboard = _time(lambda: figures.dashboard(officer, deadlines), 10)
            engine = db.engine.dialect.name
            db.engine.dispose()
    rows = [
        f"## Officer queue, {REPORTS:,} reports / {VEHICLES:,} vehicles / {COUNTIES} counties "
        f"({engine})",
        "",
        f"Data generated in {populate:.0f} s. One county officer; filters: state 待受理, and"
        " the default view (every open report).",
        "",
        "| what | p95 | median |",
        "| --- | --- | --- |",
        f"| reference: primary-key lookup | {_p95(reference):.2f} ms | "
        f"{statistics.median(reference):.2f} ms |",
        f"| queue first page (scope + state, ranked, keyset) | {_p95(page):.1f} ms | "
        f"{statistics.median(page):.1f} ms |",
        f"| queue default view (scope + open reports, ranked, keyset) | {_p95(default):.1f} ms | "
        f"{statistics.median(default):.1f} ms |",
        f"| counts per state | {_p95(counts):.1f} ms | {statistics.median(counts):.1f} ms |",
        f"| dashboard (all figures) | {_p95(dashboard):.0f} ms | "
        f"{statistics.median(dashboard):.0f} ms |",
        f"| targets | queue p95 ≤ 50 ms: {_verdict(max(_p95(page), _p95(default)) <= 50)};"
        f" dashboard ≤ 200 ms: {_verdict(_p95(dashboard) <= 200)} | |",
        "",
    ]
    return "\n".join(rows)
