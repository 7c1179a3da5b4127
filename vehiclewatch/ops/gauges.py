"""Gauges read from the database at scrape time: the same for every worker and host."""

from sqlalchemy import func, select

from ..audit import AuditEntry
from ..extensions import db
from ..reports.models import Report
from ..reports.states import State
from ..review.queries import Deadlines, overdue_clause
from ..timeutil import utcnow


def database_gauges():
    rows = db.session.execute(select(Report.state, func.count()).group_by(Report.state))
    by_state = {state: n for state, n in rows}
    yield (
        "vehiclewatch_reports",
        "Reports by state (the queue sizes).",
        [({"state": str(state)}, float(by_state.get(state, 0))) for state in State],
    )
    overdue = db.session.execute(
        select(func.count()).select_from(Report).where(overdue_clause(Deadlines()))
    ).scalar_one()
    yield (
        "vehiclewatch_reports_overdue",
        "Reports past their screening or acknowledgement deadline.",
        [({}, float(overdue))],
    )
    last_backup = db.session.execute(
        select(func.max(AuditEntry.at)).where(AuditEntry.action == "backup_created")
    ).scalar_one()
    if last_backup is not None:
        yield (
            "vehiclewatch_backup_age_seconds",
            "Seconds since the last `vehiclewatch backup` finished.",
            [({}, (utcnow() - last_backup).total_seconds())],
        )
