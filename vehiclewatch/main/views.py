"""The front page for everyone and the staff's starting page."""

from flask import Blueprint, current_app, render_template, request, send_from_directory

from ..auth.access import public

bp = Blueprint("main", __name__)

ICON_MAX_AGE = 365 * 24 * 3600  # browsers ask for these on every page: let them keep them


@bp.get("/")
@public
def index():
    return render_template("main/index.html")


@bp.get("/workbench")
def workbench():
    return render_template("main/workbench.html")


@bp.get("/favicon.ico")
@bp.get("/apple-touch-icon.png")
@public
def icon():
    """The site's icons live in static/; browsers and phones ask for them at the root."""
    name = request.path.lstrip("/")
    return send_from_directory(current_app.static_folder, name, max_age=ICON_MAX_AGE)
