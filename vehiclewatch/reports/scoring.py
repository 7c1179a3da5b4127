"""Urgency: an evidence score stored on the report and recomputed when its inputs change."""

import json
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ..dispatch.queries import dispatch_evidence
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


def corroborating(report: Report) -> list[Report]:
    """Other reports of the same car seen within two hours of this one. Reports of a burst
    neither give nor get corroboration: a flood must not raise or bury anything."""
    car = same_car(report)
    if car is None or report.burst:
        return []
    return list(
        db.session.execute(
            select(Report).where(
                car,
                Report.id != report.id,
                Report.burst.is_(False),
                Report.seen_at.between(
                    report.seen_at - CORROBORATION_WINDOW, report.seen_at + CORROBORATION_WINDOW
                ),
            )
        ).scalars()
    )


def evidence(report: Report) -> dict[str, int]:
    """Each piece of evidence that counts, with its points."""
    found: dict[str, int] = {}
    if report.vehicle is not None:
        # Before its first flush a report has no created_at yet: it is being filed now.
        created_at = report.created_at or utcnow()
        dispatch = dispatch_evidence(report.vehicle, report.seen_at, created_at)
        if dispatch.sealed:
            found["sealed"] = POINTS["sealed"]
        if dispatch.not_covered:
            found["no_dispatch_cover"] = POINTS["no_dispatch_cover"]
        if dispatch.late:
            found["late_dispatch"] = POINTS["late_dispatch"]
    if report.plate_matches is False:
        found["plate_mismatch"] = POINTS["plate_mismatch"]
    others = min(len(corroborating(report)), MAX_CORROBORATING)
    if others:
        found["corroboration"] = POINTS["corroboration"] * others
    if report.photos:
        found["photos"] = POINTS["photos"]
    if report.real_name:
        found["real_name"] = POINTS["real_name"]
    if report.round_start is not None:
        found["in_campaign"] = POINTS["in_campaign"]
    return found


def rescore(report: Report) -> None:
    """Store the score and its parts on the report."""
    found = evidence(report)
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


def rescore_with_neighbours(report: Report) -> None:
    """A new report of a car raises the other reports of it within two hours too."""
    rescore(report)
    rescore_others(corroborating(report))


def score_parts(report: Report) -> dict[str, int]:
    """The stored evidence and its points, as shown on the officer's page."""
    return json.loads(report.score_details or "{}")
