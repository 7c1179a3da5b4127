"""The front page for everyone and the staff's starting page."""

from flask import Blueprint, render_template

from ..auth.access import public

bp = Blueprint("main", __name__)


@bp.get("/")
@public
def index():
    return render_template("main/index.html")


@bp.get("/workbench")
def workbench():
    return render_template("main/workbench.html")
