"""Bulletin pages: drafting, editing, approval and publication for officers and leaders
under /review/bulletins; the published bulletins, as pages and PDFs, for everyone."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.access import public, roles_required
from ..auth.models import Role
from ..extensions import db
from ..fonts import cjk_font
from ..languages import in_chinese
from ..timeutil import to_local
from . import queries, services
from .forms import BulletinForm, ConfirmForm, CorrectionForm, StepForm
from .models import Bulletin
from .pdf import bulletin_pdf, category_label, cn_date

bp = Blueprint("bulletins", __name__)

officers_only = roles_required(Role.OFFICER, Role.LEADER)


@bp.app_template_filter("cn_date")
def cn_date_filter(day) -> str:
    return cn_date(day) if day else ""


def _edit_form(bulletin: Bulletin) -> BulletinForm:
    cases = [
        {
            "unit_name": c.unit_name,
            "person_position": c.person_position,
            "occurred_on": c.occurred_on,
            "plate": c.plate,
            "what_happened": c.what_happened,
            "outcome": c.outcome,
            "deciding_body": c.deciding_body,
            "source_report_id": c.source_report_id,
        }
        for c in bulletin.cases
    ]
    # A spare blank row at the end adds a case.
    data = {"version": bulletin.version, "title": bulletin.title, "cases": [*cases, {}]}
    return BulletinForm(formdata=None, data=data)


def _render_staff(
    bulletin: Bulletin,
    form: BulletinForm | None = None,
    status: int = 200,
    correction: CorrectionForm | None = None,
):
    if form is None and bulletin.is_draft:
        form = _edit_form(bulletin)
    return render_template(
        "bulletins/edit.html",
        bulletin=bulletin,
        form=form,
        step=StepForm(formdata=None, version=bulletin.version),
        correction=correction or CorrectionForm(formdata=None),
        round_over=services.round_over(bulletin),
        figures=queries.bulletin_figures(bulletin),
        category_label=category_label,
        may_sign=services.may_sign(bulletin, current_user),
    ), status


@bp.get("/review/bulletins")
@officers_only
def index():
    bulletins = queries.visible_bulletins(current_user)
    mine = {
        b.round_start: b
        for b in bulletins
        if b.jurisdiction_id == current_user.unit.jurisdiction_id and not b.is_correction
    }
    return render_template(
        "bulletins/index.html",
        bulletins=bulletins,
        rounds=queries.rounds_newest_first(),
        mine=mine,
    )


@bp.post("/review/bulletins/new/<round_key>")
@officers_only
def new(round_key: str):
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        bulletin = services.create_draft(round_key, current_user.unit.jurisdiction, current_user)
    except services.UnknownRound:
        abort(404)
    except services.BulletinExists as exc:
        flash(_("本轮通报已经起草，请在此继续编辑。"), "warning")
        return redirect(url_for("bulletins.edit", bulletin_id=exc.bulletin.id))
    flash(_("已起草通报，典型问题已从本轮查实的举报中生成，请核对修改。"), "info")
    return redirect(url_for("bulletins.edit", bulletin_id=bulletin.id))


@bp.route("/review/bulletins/<int:bulletin_id>", methods=["GET", "POST"])
@officers_only
def edit(bulletin_id: int):
    bulletin = queries.bulletin_or_404(current_user, bulletin_id)
    if request.method == "GET":
        return _render_staff(bulletin)
    if not bulletin.is_draft:
        flash(_("通报已审定，不能再修改。"), "error")
        return _render_staff(bulletin, status=409)
    form = BulletinForm()
    if not form.validate_on_submit():
        return _render_staff(bulletin, form=form, status=422)
    try:
        services.save_draft(
            bulletin,
            form.title.data,
            form.case_texts(),
            current_user,
            expected_version=int(form.version.data),
        )
    except services.StaleBulletin:
        db.session.expire_all()
        bulletin = queries.bulletin_or_404(current_user, bulletin_id)
        flash(_("其他人刚刚修改了这份通报，请查看最新内容后再修改。"), "error")
        return _render_staff(bulletin, status=409)
    except services.WrongStatus:
        flash(_("通报已审定，不能再修改。"), "error")
        return _render_staff(bulletin, status=409)
    flash(_("通报已保存。"), "info")
    return redirect(url_for("bulletins.edit", bulletin_id=bulletin.id))


def _step(bulletin_id: int, service, done: str):
    bulletin = queries.bulletin_or_404(current_user, bulletin_id)
    form = StepForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service(bulletin, current_user, expected_version=int(form.version.data))
    except services.NotPermitted:
        abort(403)
    except services.WrongStatus:
        flash(
            _("通报当前状态为“%(status)s”，不能执行此操作。", status=bulletin.status_label), "error"
        )
        return _render_staff(bulletin, status=409)
    except services.RoundNotOver:
        flash(
            _(
                "本轮督查到%(day)s结束，结束后才能审定通报。",
                day=cn_date(bulletin.round_end),
            ),
            "error",
        )
        return _render_staff(bulletin, status=409)
    except services.StaleBulletin:
        db.session.expire_all()
        bulletin = queries.bulletin_or_404(current_user, bulletin_id)
        flash(_("其他人刚刚修改了这份通报，请查看最新内容后再操作。"), "error")
        return _render_staff(bulletin, status=409)
    flash(done, "info")
    return redirect(url_for("bulletins.edit", bulletin_id=bulletin.id))


@bp.post("/review/bulletins/<int:bulletin_id>/approve")
@officers_only
def approve(bulletin_id: int):
    return _step(bulletin_id, services.approve, _("通报已审定，数据已固定。"))


@bp.post("/review/bulletins/<int:bulletin_id>/publish")
@officers_only
def publish(bulletin_id: int):
    return _step(bulletin_id, services.publish, _("通报已发布，公众可以查看。"))


@bp.post("/review/bulletins/<int:bulletin_id>/withdraw")
@officers_only
def withdraw(bulletin_id: int):
    return _step(bulletin_id, services.withdraw, _("已撤回审定，通报回到草稿，可以修改。"))


@bp.post("/review/bulletins/<int:bulletin_id>/correct")
@officers_only
def correct(bulletin_id: int):
    bulletin = queries.bulletin_or_404(current_user, bulletin_id)
    form = CorrectionForm()
    if not form.validate_on_submit():
        return _render_staff(bulletin, correction=form, status=422)
    try:
        correction = services.correct(bulletin, form.note.data, current_user)
    except services.NotPermitted:
        abort(403)
    except services.WrongStatus:
        flash(_("只有已发布的通报才能更正。"), "error")
        return _render_staff(bulletin, status=409)
    except services.AlreadyCorrected as exc:
        flash(_("这份通报已有更正版，请在更正版上继续。"), "warning")
        return redirect(url_for("bulletins.edit", bulletin_id=exc.correction.id))
    flash(_("已起草更正版：修改后审定、发布，原通报仍然公开并链接到更正版。"), "info")
    return redirect(url_for("bulletins.edit", bulletin_id=correction.id))


def _pdf_response(bulletin: Bulletin) -> Response:
    font = cjk_font(current_app.config.get("CJK_FONT_PATH"))
    issued = bulletin.published_at or bulletin.approved_at
    with in_chinese():
        data = bulletin_pdf(
            bulletin,
            queries.bulletin_figures(bulletin),
            font,
            issued_on=to_local(issued).date() if issued else None,
        )
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"inline; filename=bulletin-{bulletin.id}.pdf"},
    )


@bp.get("/review/bulletins/<int:bulletin_id>.pdf")
@officers_only
def preview_pdf(bulletin_id: int):
    return _pdf_response(queries.bulletin_or_404(current_user, bulletin_id))


@bp.get("/bulletins")
@public
def published():
    return render_template("bulletins/published.html", bulletins=queries.published_bulletins())


@bp.get("/bulletins/<int:bulletin_id>")
@public
def page(bulletin_id: int):
    bulletin = queries.published_or_404(bulletin_id)
    return render_template(
        "bulletins/page.html",
        bulletin=bulletin,
        figures=queries.bulletin_figures(bulletin),
        category_label=category_label,
    )


@bp.get("/bulletins/<int:bulletin_id>.pdf")
@public
def pdf(bulletin_id: int):
    return _pdf_response(queries.published_or_404(bulletin_id))
