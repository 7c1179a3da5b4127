"""Holiday data for the system admin; campaigns and their rounds for officers."""

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..auth.access import roles_required
from ..auth.models import Role, UnitKind
from ..auth.scope import in_case_scope
from ..extensions import db
from ..formutil import choices
from ..reports.models import Report, Source
from ..reports.protection import new_submission_id
from ..reports.services import NewReport, file_report, relink_rounds
from ..timeutil import local_zone, utcnow
from ..transaction import atomic
from . import services
from .forms import REGION_LABELS, DrawForm, HolidayForm, ResultForm
from .models import (
    SPOT_CHECK_RESULT_LABELS,
    HolidayPeriod,
    SpotCheckDraw,
    SpotCheckItem,
    SpotCheckResult,
)
from .rounds import load_campaigns
from .spotchecks import DrawImpossible

bp = Blueprint("campaigns", __name__)


@bp.route("/admin/holidays", methods=["GET", "POST"])
@roles_required(Role.SYSADMIN)
def holidays():
    form = HolidayForm()
    if form.validate_on_submit():
        with atomic():
            services.add_holiday_period(
                form.name.data,
                form.start.data,
                form.end.data,
                form.region.data,
                form.makeup_dates(),
            )
            relink_rounds()
        flash(_("节假日已添加，相关举报的督查轮次已更新。"), "info")
        return redirect(url_for("campaigns.holidays"))
    periods = db.session.execute(select(HolidayPeriod).order_by(HolidayPeriod.start)).scalars()
    return render_template(
        "campaigns/holidays.html", form=form, periods=list(periods), regions=REGION_LABELS
    ), (422 if form.errors else 200)


@bp.post("/admin/holidays/<int:period_id>/delete")
@roles_required(Role.SYSADMIN)
def delete_holiday(period_id: int):
    period = db.get_or_404(HolidayPeriod, period_id)
    try:
        with atomic():
            services.remove_holiday_period(period)
            relink_rounds()
    except services.HolidayInUse:
        flash(_("该节假日已有封存登记，不能删除。"), "error")
    else:
        flash(_("节假日已删除，相关举报的督查轮次已更新。"), "info")
    return redirect(url_for("campaigns.holidays"))


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


def _is_city(user) -> bool:
    return user.unit.kind == UnitKind.CITY


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
        if not _is_city(current_user):
            abort(403)  # draws are prepared at city level, for every jurisdiction at once
        if form.validate_on_submit():
            try:
                services.draw_spot_checks(
                    form.round_key.data, form.per_jurisdiction.data, current_user, form.reason.data
                )
            except services.DrawExists:
                flash(_("该轮次已经抽取过；如确需重抽，请填写理由（将公开记录）。"), "error")
            except DrawImpossible:
                db.session.rollback()
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
        can_draw=_is_city(current_user),
        draws=[(d, services.revealed_seed(d, today)) for d in draws],
        items=_team_items(current_user),
        result_form=ResultForm(formdata=None),
        labels=SPOT_CHECK_RESULT_LABELS,
    )


@bp.post("/review/spot-checks/items/<int:item_id>")
@officers
def record_spot_check(item_id: int):
    item = db.get_or_404(SpotCheckItem, item_id)
    if item.team_jurisdiction_id != current_user.unit.jurisdiction_id or item.draw.superseded_at:
        abort(404)
    form = ResultForm()
    if not form.validate_on_submit():
        flash(_("请选择检查结果。"), "error")
        return redirect(url_for("campaigns.spot_checks"))
    with atomic():
        report_id = None
        if form.result.data == SpotCheckResult.PROBLEM and item.report_id is None:
            new = NewReport(
                category=form.category.data,
                seen_at=utcnow(),
                description=form.note.data or "",
                source=Source.INSPECTION,
                vehicle=item.vehicle,
                note=_("交叉互查：%(team)s检查组", team=current_user.unit.name),
            )
            report, _receipt = file_report(new, new_submission_id(), actor=current_user)
            report.reader_jurisdiction_id = item.team_jurisdiction_id
            report_id = report.id
        services.record_spot_check(
            item, form.result.data, form.note.data or "", current_user, report_id
        )
    flash(_("检查结果已记录。"), "info")
    return redirect(url_for("campaigns.spot_checks"))
