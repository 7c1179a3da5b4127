"""Officers' pages: the queue, the to-do list, a report's page and its actions, entry of
calls and letters, the dashboard, exports and photos."""

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import tables
from ..auth.access import roles_required
from ..auth.models import Role
from ..dispatch.queries import changed_records, dispatch_evidence
from ..fleet.queries import vehicle_by_plate
from ..formutil import choices
from ..reports import filing, retention, workflow
from ..reports.accel import send_photo
from ..reports.consistency import photo_flags
from ..reports.models import CATEGORY_LABELS, SOURCE_LABELS, Source
from ..reports.protection import new_submission_id
from ..reports.scoring import EVIDENCE_LABELS, score_parts
from ..reports.states import (
    FINDING_LABELS,
    METHOD_LABELS,
    OUTCOME_LABELS,
    STATE_LABELS,
    TRANSITIONS,
    Action,
    allowed_actions,
)
from ..timeutil import format_local
from . import charts, queries
from .forms import CHANNEL_LABELS, ActionForm, EntryForm

bp = Blueprint("review", __name__, url_prefix="/review")

officers_only = roles_required(Role.OFFICER, Role.LEADER)

FIELD_MESSAGES = {
    "assignee": _l("请从本单位的承办人中选择。"),
    "reason": _l("请填写不予受理的理由。"),
    "duplicate_of": _l("请填写与之重复的举报编号（须在您的管辖范围内，且不是本件）。"),
    "transferred_to": _l("请填写转办单位。"),
    "method": _l("请选择核查方式。"),
    "finding": _l("请选择核查结论。"),
    "outcome": _l("请选择处理结果。"),
    "reply": _l("请填写给举报人的答复。"),
}


QUEUE_VIEWS = {
    queries.VIEW_WORKING: _l("待办理（未结束）"),
    queries.VIEW_FINISHED: _l("已结束（已反馈、不予受理、重复件、已转办）"),
    queries.VIEW_ALL: _l("全部"),
}


@bp.app_template_filter("state_label")
def state_label(state: str) -> str:
    return str(STATE_LABELS[state])


@bp.get("/")
@officers_only
def queue():
    filters = queries.QueueFilters.from_args(request.args)
    deadlines = queries.Deadlines()
    rows, next_cursor = queries.queue_page(
        current_user, filters, deadlines, request.args.get("after")
    )
    counts = queries.state_counts(current_user, filters, deadlines)
    others = {k: v for k, v in filters.as_args().items() if k != "state"}
    state_links = [
        (code, label, counts.get(code, 0), url_for("review.queue", state=code, **others))
        for code, label in STATE_LABELS.items()
    ]
    return render_template(
        "review/queue.html",
        reports=rows,
        next_cursor=next_cursor,
        state_links=state_links,
        filters=filters,
        deadlines=deadlines,
        jurisdictions=queries.visible_jurisdictions(current_user),
        views=QUEUE_VIEWS,
        state_labels=STATE_LABELS,
        categories=CATEGORY_LABELS,
    )


@bp.get("/todo")
@officers_only
def todo():
    return render_template(
        "review/todo.html", lists=queries.todo(current_user), deadlines=queries.Deadlines()
    )


def _action_forms(report, actions: list[Action], failed: tuple[Action, ActionForm] | None):
    """One form per available action, blank but for the one that just failed."""
    forms = {a: ActionForm(formdata=None, version=report.version) for a in actions}
    if failed is not None and failed[0] in forms:
        forms[failed[0]] = failed[1]
    if Action.ACCEPT in forms:
        forms[Action.ACCEPT].assignee.choices = choices([(0, _("我自己"))]) + choices(
            (u.id, u.display_name)
            for u in workflow.assignable_officers(current_user)
            if u.id != current_user.id
        )
    return forms


