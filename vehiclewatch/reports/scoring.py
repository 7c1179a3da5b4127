"""Urgency: an evidence score stored on the report and recomputed when its inputs change."""

import json
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, select, union_all, update

from ..dispatch.queries import DispatchEvidence, dispatch_evidence
from ..extensions import db
from ..timeutil import utcnow
from .bursts import same_car
from .models import Report

POINTS = {
    "sealed": 40,
    "no_dispatch_cover": 30,
    "late_dispatch": 30,
    "plate_mismatch": 20,
    "corroboration": 15,
    "photos": 10,
    "real_name": 10,
    "in_campaign": 10,
}
# Evidence that is a finding in itself, not just weight: such reports carry a flag.
FLAGS = frozenset({"sealed", "no_dispatch_cover", "late_dispatch", "plate_mismatch"})
EVIDENCE_LABELS = {
    "sealed": _l("节假日封存期间出车"),
    "no_dispatch_cover": _l("当日有派车数据但无覆盖该时间的派车单"),
    "late_dispatch": _l("派车单为事后补录"),
    "plate_mismatch": _l("车牌与监督码不符"),
    "corroboration": _l("两小时内其他举报印证"),
    "photos": _l("附有照片"),
    "real_name": _l("实名举报"),
    "in_campaign": _l("专项监督期间"),
}
CORROBORATION_WINDOW = timedelta(hours=2)
MAX_CORROBORATING = 3


def _others(report: Report):
    """The condition for the reports that corroborate this one (same car, not itself, not a
    burst), or None when none can: the car is unknown, or this report is a burst. Reports of
    a burst neither give nor get corroboration: a flood must not raise or bury anything."""
    car = same_car(report)
    if car is None or report.burst:
        return None
    if report.id is None:  # not inserted yet: it cannot meet itself
        return and_(car, Report.burst.is_(False))
    return and_(car, Report.id != report.id, Report.burst.is_(False))


def _window(report: Report):
    return Report.seen_at.between(
        report.seen_at - CORROBORATION_WINDOW, report.seen_at + CORROBORATION_WINDOW
    )


def corroboration_count(report: Report) -> int:
    """How many other reports corroborate this one, counted only up to the cap."""
    others = _others(report)
    if others is None:
        return 0
    capped = select(Report.id).where(others, _window(report))
    return len(db.session.execute(capped.limit(MAX_CORROBORATING)).all())


def car_evidence(report: Report) -> DispatchEvidence | None:
    """What the trip-approval and sealing data say about the report's sighting (None when
    the report names no registered car)."""
    if report.vehicle is None:
        return None
    # Before its first flush a report has no created_at yet: it is being filed now.
    created_at = report.created_at or utcnow()
    return dispatch_evidence(report.vehicle, report.seen_at, created_at)


def evidence(
    report: Report,
    corroborations: int | None = None,
    dispatch: DispatchEvidence | None = None,
) -> dict[str, int]:
    """Each piece of evidence that counts, with its points. A caller that already knows them
    passes the capped count of corroborating reports and the car's dispatch evidence."""
    found: dict[str, int] = {}
    if dispatch is None:
        dispatch = car_evidence(report)
    if dispatch is not None:
        if dispatch.sealed:
            found["sealed"] = POINTS["sealed"]
        if dispatch.not_covered:
            found["no_dispatch_cover"] = POINTS["no_dispatch_cover"]
        if dispatch.late:
            found["late_dispatch"] = POINTS["late_dispatch"]
    if report.plate_matches is False:
        found["plate_mismatch"] = POINTS["plate_mismatch"]
    if corroborations is None:
        corroborations = corroboration_count(report)
    others = min(corroborations, MAX_CORROBORATING)
    if others:
        found["corroboration"] = POINTS["corroboration"] * others
    if report.photos:
        found["photos"] = POINTS["photos"]
    if report.real_name:
        found["real_name"] = POINTS["real_name"]
    if report.round_start is not None:
        found["in_campaign"] = POINTS["in_campaign"]
    return found


