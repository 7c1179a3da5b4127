"""Urgency: an evidence score stored on the report and recomputed when its inputs change."""

import json
from datetime import timedelta

from sqlalchemy import select, update

from ..extensions import db
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
CORROBORATION_WINDOW = timedelta(hours=2)
MAX_CORROBORATING = 3


def corroborating(report: Report) -> list[Report]:
    """Other reports of the same car seen within two hours of this one."""
    if report.vehicle_id is not None:
        same_car = Report.vehicle_id == report.vehicle_id
    elif report.typed_plate:
        same_car = Report.typed_plate == report.typed_plate
    else:
        return []
    return list(
        db.session.execute(
            select(Report).where(
                same_car,
                Report.id != report.id,
                Report.seen_at.between(
                    report.seen_at - CORROBORATION_WINDOW, report.seen_at + CORROBORATION_WINDOW
                ),
            )
        ).scalars()
    )


def evidence(report: Report) -> dict[str, int]:
    """Each piece of evidence that counts, with its points."""
    found: dict[str, int] = {}
    if report.plate_matches is False:
        found["plate_mismatch"] = POINTS["plate_mismatch"]
    others = min(len(corroborating(report)), MAX_CORROBORATING)
    if others:
        found["corroboration"] = POINTS["corroboration"] * others
    if report.photos:
        found["photos"] = POINTS["photos"]
    if report.real_name:
        found["real_name"] = POINTS["real_name"]
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