def _render_report(report, *, failed=None, contact=None, status=200):
    actions = (
        [
            a
            for a in allowed_actions(report.state, current_user.role)
            if not TRANSITIONS[a].four_eyes or workflow.may_approve(current_user, report)
        ]
        if workflow.handles(current_user, report)
        else []
    )
    return render_template(
        "review/report.html",
        report=report,
        forms=_action_forms(report, actions, failed),
        rules=TRANSITIONS,
        contact=contact,
        may_hold=retention.may_hold(current_user, report),
        neighbours=queries.neighbours(current_user, report),
        viewers=queries.viewers(report),
        deadlines=queries.Deadlines(),
        score_parts=score_parts(report),
        evidence_labels=EVIDENCE_LABELS,
        photo_flags=photo_flags,
        dispatch=dispatch_evidence(report.vehicle, report.seen_at, report.created_at)
        if report.vehicle
        else None,
        dispatch_changes=changed_records(report.vehicle_id, report.seen_at)
        if report.vehicle
        else [],
        labels={
            "state": STATE_LABELS,
            "method": METHOD_LABELS,
            "finding": FINDING_LABELS,
            "outcome": OUTCOME_LABELS,
            "source": SOURCE_LABELS,
        },
    ), status


@bp.get("/reports/<int:report_id>")
@officers_only
def report(report_id: int):
    found = queries.report_or_404(current_user, report_id)
    workflow.record_view(found, current_user)
    return _render_report(found)


@bp.post("/reports/<int:report_id>/reveal")
@officers_only
def reveal(report_id: int):
    found = queries.report_or_404(current_user, report_id)
    if not found.real_name:
        abort(404)
    if found.contacts_purged_at:
        return _render_report(found)  # says 已按保存期限删除
    try:
        name, phone = workflow.reveal_contact(found, current_user)
    except workflow.NotPermitted:
        abort(403)
    return _render_report(found, contact={"name": name, "phone": phone})


@bp.post("/reports/<int:report_id>/hold")
@officers_only
def legal_hold(report_id: int):
    found = queries.report_or_404(current_user, report_id)
    hold = request.form.get("hold") == "1"
    try:
        retention.set_legal_hold(found, hold, actor=current_user)
    except workflow.NotPermitted:
        abort(403)
    flash(_("已设置法律保全，到期也不删除。") if hold else _("已解除法律保全。"), "info")
    return redirect(url_for("review.report", report_id=found.id))


@bp.post("/reports/<int:report_id>/acknowledge")
@officers_only
def acknowledge(report_id: int):
    found = queries.report_or_404(current_user, report_id)
    try:
        workflow.acknowledge(found, current_user)
    except workflow.IllegalTransition:
        flash(_("该举报无需或已经告知受理情况。"), "error")
    except workflow.NotPermitted:
        abort(403)
    else:
        flash(_("已记录：已告知实名举报人受理情况。"), "info")
    return redirect(url_for("review.report", report_id=found.id))


def _action_details(form: ActionForm) -> dict:
    return {
        "assignee": form.assignee.data or None,
        "reason": form.reason.data or "",
        "duplicate_of": form.duplicate_of.data,
        "transferred_to": form.transferred_to.data or "",
        "method": form.method.data or "",
        "finding": form.finding.data or "",
        "outcome": form.outcome.data or "",
        "reply": form.reply.data or "",
    }


@bp.post("/reports/<int:report_id>")
@officers_only
def act(report_id: int):
    """Every action posts to the report's own address: a refusal is shown there (so the
    address bar stays the report's), a success redirects back to it."""
    found = queries.report_or_404(current_user, report_id)
    try:
        action = Action(request.form.get("action", ""))
    except ValueError:
        abort(400)
    if action is Action.OBJECT:
        abort(400)  # the reporter's step, through /track
    form = ActionForm()
    failed = (action, form)
    if not form.validate_on_submit():
        return _render_report(found, failed=failed, status=422)
    try:
        workflow.transition(
            found,
            action,
            current_user,
            expected_version=int(form.version.data),
            note=form.note.data,
            **_action_details(form),
        )
    except workflow.IllegalTransition:
        flash(
            _(
                "当前状态“%(state)s”下不能“%(action)s”。",
                state=STATE_LABELS[found.state],
                action=TRANSITIONS[action].label,
            ),
            "error",
        )
        return _render_report(found, status=409)
    except workflow.FourEyes:
        flash(
            _(
                "您参与了本件的受理、核查或处理意见，或本件应由其他领导审批：不能“%(action)s”。",
                action=TRANSITIONS[action].label,
            ),
            "error",
        )
        return _render_report(found, failed=(action, form), status=403)
    except workflow.NotPermitted:
        flash(_("您没有权限执行“%(action)s”。", action=TRANSITIONS[action].label), "error")
        return _render_report(found, status=403)
    except workflow.MissingInformation as exc:
        # Each message goes beside its field, in the form of the action that was tried.
        for name in exc.fields:
            message = str(FIELD_MESSAGES.get(name, name))
            if name in form:
                form[name].errors = [*form[name].errors, message]
            else:
                flash(message, "error")
        return _render_report(found, failed=failed, status=422)
    except workflow.StaleReport:
        found = queries.report_or_404(current_user, report_id)
        flash(
            _(
                "其他人刚刚处理了这件举报（现为“%(state)s”），请查看最新情况后再操作。",
                state=STATE_LABELS[found.state],
            ),
            "error",
        )
        return _render_report(found, status=409)
    flash(_("已%(action)s。", action=TRANSITIONS[action].label), "info")
    return redirect(url_for("review.report", report_id=found.id))


