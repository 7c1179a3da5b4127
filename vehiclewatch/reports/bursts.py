"""Bursts: past a per-car threshold within an hour, new reports are kept but marked."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..timeutil import utcnow
from .models import Report, Source

BURST_WINDOW = timedelta(hours=1)


def same_car(report: Report):
    """A condition matching reports of the report's car (by vehicle, else by typed plate),
    or None when the car is not known at all."""
    if report.vehicle is not None or report.vehicle_id is not None:
        return Report.vehicle_id == (report.vehicle_id or report.vehicle.id)
    if report.typed_plate:
        return Report.typed_plate == report.typed_plate
    return None


def mark_burst(report: Report) -> None:
    """Mark a report being filed as a burst when its car already had CAR_BURST_PER_HOUR
    reports within the past hour. A flood cannot silence a car's real reporters: their
    reports still arrive, and officers see the burst as a group. Officers' own entries
    (calls, letters, inspections) are never marked."""
    condition = same_car(report)
    if condition is None or report.source not in (Source.SCAN, Source.MANUAL):
        return
    # On the session's connection: no autoflush of the report being filed, and no ORM
    # result handling for one number.
    recent = (
        db.session.connection()
        .execute(
            select(func.count())
            .select_from(Report)
            .where(condition, Report.created_at >= utcnow() - BURST_WINDOW)
        )
        .scalar_one()
    )
    report.burst = recent >= current_app.config["CAR_BURST_PER_HOUR"]
