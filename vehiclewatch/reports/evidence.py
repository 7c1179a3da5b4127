"""Keeping reports' derived evidence true when the data below them changes: rounds follow
the holiday data, scores follow trip approvals and sealing. The calendar and dispatch
packages announce their changes; `connect_signals()` (called by the app factory) listens."""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from ..calendar.rounds import load_campaigns, round_for
from ..calendar.signals import holidays_changed
from ..dispatch.signals import evidence_changed
from ..extensions import db
from ..fleet.models import Vehicle
from ..timeutil import local_zone
from .models import Report
from .scoring import rescore_others


def relink_rounds() -> int:
    """Re-derive reports' rounds after the holiday data changed; returns how many moved.
    Only reports in a round now, or seen inside a campaign, can move."""
    campaigns = load_campaigns()
    margin = timedelta(days=1)  # seen_at is UTC; the campaign's days are local
    inside = [
        Report.seen_at.between(
            datetime.combine(c.start, time(), UTC) - margin,
            datetime.combine(c.end, time(), UTC) + 2 * margin,
        )
        for c in campaigns
    ]
    candidates = db.session.execute(
        select(Report.id, Report.seen_at, Report.round_start).where(
            or_(Report.round_start.is_not(None), *inside)
        )
    ).all()
    moved = 0
    for report_id, seen_at, current in candidates:
        found = round_for(seen_at.astimezone(local_zone()).date(), campaigns)
        start = found.start if found else None
        if start != current:
            db.session.execute(
                update(Report.__table__)
                .where(Report.__table__.c.id == report_id)
                .values(round_start=start)
            )
            report = db.session.get(Report, report_id)
            set_committed_value(report, "round_start", start)
            rescore_others([report])
            moved += 1
    return moved


def recheck_evidence(vehicle_ids: set[int], days: set[date]) -> int:
    """Rescore the reports new trip-approval or sealing data bears on: those about these cars,
    and (the unit-and-day rule) any car of their units, seen on one of these local days.
    Not an edit: versions stay. Returns how many reports were rescored."""
    if not vehicle_ids or not days:
        return 0
    zone = local_zone()
    units = select(Vehicle.unit_id).where(Vehicle.id.in_(vehicle_ids))
    cars = select(Vehicle.id).where(Vehicle.unit_id.in_(units))
    first = datetime.combine(min(days), time(), tzinfo=zone)
    after = datetime.combine(max(days) + timedelta(days=1), time(), tzinfo=zone)
    candidates = db.session.execute(
        select(Report).where(
            Report.vehicle_id.in_(cars), Report.seen_at >= first, Report.seen_at < after
        )
    ).scalars()
    matching = [r for r in candidates if r.seen_at.astimezone(zone).date() in days]
    rescore_others(matching)
    return len(matching)


def _on_holidays_changed(_period) -> None:
    relink_rounds()


def _on_evidence_changed(touched) -> None:
    recheck_evidence(set(touched.vehicle_ids), set(touched.days))


def connect_signals() -> None:
    """Listen to the packages below; both signals fire inside the writer's transaction, so
    the follow-up commits or rolls back with the change."""
    holidays_changed.connect(_on_holidays_changed)
    evidence_changed.connect(_on_evidence_changed)
