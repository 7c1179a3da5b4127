"""Fleet admins' pages for trip approvals (派车单) and sealing (封存登记): lists, entry,
import, and each record's page with its versions, correction (修改) and withdrawal (撤销)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.access import roles_required
from ..auth.models import Role
from ..calendar.models import HolidayPeriod
from ..extensions import db
from ..fleet.queries import vehicle_or_404
from ..formutil import choices
from ..importpage import import_page
from ..inputs import query_id, query_page
from . import amendments, queries, services
from .forms import (
    AmendSealingForm,
    AmendTripForm,
    CancelForm,
    SealingForm,
    TripApprovalForm,
    local_naive,
)
from .models import EXEMPTION_REASONS, Sealing, TripApproval
from .services import SEALING_COLUMNS, SEALING_REQUIRED, TRIP_COLUMNS, TRIP_REQUIRED

bp = Blueprint("dispatch", __name__, url_prefix="/fleet")

fleet_admin_only = roles_required(Role.FLEET_ADMIN)


def _prefill_plate(form) -> None:
    """A link from a vehicle may name it: only a car the admin manages (any other is 404)."""
    vehicle_id = request.args.get("vehicle", type=query_id)
    if request.method == "GET" and vehicle_id:
        form.plate.data = vehicle_or_404(current_user, vehicle_id).plate


def _vehicle(form):
    vehicle = queries.vehicle_in_scope(current_user, form.plate.data)
    if vehicle is None:
        form.plate.errors.append(_("该车牌号未登记，或不在您的管理范围内。"))
    return vehicle


# --- trip approvals ----------------------------------------------------------------------


@bp.get("/trips")
@fleet_admin_only
def trips():
    q = request.args.get("q", "").strip()
    page = request.args.get("page", 1, type=query_page)
    rows, total = queries.search_trip_approvals(current_user, page=page, q=q)
    return render_template(
        "dispatch/trips.html",
        approvals=rows,
        total=total,
        page=page,
        page_size=queries.PAGE_SIZE,
        q=q,
    )


@bp.route("/trips/new", methods=["GET", "POST"])
@fleet_admin_only
def new_trip():
    form = TripApprovalForm()
    _prefill_plate(form)
    if form.validate_on_submit():
        vehicle = _vehicle(form)
        if vehicle is not None:
            services.add_trip_approval(
                vehicle,
                purpose=form.purpose.data,
                destination=form.destination.data or "",
                start_at=form.start_at_utc(),
                end_at=form.end_at_utc(),
                driver=form.driver.data or "",
                approver=form.approver.data or "",
                emergency=form.emergency.data,
                actor=current_user,
            )
            flash(_("派车单已登记：%(plate)s。", plate=vehicle.plate), "info")
            return redirect(url_for("dispatch.trips"))
    return render_template("dispatch/trip_form.html", form=form), (422 if form.errors else 200)


@bp.route("/trips/import", methods=["GET", "POST"])
@fleet_admin_only
def import_trips():
    return import_page(
        "dispatch/import_trips.html",
        services.import_trip_approvals,
        lambda n: _("已导入 %(n)d 张派车单。", n=n),
        "dispatch.trips",
        TRIP_COLUMNS,
        TRIP_REQUIRED,
    )


# --- sealing ----------------------------------------------------------------------------


@bp.get("/sealing")
@fleet_admin_only
def sealings():
    q = request.args.get("q", "").strip()
    period_id = request.args.get("holiday", type=query_id)
    page = request.args.get("page", 1, type=query_page)
    rows, total = queries.search_sealings(current_user, page=page, q=q, period_id=period_id)
    return render_template(
        "dispatch/sealings.html",
        sealings=rows,
        total=total,
        page=page,
        page_size=queries.PAGE_SIZE,
        q=q,
        period_id=period_id,
        periods=queries.holiday_periods(),
    )


def _period_label(period: HolidayPeriod) -> str:
    return f"{period.start.year} {period.name}（{period.start:%m-%d}—{period.end:%m-%d}）"


def _period_choices(form) -> list[HolidayPeriod]:
    periods = queries.holiday_periods()
    form.holiday_period_id.choices = choices((p.id, _period_label(p)) for p in periods)
    return periods


@bp.route("/sealing/new", methods=["GET", "POST"])
@fleet_admin_only
def new_sealing():
    form = SealingForm()
    periods = _period_choices(form)
    _prefill_plate(form)
    if form.validate_on_submit():
        vehicle = _vehicle(form)
        period = db.session.get(HolidayPeriod, form.holiday_period_id.data)
        if vehicle is not None and period is not None:
            try:
                services.add_sealing(
                    vehicle,
                    period,
                    place=form.place.data or "",
                    key_holder=form.key_holder.data or "",
                    exempt=form.exempt.data,
                    exemption_reason=form.exemption_reason.data or "",
                    exemption_approver=form.exemption_approver.data or "",
                    actor=current_user,
                )
            except services.DuplicateSealing:
                form.plate.errors.append(_("该车辆在此节假日已有封存登记。"))
            else:
                flash(_("封存登记已保存：%(plate)s。", plate=vehicle.plate), "info")
                return redirect(url_for("dispatch.sealings"))
    return render_template(
        "dispatch/sealing_form.html",
        form=form,
        has_periods=bool(periods),
        reasons=EXEMPTION_REASONS,
    ), (422 if form.errors else 200)


@bp.route("/sealing/import", methods=["GET", "POST"])
@fleet_admin_only
def import_sealings():
    return import_page(
        "dispatch/import_sealings.html",
        services.import_sealings,
        lambda n: _("已导入 %(n)d 条封存登记。", n=n),
        "dispatch.sealings",
        SEALING_COLUMNS,
        SEALING_REQUIRED,
    )


# --- one record: its versions, correction and withdrawal ----------------------------------

KINDS = {
    "trip": (TripApproval, amendments.amend_trip, amendments.cancel_trip),
    "sealing": (Sealing, amendments.amend_sealing, amendments.cancel_sealing),
}


def _record_or_404(kind: str, record_id: int):
    record = queries.record_in_scope(current_user, KINDS[kind][0], record_id)
    if record is None:
        abort(404)
    return record


def _refused(form, refused: amendments.ChangeRefused) -> None:
    """Show a refusal beside the field it names, or above the form."""
    field = getattr(form, refused.field or "", None)
    (field.errors if field is not None else form.form_errors).append(refused.message)


def _record_page(kind: str, record, cancel_form=None, status: int = 200):
    return render_template(
        "dispatch/record.html",
        kind=kind,
        record=record,
        cancel_form=cancel_form or CancelForm(),
    ), status


@bp.get("/<any(trip, sealing):kind>/<int:record_id>")
@fleet_admin_only
def record(kind: str, record_id: int):
    return _record_page(kind, _record_or_404(kind, record_id))


@bp.post("/<any(trip, sealing):kind>/<int:record_id>/cancel")
@fleet_admin_only
def cancel_record(kind: str, record_id: int):
    record = _record_or_404(kind, record_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            KINDS[kind][2](current_user, record.id, form.reason.data)
        except amendments.ChangeRefused as refused:
            _refused(form, refused)
        else:
            flash(
                _("已撤销：%(plate)s。原记录和修改记录仍予保留。", plate=record.vehicle.plate),
                "info",
            )
            return redirect(url_for("dispatch.record", kind=kind, record_id=record.id))
    return _record_page(kind, record, form, 422)


def _trip_changes(form: AmendTripForm) -> dict:
    return {
        "plate": form.plate.data,
        "purpose": form.purpose.data,
        "destination": form.destination.data or "",
        "start_at": form.start_at_utc(),
        "end_at": form.end_at_utc(),
        "driver": form.driver.data or "",
        "approver": form.approver.data or "",
        "emergency": form.emergency.data,
    }


def _sealing_changes(form: AmendSealingForm) -> dict:
    return {
        "plate": form.plate.data,
        "holiday_period_id": form.holiday_period_id.data,
        "place": form.place.data or "",
        "key_holder": form.key_holder.data or "",
        "exempt": form.exempt.data,
        "exemption_reason": form.exemption_reason.data or "",
        "exemption_approver": form.exemption_approver.data or "",
    }


@bp.route("/<any(trip, sealing):kind>/<int:record_id>/edit", methods=["GET", "POST"])
@fleet_admin_only
def amend_record(kind: str, record_id: int):
    record = _record_or_404(kind, record_id)
    if record.cancelled_at is not None:
        flash(_("该记录已撤销，不能再修改。"), "warning")
        return redirect(url_for("dispatch.record", kind=kind, record_id=record.id))
    trip = kind == "trip"
    form = (AmendTripForm if trip else AmendSealingForm)(obj=record, plate=record.vehicle.plate)
    if not trip:
        _period_choices(form)
    if request.method == "GET" and trip:
        form.start_at.data = local_naive(record.start_at)
        form.end_at.data = local_naive(record.end_at)
    if form.validate_on_submit():
        changes = _trip_changes(form) if trip else _sealing_changes(form)
        try:
            KINDS[kind][1](current_user, record.id, changes, form.reason.data)
        except amendments.ChangeRefused as refused:
            _refused(form, refused)
        else:
            flash(
                _("已修改：%(plate)s。修改前的内容保留在修改记录中。", plate=record.vehicle.plate),
                "info",
            )
            return redirect(url_for("dispatch.record", kind=kind, record_id=record.id))
    return render_template(
        "dispatch/amend.html", kind=kind, record=record, form=form, reasons=EXEMPTION_REASONS
    ), (422 if form.errors or form.form_errors else 200)
