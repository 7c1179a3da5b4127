"""Campaigns and their rounds, the spot checks of each round for officers, and the public
pages where anyone follows and re-runs the draws."""

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..auth.access import public, roles_required
from ..auth.models import Role
from ..auth.scope import in_case_scope
from ..calendar.rounds import load_campaigns
from ..extensions import db
from ..formutil import choices
from ..reports.models import Report
from ..timeutil import local_zone
from . import services
from .forms import DrawForm, PublicValueForm, ResultForm
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


def _today():
    return datetime.now(local_zone()).date()


def _all_draws() -> list[SpotCheckDraw]:
    return list(
        db.session.execute(
            select(SpotCheckDraw).order_by(SpotCheckDraw.round_start.desc(), SpotCheckDraw.id)
        ).scalars()
    )


@bp.route("/review/spot-checks", methods=["GET", "POST"])
@officers
def spot_checks():
    today = _today()
    rounds = [(c, r) for c in load_campaigns() for r in c.rounds() if r.end >= today]
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
                    form.round_key.data,
                    form.per_jurisdiction.data,
                    current_user,
                    form.reason.data,
                    public_source=form.public_source.data,
                    today=today,
                )
            except services.RoundEnded:
                flash(_("该轮次已经结束，不能再抽取。"), "error")
            except services.DrawExists:
                flash(_("该轮次已经抽取过；如确需重抽，请填写理由（将公开记录）。"), "error")
            except DrawImpossible:
                flash(_("至少需要两个有车辆的辖区才能交叉互查。"), "error")
            else:
                flash(
                    _(
                        "已抽取并公示承诺。请另一名工作人员在指定一期开奖后录入开奖号码，"
                        "名单随即生成；种子将在本轮结束后公开。"
                    ),
                    "info",
                )
                return redirect(url_for("campaigns.spot_checks"))
    return render_template(
        "campaigns/spot_checks.html",
        form=form,
        can_draw=services.may_draw(current_user),
        draws=[(d, services.revealed_seed(d, today)) for d in _all_draws()],
        items=_team_items(current_user),
        result_form=ResultForm(formdata=None),
        value_form=PublicValueForm(formdata=None),
        labels=SPOT_CHECK_RESULT_LABELS,
    ), (422 if form.errors else 200)


@bp.post("/review/spot-checks/draws/<int:draw_id>/public-value")
@officers
def enter_public_value(draw_id: int):
    if not services.may_draw(current_user):
        abort(403)
    draw = db.get_or_404(SpotCheckDraw, draw_id)
    form = PublicValueForm()
    if not form.validate_on_submit():
        flash(_("请填写开奖号码。"), "error")
        return redirect(url_for("campaigns.spot_checks"))
    try:
        services.enter_public_value(draw, form.value.data, current_user)
    except services.SameOfficer:
        flash(_("开奖号码须由抽取人以外的另一名工作人员录入。"), "error")
    except services.NotSealed:
        flash(_("该次抽取已作废或已录入开奖号码。"), "error")
    else:
        flash(_("开奖号码已录入并公示，各检查组的名单已生成。"), "info")
    return redirect(url_for("campaigns.spot_checks"))


# --- public pages ------------------------------------------------------------------


@bp.get("/spot-checks")
@public
def public_draws():
    return render_template("campaigns/public_draws.html", draws=_all_draws(), today=_today())


@bp.get("/spot-checks/<int:draw_id>")
@public
def public_draw(draw_id: int):
    draw = db.get_or_404(SpotCheckDraw, draw_id)
    return render_template(
        "campaigns/public_draw.html",
        draw=draw,
        published=services.published_draw(draw, _today()),
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
