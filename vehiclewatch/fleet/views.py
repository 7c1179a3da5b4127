"""Fleet admins' pages: the vehicle list, add, edit, retire, import, export."""

import io

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from .. import tables
from ..auth.access import roles_required
from ..auth.models import Role, Unit
from ..auth.scope import fleet_units
from ..extensions import db
from ..formutil import choices
from ..importpage import import_page
from ..inputs import query_id, query_page
from ..stickertext import StickerTextError
from . import guards, printing, queries, stickers, vehicle_files
from . import vehicles as vehicle_writes
from .forms import (
    IssueStickerForm,
    PrintForm,
    ReissueForm,
    RetireForm,
    VehicleForm,
)
from .layouts import LAYOUTS, InvalidSheet
from .models import CATEGORY_LABELS, STATUS_LABELS, Vehicle

bp = Blueprint("fleet", __name__, url_prefix="/fleet")

fleet_admin_only = roles_required(Role.FLEET_ADMIN)


def _filters() -> dict:
    return {
        "q": request.args.get("q", "").strip(),
        "unit_id": request.args.get("unit", type=query_id),
        "category": request.args.get("category", ""),
        "status": request.args.get("status", ""),
        "reprint": request.args.get("reprint") == "1",
    }


@bp.get("/vehicles")
@fleet_admin_only
def vehicles():
    filters = _filters()
    page = request.args.get("page", 1, type=query_page)
    rows, total = queries.search_vehicles(current_user, page=page, **filters)
    return render_template(
        "fleet/vehicles.html",
        vehicles=rows,
        total=total,
        page=page,
        page_size=queries.PAGE_SIZE,
        filters=filters,
        units=fleet_units(current_user),
        categories=CATEGORY_LABELS,
        statuses=STATUS_LABELS,
    )


def _vehicle_form(vehicle=None) -> VehicleForm:
    form = VehicleForm(obj=vehicle)
    form.unit_id.choices = choices((u.id, u.name) for u in fleet_units(current_user))
    return form


def _vehicle_fields(form: VehicleForm) -> dict:
    return {
        "plate": form.plate.data,
        "unit": db.session.get(Unit, form.unit_id.data),
        "category": form.category.data,
        "brand_model": form.brand_model.data or "",
        "colour": form.colour.data or "",
        "publicly_marked": form.publicly_marked.data,
    }


@bp.route("/vehicles/new", methods=["GET", "POST"])
@fleet_admin_only
def new_vehicle():
    form = _vehicle_form()
    del form.status
    if form.validate_on_submit():
        try:
            vehicle = vehicle_writes.create_vehicle(**_vehicle_fields(form), actor=current_user)
        except vehicle_writes.DuplicatePlate:
            form.plate.errors.append(_("该车牌号已登记。"))
        else:
            flash(_("车辆 %(plate)s 已登记。", plate=vehicle.plate), "info")
            return redirect(url_for("fleet.vehicles"))
    return render_template("fleet/vehicle_form.html", form=form, vehicle=None), (
        422 if form.errors else 200
    )


@bp.route("/vehicles/<int:vehicle_id>", methods=["GET", "POST"])
@fleet_admin_only
def edit_vehicle(vehicle_id: int):
    vehicle = queries.vehicle_or_404(current_user, vehicle_id)
    form = _vehicle_form(vehicle)
    if form.validate_on_submit():
        was_public = vehicle.publicly_marked
        try:
            vehicle_writes.update_vehicle(
                vehicle, status=form.status.data, actor=current_user, **_vehicle_fields(form)
            )
        except vehicle_writes.DuplicatePlate:
            form.plate.errors.append(_("该车牌号已登记。"))
        except guards.VehicleRetired:
            flash(_("该车辆已处置，不能再修改。"), "error")
        else:
            if was_public and not vehicle.publicly_marked:
                # Back to the car, whose page says what the public now sees of it.
                flash(_("车辆信息已保存：已标为涉密车辆，监督码已作废。"), "info")
                return redirect(url_for("fleet.edit_vehicle", vehicle_id=vehicle.id))
            flash(_("车辆信息已保存。"), "info")
            return redirect(url_for("fleet.vehicles"))
    return render_template(
        "fleet/vehicle_form.html",
        form=form,
        vehicle=vehicle,
        retire_form=RetireForm(),
        issue_form=IssueStickerForm(),
        reissue_form=ReissueForm(),
    ), (422 if form.errors else 200)


@bp.post("/vehicles/<int:vehicle_id>/retire")
@fleet_admin_only
def retire_vehicle(vehicle_id: int):
    vehicle = queries.vehicle_or_404(current_user, vehicle_id)
    form = RetireForm()
    if not form.validate_on_submit():
        flash(_("请填写处置原因。"), "error")
        return redirect(url_for("fleet.edit_vehicle", vehicle_id=vehicle.id))
    try:
        vehicle_writes.retire_vehicle(vehicle, form.reason.data, actor=current_user)
    except guards.VehicleRetired:
        flash(_("该车辆已处置。"), "error")
        return redirect(url_for("fleet.vehicles"))
    flash(_("车辆 %(plate)s 已标记为已处置。", plate=vehicle.plate), "info")
    return redirect(url_for("fleet.vehicles"))


