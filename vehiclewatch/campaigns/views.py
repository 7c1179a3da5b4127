"""Campaigns and their rounds, and the spot checks of each round, for officers."""

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..auth.access import roles_required
from ..auth.models import Role
from ..auth.scope import in_case_scope
from ..calendar.rounds import load_campaigns
from ..extensions import db
from ..formutil import choices
from ..reports.models import Report
from ..timeutil import local_zone
from . import services
from .forms import DrawForm, ResultForm
from .models import SPOT_CHECK_RESULT_LABELS, SpotCheckDraw, SpotCheckItem
from .spotchecks import DrawImpossible

bp = Blueprint("campaigns", __name__)


@bp.get("/campaigns")
@roles_required(Role.OFFICER, Role.LEADER)
def campaigns():
    counts = dict(
        db.session.execute(
            select(Report.round_start, func.count())
            .where(in_case_scope(current_user, Report.unit_id), Report.round_start.is_not(None))
            .group_by(Report.round_start)
        ).all()
    )
    return render_template("campaigns/campaigns.html", campaigns=load_campaigns(), counts=counts)


# --- spot checks ----------------------------------------------------------------

officers = roles_required(Role.OFFICER, Role.LEADER)


def _team_items(user) -> list[SpotCheckItem]:
    """The cars the user's team must check, in current draws of rounds under way or past."""
    return list(
        db.session.execute(
            select(SpotCheckItem)
            .join(SpotCheckItem.draw)
            .where(
                SpotCheckItem.team_jurisdiction_id == user.unit.jurisdiction_id,
                SpotCheckDraw.superseded_at.is_(None),
            )
            .order_by(
                SpotCheckDraw.round_start.desc(), SpotCheckItem.jurisdiction_id, SpotCheckItem.rank
            )
        ).scalars()
    )


@bp.route("/review/spot-checks", methods=["GET", "POST"])
@officers
def spot_checks():
    today = datetime.now(local_zone()).date()
    rounds = [(c, r) for c in load_campaigns() for r in c.rounds()]
    form = DrawForm()
    form.round_key.choices = choices(
        (r.key, f"{c.name} · 第{r.number}周 {r.start}—{r.end}") for c, r in rounds
    )
    if request.method == "POST":
        if not services.may_draw(current_user):
            abort(403)
        if form.validate_on_submit():
            try:
                services.draw_spot_checks(
                    form.round_key.data, form.per_jurisdiction.data, current_user, form.reason.data
                )
            except services.DrawExists:
                flash(_("该轮次已经抽取过；如确需重抽，请填写理由（将公开记录）。"), "error")
            except DrawImpossible:
                flash(_("至少需要两个有车辆的辖区才能交叉互查。"), "error")
            else:
                flash(_("已抽取。种子的哈希已记录，种子将在本轮结束后公开。"), "info")
                return redirect(url_for("campaigns.spot_checks"))
    draws = db.session.execute(
        select(SpotCheckDraw).order_by(SpotCheckDraw.round_start.desc(), SpotCheckDraw.id)
    ).scalars()
    return render_template(
        "campaigns/spot_checks.html",
        form=form,
        can_draw=services.may_draw(current_user),
        draws=[(d, services.revealed_seed(d, today)) for d in draws],
        items=_team_items(current_user),
        result_form=ResultForm(formdata=None),
        labels=SPOT_CHECK_RESULT_LABELS,
    )


@bp.post("/review/spot-checks/items/<int:item_id>")
@officers
def record_spot_check(item_id: int):
    item = services.team_item(item_id, current_user)
    if item is None:
        abort(404)  # another team's list, or a superseded draw: as if it did not exist
    form = ResultForm()
    if not form.validate_on_submit():
        flash(_("请选择检查结果。"), "error")
        return redirect(url_for("campaigns.spot_checks"))
    services.record_spot_check(
        item, form.result.data, form.note.data or "", form.category.data, current_user
    )
    flash(_("检查结果已记录。"), "info")
    return redirect(url_for("campaigns.spot_checks"))
