"""Reads for officers, always through the case scope."""

from flask import abort
from sqlalchemy import select

from ..auth.models import User
from ..auth.scope import in_case_scope
from ..extensions import db
from ..reports.models import Report, ReportPhoto


def report_or_404(user: User, report_id: int) -> Report:
    """A report in the user's scope; any other answers 404, as if it did not exist."""
    report = db.session.execute(
        select(Report).where(Report.id == report_id, in_case_scope(user, Report.unit_id))
    ).scalar_one_or_none()
    if report is None:
        abort(404)
    return report


def photo_or_404(user: User, photo_id: int) -> ReportPhoto:
    photo = db.session.execute(
        select(ReportPhoto)
        .join(ReportPhoto.report)
        .where(ReportPhoto.id == photo_id, in_case_scope(user, Report.unit_id))
    ).scalar_one_or_none()
    if photo is None:
        abort(404)
    return photo
