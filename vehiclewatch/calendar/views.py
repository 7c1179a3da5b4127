"""Holiday data for the system admin."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..auth.access import roles_required
from ..auth.models import Role
from ..extensions import db
from ..importpage import import_page
from . import services
from .forms import REGION_LABELS, HolidayForm
from .models import HolidayPeriod

bp = Blueprint("calendar", __name__)


@bp.route("/admin/holidays", methods=["GET", "POST"])
@roles_required(Role.SYSADMIN)
def holidays():
    form = HolidayForm()
    if form.validate_on_submit():
        services.add_holiday_period(*form.period(), actor=current_user)
        flash(_("节假日已添加，相关举报的督查轮次已更新。"), "info")
        return redirect(url_for("calendar.holidays"))
    periods = db.session.execute(select(HolidayPeriod).order_by(HolidayPeriod.start)).scalars()
    return render_template(
        "calendar/holidays.html", form=form, periods=list(periods), regions=REGION_LABELS
    ), (422 if form.errors else 200)


@bp.route("/admin/holidays/<int:period_id>/edit", methods=["GET", "POST"])
@roles_required(Role.SYSADMIN)
def edit_holiday(period_id: int):
    period = db.get_or_404(HolidayPeriod, period_id)
    form = HolidayForm(
        obj=period, makeup_workdays=", ".join(d.isoformat() for d in period.makeup_dates)
    )
    if form.validate_on_submit():
        services.edit_holiday_period(period, *form.period(), actor=current_user)
        flash(_("节假日已修改，相关举报的督查轮次已更新。"), "info")
        return redirect(url_for("calendar.holidays"))
    return render_template("calendar/holiday_form.html", form=form, period=period), (
        422 if form.errors else 200
    )


@bp.route("/admin/holidays/import", methods=["GET", "POST"])
@roles_required(Role.SYSADMIN)
def import_holidays():
    return import_page(
        "calendar/import_holidays.html",
        services.import_holidays,
        lambda n: _("已导入 %(n)d 个节假日，相关举报的督查轮次已更新。", n=n),
        "calendar.holidays",
        services.HOLIDAY_COLUMNS,
        services.HOLIDAY_REQUIRED,
    )


@bp.post("/admin/holidays/<int:period_id>/delete")
@roles_required(Role.SYSADMIN)
def delete_holiday(period_id: int):
    period = db.get_or_404(HolidayPeriod, period_id)
    try:
        services.remove_holiday_period(period, actor=current_user)
    except services.HolidayInUse:
        flash(_("该节假日已有封存登记，不能删除。"), "error")
    else:
        flash(_("节假日已删除，相关举报的督查轮次已更新。"), "info")
    return redirect(url_for("calendar.holidays"))
