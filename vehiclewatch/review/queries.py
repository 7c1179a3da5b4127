"""Reads for officers, always through the case scope: the queue, counts, a report's
neighbours and viewers (the dashboard's figures are in figures.py)."""

import base64
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import abort
from sqlalchemy import and_, exists, func, or_, select, text, true

from ..audit import AuditEntry
from ..auth.models import Unit, User
from ..auth.scope import case_unit_ids, in_case_scope, in_report_scope, subtree_ids
from ..calendar.workdays import WorkingCalendar, load_calendar, overdue_cutoff
from ..extensions import db
from ..inputs import MAX_ID, query_id
from ..reports.models import WORKING_CONDITION, Report, ReportPhoto
from ..reports.states import FINISHED_STATES, State
from ..reports.workflow import may_approve
from ..timeutil import local_zone, utcnow

PAGE_SIZE = 50
SCREENING_DAYS = 5
ACKNOWLEDGE_DAYS = 15
NEIGHBOUR_WINDOW = timedelta(hours=24)
# Views of a case by one person this close together are shown as one line (each stays in
# the audit log).
VIEW_MERGE_WINDOW = timedelta(minutes=5)

# The state filter's views besides one state: the default (reports still being worked on),
# the finished ones, everything.
VIEW_WORKING = ""
VIEW_FINISHED = "finished"
VIEW_ALL = "all"


def readable(user: User):
    """Reports the user may read: their case scope, and what their cross-check team filed."""
    return in_report_scope(user, Report.unit_id, Report.reader_jurisdiction_id)


def report_or_404(user: User, report_id: int) -> Report:
    """A report in the user's scope; any other answers 404, as if it did not exist."""
    report = db.session.execute(
        select(Report).where(Report.id == report_id, readable(user))
    ).scalar_one_or_none()
    if report is None:
        abort(404)
    return report


def photo_or_404(user: User, photo_id: int) -> ReportPhoto:
    photo = db.session.execute(
        select(ReportPhoto)
        .join(ReportPhoto.report)
        .where(ReportPhoto.id == photo_id, readable(user))
    ).scalar_one_or_none()
    if photo is None:
        abort(404)
    return photo


def visible_jurisdictions(user: User) -> list[Unit]:
    """The 辖区 the queue's filter offers: those of the units in the user's case scope."""
    in_scope = select(Unit.jurisdiction_id).where(Unit.id.in_(case_unit_ids(user)))
    return list(
        db.session.execute(select(Unit).where(Unit.id.in_(in_scope)).order_by(Unit.path)).scalars()
    )


@dataclass
class QueueFilters:
    state: str = ""
    category: str = ""
    jurisdiction_id: int | None = None
    unit_id: int | None = None
    has_photos: bool = False
    flagged: bool = False
    burst: bool = False
    overdue: bool = False
    mine: bool = False
    round_key: str = ""

    @classmethod
    def from_args(cls, args) -> "QueueFilters":
        return cls(
            state=args.get("state", ""),
            category=args.get("category", ""),
            jurisdiction_id=args.get("jurisdiction", type=query_id),
            unit_id=args.get("unit", type=query_id),
            has_photos=args.get("photos") == "1",
            flagged=args.get("flagged") == "1",
            burst=args.get("burst") == "1",
            overdue=args.get("overdue") == "1",
            mine=args.get("mine") == "1",
            round_key=args.get("round", ""),
        )

    def as_args(self) -> dict:
        args = {
            "state": self.state,
            "category": self.category,
            "jurisdiction": self.jurisdiction_id or "",
            "unit": self.unit_id or "",
            "photos": "1" if self.has_photos else "",
            "flagged": "1" if self.flagged else "",
            "burst": "1" if self.burst else "",
            "overdue": "1" if self.overdue else "",
            "mine": "1" if self.mine else "",
            "round": self.round_key,
        }
        return {k: v for k, v in args.items() if v}


