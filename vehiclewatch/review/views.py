"""Officers' pages."""

from flask import Blueprint, abort, send_file
from flask_login import current_user

from ..auth.access import roles_required
from ..auth.models import Role
from ..reports.services import photo_dir
from . import queries

bp = Blueprint("review", __name__, url_prefix="/review")

officers_only = roles_required(Role.OFFICER, Role.LEADER)


@bp.get("/photos/<int:photo_id>/<kind>.jpg")
@officers_only
def photo(photo_id: int, kind: str):
    """A report photo, re-encoded without metadata, only for officers in scope."""
    record = queries.photo_or_404(current_user, photo_id)
    names = {"evidence": record.evidence_name, "display": record.display_name}
    if kind not in names:
        abort(404)
    return send_file(
        photo_dir() / names[kind],
        mimetype="image/jpeg",
        as_attachment=False,
        download_name=f"report-{record.report_id}-photo-{record.id}-{kind}.jpg",
        max_age=0,
    )