def rescore(
    report: Report,
    corroborations: int | None = None,
    dispatch: DispatchEvidence | None = None,
) -> None:
    """Store the score and its parts on the report."""
    found = evidence(report, corroborations, dispatch)
    report.score = sum(found.values())
    report.score_details = json.dumps(found, sort_keys=True)
    report.flagged = bool(FLAGS & found.keys())


def rescore_others(reports: list[Report]) -> None:
    """Rescore reports other than the one being changed. A plain UPDATE: a new score is not
    an edit, so it must not bump the version an officer's open page relies on."""
    for other in reports:
        found = evidence(other)
        db.session.execute(
            update(Report.__table__)
            .where(Report.__table__.c.id == other.id)
            .values(
                score=sum(found.values()),
                score_details=json.dumps(found, sort_keys=True),
                flagged=bool(FLAGS & found.keys()),
            )
        )
        db.session.expire(other, ["score", "score_details", "flagged"])


def _neighbours_that_count(report: Report) -> list[tuple[int, str | None]]:
    """(id, score_details) of the other reports whose corroboration the new report raises,
    as long as any is below the cap, with at most MAX_CORROBORATING + 1 rows per side.

    Reports seen within two hours before this one (or at the same moment) are all within
    two hours of each other, so when there are more than MAX_CORROBORATING of them each
    already counts MAX_CORROBORATING others and none can change; the same holds after it.
    So each side is read with a limit, and the query does not grow with the neighbours."""
    others = _others(report)
    if others is None:
        return []
    if report.vehicle_id is None and report.vehicle is None:
        # Reports of a registered car count each other by car, not by the typed plate.
        others = and_(others, Report.vehicle_id.is_(None))
    side = MAX_CORROBORATING + 1
    before = (
        select(Report.id, Report.score_details)
        .where(
            others, Report.seen_at.between(report.seen_at - CORROBORATION_WINDOW, report.seen_at)
        )
        .order_by(Report.seen_at.desc())
        .limit(side)
    )
    after = (
        select(Report.id, Report.score_details)
        .where(
            others,
            Report.seen_at > report.seen_at,
            Report.seen_at <= report.seen_at + CORROBORATION_WINDOW,
        )
        .order_by(Report.seen_at)
        .limit(side)
    )
    both = union_all(before.subquery().select(), after.subquery().select())
    # Plain rows: the session's connection skips the ORM's result handling.
    return [(row.id, row.score_details) for row in db.session.connection().execute(both)]


def rescore_with_neighbours(report: Report, dispatch: DispatchEvidence | None) -> None:
    """Score a report being filed, before its INSERT and inside the write transaction (so
    every earlier filing about the car is counted), from its car's dispatch evidence read
    beforehand. It raises the other reports of the car within two hours too: only those
    below the corroboration cap change, and only in their corroboration part, so their
    trip-approval and sealing evidence is not looked up again."""
    neighbours = _neighbours_that_count(report)
    rescore(report, len(neighbours), dispatch)
    step = POINTS["corroboration"]
    raised: dict[int, str] = {}
    for report_id, details in neighbours:
        found = json.loads(details or "{}")
        if found.get("corroboration", 0) < step * MAX_CORROBORATING:
            found["corroboration"] = found.get("corroboration", 0) + step
            raised[report_id] = json.dumps(found, sort_keys=True)
    if not raised:
        return
    table = Report.__table__
    db.session.execute(
        update(table)
        .where(table.c.id.in_(raised))
        .values(
            score=table.c.score + step,
            score_details=case(raised, value=table.c.id),
        )
    )
    for other in db.session.identity_map.values():
        if isinstance(other, Report) and other.id in raised:
            db.session.expire(other, ["score", "score_details"])


def score_parts(report: Report) -> dict[str, int]:
    """The stored evidence and its points, as shown on the officer's page."""
    return json.loads(report.score_details or "{}")