@dataclass
class Deadlines:
    """Working-day deadlines, computed at query time from the holiday data."""

    calendar: WorkingCalendar = field(default_factory=load_calendar)
    now: datetime = field(default_factory=utcnow)

    def screening_cutoff(self) -> datetime:
        return overdue_cutoff(self.now, SCREENING_DAYS, local_zone(), self.calendar)

    def acknowledge_cutoff(self) -> datetime:
        return overdue_cutoff(self.now, ACKNOWLEDGE_DAYS, local_zone(), self.calendar)

    def screening_deadline(self, report: Report) -> datetime:
        return self.calendar.deadline(report.created_at, SCREENING_DAYS, local_zone())

    def screening_due_day(self, report: Report):
        """The last local day for screening (the deadline is the end of that day)."""
        return (
            (self.screening_deadline(report) - timedelta(seconds=1)).astimezone(local_zone()).date()
        )

    def is_overdue(self, report: Report) -> bool:
        if report.state == State.SUBMITTED and self.screening_deadline(report) <= self.now:
            return True
        return (
            report.real_name
            and report.acknowledged_at is None
            and self.calendar.deadline(report.created_at, ACKNOWLEDGE_DAYS, local_zone())
            <= self.now
        )


def overdue_clause(deadlines: Deadlines):
    """Overdue as a query condition: unscreened past 5 working days, or a real-name report
    unacknowledged past 15."""
    return or_(
        and_(Report.state == State.SUBMITTED, Report.created_at < deadlines.screening_cutoff()),
        and_(
            Report.real_name.is_(True),
            Report.acknowledged_at.is_(None),
            Report.created_at < deadlines.acknowledge_cutoff(),
        ),
    )


def _filtered(user: User, filters: QueueFilters, deadlines: Deadlines, *, with_state=True):
    # Lists, counts and exports are the user's own cases: an OR with team-filed reports would
    # defeat the queue's indexes (those stay readable by their page and the spot-check list).
    conditions = [in_case_scope(user, Report.unit_id)]
    if with_state:
        conditions.append(_state_condition(filters.state))
    if filters.category:
        conditions.append(Report.category == filters.category)
    if filters.jurisdiction_id:
        conditions.append(
            Report.unit_id.in_(
                select(Unit.id).where(Unit.jurisdiction_id == filters.jurisdiction_id)
            )
        )
    if filters.unit_id:
        unit = db.session.get(Unit, filters.unit_id)
        conditions.append(Report.unit_id.in_(subtree_ids(unit)))
    if filters.has_photos:
        conditions.append(exists().where(ReportPhoto.report_id == Report.id))
    if filters.flagged:
        conditions.append(Report.flagged.is_(True))
    if filters.burst:
        conditions.append(Report.burst.is_(True))
    if filters.overdue:
        conditions.append(overdue_clause(deadlines))
    if filters.mine:
        conditions.append(Report.assigned_to_id == user.id)
    if filters.round_key:
        try:
            conditions.append(Report.round_start == date.fromisoformat(filters.round_key))
        except ValueError:
            abort(400)
    return conditions


def _state_condition(view: str):
    if view == VIEW_WORKING:
        # Spelled as the queue's partial index (ix_report_working_queue) is.
        return text(WORKING_CONDITION)
    if view == VIEW_FINISHED:
        return Report.state.in_(FINISHED_STATES)
    if view == VIEW_ALL:
        return true()
    try:
        return Report.state == State(view)
    except ValueError:
        abort(400)


def encode_cursor(report: Report) -> str:
    raw = json.dumps([report.score, report.created_at.isoformat(), report.id])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str | None):
    if not cursor:
        return None
    try:
        score, created, report_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        after = int(score), datetime.fromisoformat(created), query_id(str(report_id))
    except (ValueError, TypeError, OverflowError):
        abort(400)
    if after[1].tzinfo is None or abs(after[0]) > MAX_ID:
        abort(400)  # a cursor this code never wrote
    return after


def queue_page(user: User, filters: QueueFilters, deadlines: Deadlines, cursor: str | None = None):
    """One page of the queue, most urgent first: stored score, then the screening deadline
    (which follows submission time), keyset-paginated. Returns (reports, next cursor)."""
    query = select(Report).where(*_filtered(user, filters, deadlines))
    after = _decode_cursor(cursor)
    if after:
        score, created, report_id = after
        query = query.where(
            or_(
                Report.score < score,
                and_(Report.score == score, Report.created_at > created),
                and_(Report.score == score, Report.created_at == created, Report.id > report_id),
            )
        )
    rows = list(
        db.session.execute(
            query.order_by(Report.score.desc(), Report.created_at, Report.id).limit(PAGE_SIZE + 1)
        ).scalars()
    )
    next_cursor = encode_cursor(rows[PAGE_SIZE - 1]) if len(rows) > PAGE_SIZE else None
    return rows[:PAGE_SIZE], next_cursor