@bp.route("/vehicles/import", methods=["GET", "POST"])
@fleet_admin_only
def import_vehicles():
    return import_page(
        "fleet/import.html",
        vehicle_files.import_vehicles,
        lambda n: _("已导入 %(n)d 辆车。", n=n),
        "fleet.vehicles",
        vehicle_files.IMPORT_COLUMNS,
        vehicle_files.REQUIRED_COLUMNS,
    )


@bp.get("/vehicles/export.<fmt>")
@fleet_admin_only
def export_vehicles(fmt: str):
    if fmt not in ("csv", "xlsx"):
        return Response(_("不支持的导出格式。"), status=404)
    query = queries.vehicle_query(current_user, **_filters())
    data = vehicle_files.export_vehicles(
        db.session.execute(query.order_by(Vehicle.plate)).scalars(), fmt, actor=current_user
    )
    return tables.attachment(data, fmt, "vehicles")


# --- stickers ----------------------------------------------------------------


@bp.post("/vehicles/<int:vehicle_id>/sticker")
@fleet_admin_only
def issue_sticker(vehicle_id: int):
    vehicle = queries.vehicle_or_404(current_user, vehicle_id)
    if not IssueStickerForm().validate_on_submit():
        abort(400)
    try:
        stickers.issue_sticker(vehicle, actor=current_user)
    except stickers.ConfidentialVehicle:
        flash(_("涉密车辆不发放监督码。"), "error")
    except stickers.StickerAlreadyIssued:
        flash(_("该车辆已有有效的监督码；如需更换请使用“补发”。"), "error")
    except guards.VehicleRetired:
        flash(_("已处置车辆不发放监督码。"), "error")
    else:
        flash(_("监督码已发放。"), "info")
    return redirect(url_for("fleet.edit_vehicle", vehicle_id=vehicle.id))


@bp.post("/vehicles/<int:vehicle_id>/sticker/reissue")
@fleet_admin_only
def reissue_sticker(vehicle_id: int):
    vehicle = queries.vehicle_or_404(current_user, vehicle_id)
    form = ReissueForm()
    if not form.validate_on_submit():
        flash(_("请填写补发原因。"), "error")
    else:
        try:
            stickers.reissue_sticker(vehicle, form.reason.data, actor=current_user)
        except (stickers.NoLiveSticker, stickers.ConfidentialVehicle, guards.VehicleRetired):
            flash(_("该车辆没有可补发的监督码。"), "error")
        else:
            flash(_("已补发新监督码，旧码已作废。请打印新码并替换车上的旧码。"), "info")
    return redirect(url_for("fleet.edit_vehicle", vehicle_id=vehicle.id))


@bp.get("/vehicles/<int:vehicle_id>/sticker.<fmt>")
@fleet_admin_only
def download_sticker(vehicle_id: int, fmt: str):
    vehicle = queries.vehicle_or_404(current_user, vehicle_id)
    sticker = vehicle.live_sticker
    if sticker is None or fmt not in printing.STICKER_FORMATS:
        abort(404)
    try:
        data, mimetype, filename = printing.sticker_image(sticker, fmt)
    except StickerTextError as exc:
        flash(str(exc), "error")
        return redirect(url_for("fleet.edit_vehicle", vehicle_id=vehicle.id))
    return Response(
        data, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={filename}"}
    )


def _draft_notice() -> str | None:
    """What the print pages say before printing: that labels will carry the draft mark, or
    why bilingual stickers cannot be printed at all."""
    try:
        style = printing.sticker_style()
    except StickerTextError as exc:
        return str(exc)
    if style.wording.draft:
        return _(
            "藏文译文尚未全部审核：打印出的每枚监督码上都印有“翻译未审核”字样。"
            "请在审核通过后再批量印制。"
        )
    return None


def _print_form() -> PrintForm:
    form = PrintForm()
    form.unit_id.choices = choices([(0, _("全部（我管理的所有单位）"))]) + choices(
        (u.id, u.name) for u in fleet_units(current_user)
    )
    form.layout.choices = choices((name, layout.label) for name, layout in LAYOUTS.items())
    return form


@bp.get("/stickers/queue")
@fleet_admin_only
def print_queue():
    form = _print_form()
    form.needs_reprint.data = True
    return render_template(
        "fleet/print_queue.html",
        stickers=queries.print_queue(current_user),
        form=form,
        draft=_draft_notice(),
    )


@bp.route("/stickers/print", methods=["GET", "POST"])
@fleet_admin_only
def print_stickers():
    form = _print_form()
    if request.method == "GET":
        form.vehicle.data = request.args.getlist("vehicle", type=query_id)
        form.needs_reprint.data = request.args.get("reprint") == "1"
    elif form.validate_on_submit():
        selection = printing.Selection(
            unit_id=form.unit_id.data or None,
            needs_reprint=form.needs_reprint.data,
            vehicle_ids=tuple(form.vehicle.data or ()),
        )
        out = io.BytesIO()
        try:
            printing.print_stickers(
                selection,
                out,
                layout=form.layout.data,
                start=form.start.data,
                back=form.back.data,
                actor=current_user,
            )
        except printing.NothingToPrint:
            flash(_("所选范围内没有可打印监督码的车辆（涉密和已处置车辆不发码）。"), "error")
        except (InvalidSheet, StickerTextError) as exc:
            flash(str(exc), "error")
        else:
            return Response(
                out.getvalue(),
                mimetype="application/pdf",
                headers={"Content-Disposition": "attachment; filename=stickers.pdf"},
            )
    page = render_template("fleet/print.html", form=form, draft=_draft_notice())
    return page, (422 if form.errors else 200)
