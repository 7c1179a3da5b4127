"""Reads of reports by a unit's case scope for systems outside (the integration API): the
rule is the officers' own (auth.scope), so a token of a unit reads what that unit's officers
read, in their queue and on a report's page."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from ..auth.models import Unit
from ..auth.scope import officers_case_scope, officers_report_scope, subtree_ids
from ..extensions import db
from .models import Report, ReportEvent, ReportPhoto


@dataclass(frozen=True)
class ReportFilters:
    state: str | None = None
    category: str | None = None
    unit_code: str | None = None  # the unit's subtree, as the queue's 单位 filter
    round_start: date | None = None
    filed_since: datetime | None = None
    # Any entry on the timeline since then: filing, a state change, the reporter's addition
    # or objection, the reply, the acknowledgement of a real-name report.
    updated_since: datetime | None = None


def queue_query(unit: Unit, filters: ReportFilters):
    """The reports the officers of `unit` have in their queue (every state), filtered; the
    caller orders and pages. Like the queue, reports a cross-check team of the unit filed in
    another jurisdiction are not listed (they stay readable by id)."""
    conditions = [officers_case_scope(unit, Report.unit_id)]
    if filters.state:
        conditions.append(Report.state == filters.state)
    if filters.category:
        conditions.append(Report.category == filters.category)
    if filters.unit_code:
        unit = db.session.execute(
            select(Unit).where(Unit.code == filters.unit_code)
        ).scalar_one_or_none()
        conditions.append(Report.unit_id.in_(subtree_ids(unit)))  # none for an unknown code
    if filters.round_start is not None:
        conditions.append(Report.round_start == filters.round_start)
    if filters.filed_since is not None:
        conditions.append(Report.created_at >= filters.filed_since)
    if filters.updated_since is not None:
        changed = select(ReportEvent.report_id).where(ReportEvent.at >= filters.updated_since)
        conditions.append(Report.id.in_(changed))
    return select(Report).where(*conditions)


def readable_report(unit: Unit, report_id: int) -> Report | None:
    """A report the officers of `unit` may open on its page; None for any other."""
    return db.session.execute(
        select(Report).where(
            Report.id == report_id,
            officers_report_scope(unit, Report.unit_id, Report.reader_jurisdiction_id),
        )
    ).scalar_one_or_none()


def readable_photo(unit: Unit, report_id: int, photo_id: int) -> ReportPhoto | None:
    """A photo of a report the officers of `unit` may open; None for any other."""
    return db.session.execute(
        select(ReportPhoto)
        .join(ReportPhoto.report)
        .where(
            ReportPhoto.id == photo_id,
            ReportPhoto.report_id == report_id,
            officers_report_scope(unit, Report.unit_id, Report.reader_jurisdiction_id),
        )
    ).scalar_one_or_none()


def last_changes(report_ids: list[int]) -> dict[int, datetime]:
    """The time of each report's latest timeline entry."""
    if not report_ids:
        return {}
    return dict(
        db.session.execute(
            select(ReportEvent.report_id, func.max(ReportEvent.at))
            .where(ReportEvent.report_id.in_(report_ids))
            .group_by(ReportEvent.report_id)
        ).all()
    )