def count_by(column, *conditions) -> dict:
    """Reports matching the conditions, counted by a column's value. Grouped by unit first,
    in the order of the (unit, state, ...) and (unit, category) indexes, so the count reads an
    index alone; grouped by the column only, SQLite walks that column's index over every
    unit's reports and fetches each row to check its unit."""
    counts: dict = {}
    rows = db.session.execute(
        select(column, func.count()).where(*conditions).group_by(Report.unit_id, column)
    )
    for value, count in rows:
        counts[value] = counts.get(value, 0) + count
    return counts


def state_counts(user: User, filters: QueueFilters, deadlines: Deadlines) -> dict[str, int]:
    return count_by(Report.state, *_filtered(user, filters, deadlines, with_state=False))


def matching_reports(user: User, filters: QueueFilters, deadlines: Deadlines):
    """Every report the filters match, in queue order (for exports)."""
    return db.session.execute(
        select(Report)
        .where(*_filtered(user, filters, deadlines))
        .order_by(Report.score.desc(), Report.created_at, Report.id)
        .execution_options(yield_per=500)
    ).scalars()


def todo(user: User) -> dict[str, list[Report]]:
    """What waits for this person: cases assigned to them, and (leaders) approvals."""
    open_states = (State.ACCEPTED, State.VERIFYING, State.PARKED)
    mine = db.session.execute(
        select(Report)
        .where(
            in_case_scope(user, Report.unit_id),
            Report.assigned_to_id == user.id,
            Report.state.in_(open_states),
        )
        .order_by(Report.score.desc(), Report.created_at)
        .limit(PAGE_SIZE)
    ).scalars()
    approvals = []
    if user.role == "leader":
        waiting = db.session.execute(
            select(Report)
            .where(in_case_scope(user, Report.unit_id), Report.state == State.PENDING_APPROVAL)
            .order_by(Report.state_changed_at)
        ).scalars()
        # Four eyes: only what this leader may approve.
        approvals = [r for r in waiting if may_approve(user, r)][:PAGE_SIZE]
    return {"assigned": list(mine), "approvals": approvals}


def neighbours(user: User, report: Report) -> list[Report]:
    """Other reports of the same car within a day either side, in the viewer's scope."""
    if report.vehicle_id is None:
        return []
    return list(
        db.session.execute(
            select(Report)
            .where(
                readable(user),
                Report.vehicle_id == report.vehicle_id,
                Report.id != report.id,
                Report.seen_at.between(
                    report.seen_at - NEIGHBOUR_WINDOW, report.seen_at + NEIGHBOUR_WINDOW
                ),
            )
            .order_by(Report.seen_at)
        ).scalars()
    )


@dataclass
class Viewing:
    """One line of 查阅记录: a person's views of a case within a few minutes of each other."""

    name: str
    first: datetime
    last: datetime
    times: int


def viewers(report: Report, limit: int = 100) -> list[Viewing]:
    """Who has looked at the case, and when (from the audit trail), newest first, by display
    name; one person's views in quick succession make one line."""
    rows = db.session.execute(
        select(AuditEntry.actor, User.display_name, AuditEntry.at)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(
            AuditEntry.object_type == "report",
            AuditEntry.object_id == str(report.id),
            AuditEntry.action.in_(("report_viewed", "contact_revealed")),
        )
        .order_by(AuditEntry.seq.desc())
        .limit(10 * limit)
    ).all()
    lines: list[Viewing] = []
    latest: dict[str, Viewing] = {}
    for username, display_name, at in rows:
        name = display_name or username
        line = latest.get(name)
        if line is not None and line.first - at <= VIEW_MERGE_WINDOW:
            line.first, line.times = at, line.times + 1
            continue
        line = latest[name] = Viewing(name, at, at, 1)
        lines.append(line)
    return lines[:limit]
