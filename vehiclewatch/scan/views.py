"""What a scanned sticker opens: the car's identity, the report form with its receipt,
the manual look-up, and tracking by receipt."""

from datetime import datetime

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import audit
from ..auth.access import public
from ..extensions import limiter
from ..fleet.models import Sticker
from ..fleet.queries import vehicle_by_plate
from ..publictext import EIGHT_RULES
from ..reports import filing, workflow
from ..reports.forms import PlateReportForm, ReportForm
from ..reports.models import Source
from ..reports.protection import new_submission_id
from ..reports.states import OPEN_STATES, PUBLIC_LABELS, Action, State
from ..timeutil import local_zone
from . import pages, queries
from .forms import AddInformationForm, ObjectionForm, TrackForm

bp = Blueprint("scan", __name__)

# Per client address; a flood of one car from many addresses is marked, not refused
# (reports.bursts). The figures come from configuration.
per_client = limiter.limit(lambda: current_app.config["REPORT_RATE_LIMIT"], methods=["POST"])
tracking = limiter.shared_limit(
    lambda: current_app.config["TRACK_RATE_LIMIT"], scope="track", methods=["POST"]
)


@bp.get("/v/<token>")
@public
@limiter.limit(lambda: current_app.config["SCAN_RATE_LIMIT"])
def vehicle(token: str):
    card = queries.scan_card(token, datetime.now(local_zone()).date())
    if card is None:
        return render_template("scan/unknown.html", query=""), 404
    if not card.live:
        return render_template("scan/revoked.html", sticker=card), 410
    return pages.scan_page(
        card,
        request.full_path,
        lambda: render_template("scan/vehicle.html", card=card, rules=EIGHT_RULES),
    )


@bp.get("/v")
@public
@limiter.limit("120/minute")
def lookup():
    text = request.args.get("q", "").strip()
    if not text:
        return render_template("scan/lookup.html")
    found = queries.lookup(text)
    if found.revoked:
        return render_template("scan/revoked.html", sticker=found.sticker), 410
    if found.sticker is None:
        return render_template("scan/unknown.html", query=text, by_plate=found.by_plate), 404
    return redirect(url_for("scan.vehicle", token=found.sticker.token))


def _new_form(form: ReportForm, category: str | None = None) -> None:
    form.submission_id.data = new_submission_id()
    form.seen_at.data = datetime.now(local_zone()).replace(tzinfo=None, second=0, microsecond=0)
    if category:
        form.category.data = category


def _handle_report(form, sticker: Sticker | None):
    """Validate, read photos, file; render the receipt, or the form with every input kept.
    Without a sticker the plate is typed: a confidential car is linked for the officers,
    and the reporter is told exactly what they would be told about any plate."""
    if form.website.data:
        abort(400)
    if form.validate_on_submit():
        # A double submit is answered with the first report: its photos are not read again.
        sent_again = form.uploads() and filing.existing_submission(form.submission_id.data)
        photos = [] if sent_again else form.processed_photos()
        if not form.photos.errors:
            if sticker is not None:
                facts = {"vehicle": sticker.vehicle, "sticker": sticker}
            else:
                plate = form.plate.data
                facts = {
                    "vehicle": vehicle_by_plate(plate),
                    "typed_plate": plate,
                    "source": Source.MANUAL,
                }
            new = form.new_report(photos, **facts)
            report, receipt = filing.file_report(new, form.submission_id.data, actor=audit.PUBLIC)
            return render_template("scan/receipt.html", report=report, receipt=receipt)
    photos_lost = bool(form.errors) and any(f.filename for f in request.files.getlist("photos"))
    form.keep_for_retry()
    return render_template(
        "scan/report.html", form=form, sticker=sticker, photos_lost=photos_lost
    ), (422 if form.errors else 200)


@bp.route("/v/<token>/report", methods=["GET", "POST"])
@public
@per_client
def report(token: str):
    sticker = queries.sticker_by_token(token)
    if sticker is None:
        return render_template("scan/unknown.html", query=""), 404
    form = ReportForm()
    if request.method == "GET":
        _new_form(form, None if sticker.live else "marking")
    return _handle_report(form, sticker)


@bp.route("/report", methods=["GET", "POST"])
@public
@per_client
def report_by_plate():
    form = PlateReportForm()
    del form.plate_matches
    if request.method == "GET":
        _new_form(form)
        form.plate.data = request.args.get("plate", "")
    return _handle_report(form, None)


def _status_page(report, *, message: str | None = None, add_form=None, objection_form=None):
    receipt = request.form.get("receipt", "")
    add_form = add_form or AddInformationForm(formdata=None, receipt=receipt)
    objection_form = objection_form or ObjectionForm(formdata=None, receipt=receipt)
    can_object = workflow.can_object(report)
    return render_template(
        "scan/status.html",
        report=report,
        public_label=PUBLIC_LABELS[State(report.state)],
        events=[e for e in report.events if e.public_text],
        is_open=report.state in OPEN_STATES,
        can_object=can_object,
        add_form=add_form,
        objection_form=objection_form,
        message=message,
    )


def _not_found(form):
    # A wrong code and an unknown code are the same to us, and get the same answer.
    return render_template("scan/track.html", form=form, not_found=True), 404


@bp.route("/track", methods=["GET", "POST"])
@public
@tracking
def track():
    form = TrackForm()
    if not form.validate_on_submit():
        return render_template("scan/track.html", form=form), (422 if form.errors else 200)
    report = filing.find_by_receipt(form.receipt.data)
    if report is None:
        return _not_found(form)
    return _status_page(report)


@bp.post("/track/add")
@public
@tracking
def add_information():
    form = AddInformationForm()
    valid = form.validate_on_submit()
    report = filing.find_by_receipt(form.receipt.data or "")
    if report is None:
        return _not_found(TrackForm(formdata=None))
    photos = form.processed_photos() if valid else []
    if not valid or form.photos.errors or not (form.text.data or photos):
        if valid and not form.photos.errors:
            form.text.errors = [_("请填写补充说明或选择照片。")]
        return _status_page(report, add_form=form), 422
    try:
        filing.add_information(report, form.text.data or "", photos)
    except filing.ReportClosed:
        return _status_page(report, message=_("该举报已办理完毕，不能再补充。")), 409
    except filing.TooManyPhotos as exc:
        form.photos.errors = [
            _(
                "每件举报最多 %(max)d 张照片，还可以补充 %(room)d 张。",
                max=filing.MAX_REPORT_PHOTOS,
                room=exc.room,
            )
        ]
        return _status_page(report, add_form=form), 422
    return _status_page(report, message=_("补充材料已收到。"))


@bp.post("/track/object")
@public
@tracking
def object_to_reply():
    form = ObjectionForm()
    report = filing.find_by_receipt(form.receipt.data or "") if form.receipt.data else None
    if report is None:
        return _not_found(TrackForm(formdata=None))
    if not form.validate_on_submit():
        return _status_page(report, objection_form=form), 422
    try:
        workflow.transition(report, Action.OBJECT, audit.PUBLIC, text=form.text.data)
    except (workflow.IllegalTransition, workflow.ObjectionNotAllowed):
        return _status_page(
            report, message=_("该举报目前不能提出异议（异议只能在答复后 30 天内提出一次）。")
        ), 409
    return _status_page(report, message=_("异议已收到，将重新核查。"))
