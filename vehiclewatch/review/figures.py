"""The dashboard's figures, each one grouped query over the viewer's case scope."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func, select

from ..auth.models import Unit, User
from ..auth.scope import in_case_scope
from ..extensions import db
from ..reports.models import Report, ReportEvent
from ..reports.states import State
from ..timeutil import local_zone
from .queries import Deadlines, count_by, overdue_clause


def _seconds_between(later, earlier):
    if db.engine.dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400
    return func.extract("epoch", later - earlier)


def local_week_starts(now: datetime, weeks: int) -> list[date]:
    """The Mondays of the last `weeks` local weeks, the current one last."""
    today = now.astimezone(local_zone()).date()
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def _local_week_of(column, mondays: list[date]):
    """Which of these local weeks a UTC time falls in, as a SQL expression: the weeks'
    boundaries are computed here in the configured zone, so both engines agree (and a
    Monday morning before 08:00 in Asia/Shanghai is that Monday's week)."""
    zone = local_zone()
    bounds = [datetime.combine(day, time(), tzinfo=zone).astimezone(UTC) for day in mondays]
    return case(
        *((column >= start, index) for index, start in reversed(list(enumerate(bounds)))),
        else_=None,
    )


def _average_days(user: User, event_condition) -> float | None:
    """Mean days from submission to the first event matching the condition."""
    # The first matching event of each report in scope: the scope drives (a unit's reports
    # through its index), then each report's events through theirs.
    first = (
        select(Report.created_at, func.min(ReportEvent.at).label("at"))
        .join(ReportEvent, ReportEvent.report_id == Report.id)
        .where(in_case_scope(user, Report.unit_id), event_condition)
        .group_by(Report.id, Report.created_at)
        .subquery()
    )
    seconds = db.session.execute(
        select(func.avg(_seconds_between(first.c.at, first.c.created_at)))
    ).scalar_one()
    return None if seconds is None else float(seconds) / 86400


@dataclass
class Dashboard:
    by_state: dict[str, int]
    by_category: dict[str, int]
    by_jurisdiction: list[tuple[str, int]]
    by_week: list[tuple[str, int]]
    overdue: int
    days_to_screen: float | None
    days_to_conclude: float | None

    @property
    def total(self) -> int:
        return sum(self.by_state.values())


def dashboard(user: User, deadlines: Deadlines, weeks: int = 12) -> Dashboard:
    """The dashboard's figures, each one grouped query over the viewer's scope."""
    scope = in_case_scope(user, Report.unit_id)

    jurisdiction = select(Unit.id, Unit.jurisdiction_id).subquery()
    names = {u.id: u.name for u in db.session.execute(select(Unit)).scalars()}
    by_jurisdiction = db.session.execute(
        select(jurisdiction.c.jurisdiction_id, func.count())
        .select_from(Report)
        .join(jurisdiction, jurisdiction.c.id == Report.unit_id)
        .where(scope)
        .group_by(jurisdiction.c.jurisdiction_id)
    ).all()
    mondays = local_week_starts(deadlines.now, weeks)
    week = _local_week_of(Report.created_at, mondays)
    first = datetime.combine(mondays[0], time(), tzinfo=local_zone())
    per_week = dict(
        db.session.execute(
            select(week, func.count()).where(scope, Report.created_at >= first).group_by(week)
        ).all()
    )
    overdue = db.session.execute(
        select(func.count()).where(scope, overdue_clause(deadlines))
    ).scalar_one()
    return Dashboard(
        by_state=count_by(Report.state, scope),
        by_category=count_by(Report.category, scope),
        by_jurisdiction=sorted(
            ((names.get(j, "—"), n) for j, n in by_jurisdiction), key=lambda item: -item[1]
        ),
        by_week=[(str(day), per_week.get(index, 0)) for index, day in enumerate(mondays)],
        overdue=overdue,
        days_to_screen=_average_days(user, ReportEvent.from_state == State.SUBMITTED),
        days_to_conclude=_average_days(user, ReportEvent.to_state == State.CONCLUDED),
    )