@bp.route("/reports/new", methods=["GET", "POST"])
@officers_only
def enter():
    form = EntryForm()
    del form.plate_matches, form.website
    if request.method == "GET":
        form.submission_id.data = new_submission_id()
        return render_template("review/entry.html", form=form)
    photos = form.processed_photos() if form.validate_on_submit() else []
    if form.errors:
        form.keep_for_retry()
        return render_template("review/entry.html", form=form), 422
    new = form.new_report(
        photos,
        source=Source.CALL_LETTER,
        vehicle=vehicle_by_plate(form.plate.data),
        typed_plate=form.plate.data,
        note=str(CHANNEL_LABELS.get(form.channel.data, "")),
    )
    entered, receipt = filing.file_report(new, form.submission_id.data, actor=current_user)
    return render_template(
        "review/entered.html",
        report=entered,
        receipt=receipt,
        visible=workflow.handles(current_user, entered),
    )


@bp.get("/dashboard")
@officers_only
def dashboard():
    figures = queries.dashboard(current_user, queries.Deadlines())
    return render_template(
        "review/dashboard.html",
        figures=figures,
        state_chart=charts.bar_chart(
            [(str(STATE_LABELS[s]), figures.by_state.get(s, 0)) for s in STATE_LABELS],
            title=_("按状态"),
        ),
        category_chart=charts.bar_chart(
            [(str(label), figures.by_category.get(c, 0)) for c, label in CATEGORY_LABELS.items()],
            title=_("按问题类型"),
        ),
        jurisdiction_chart=charts.bar_chart(figures.by_jurisdiction, title=_("按辖区")),
        week_chart=charts.column_chart(figures.by_week, title=_("按周（近 12 周）")),
    )


EXPORT_HEADER = [
    "编号",
    "状态",
    "车牌号",
    "单位",
    "问题类型",
    "看到时间",
    "地点",
    "来源",
    "证据分",
    "提交时间",
]


@bp.get("/export.<fmt>")
@officers_only
def export(fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    filters = queries.QueueFilters.from_args(request.args)
    rows = [
        [
            r.id,
            str(STATE_LABELS[r.state]),
            r.plate,
            r.unit.name,
            r.category_label,
            format_local(r.seen_at),
            r.place,
            str(SOURCE_LABELS[r.source]),
            r.score,
            format_local(r.created_at),
        ]
        for r in queries.matching_reports(current_user, filters, queries.Deadlines())
    ]
    data = tables.write(fmt, EXPORT_HEADER, rows)
    workflow.record_export(len(rows), fmt, filters.as_args(), actor=current_user)
    return tables.attachment(data, fmt, "reports")


@bp.get("/photos/<int:photo_id>/<kind>.jpg")
@officers_only
def photo(photo_id: int, kind: str):
    """A report photo, re-encoded without metadata, only for officers in scope."""
    record = queries.photo_or_404(current_user, photo_id)
    names = {"evidence": record.evidence_name, "display": record.display_name}
    if kind not in names:
        abort(404)
    download_name = f"report-{record.report_id}-photo-{record.id}-{kind}.jpg"
    return send_photo(names[kind], download_name)
