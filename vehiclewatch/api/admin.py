"""The system admin's pages for API tokens: list (with last use and state), issue, revoke. A
token with a scope that reads case content waits for a leader's confirmation, given from the
leader's confirmations page. A token's webhook subscriptions: subscribe, disable, the
delivery log (event ids and outcomes, never the payload) and a manual redeliver."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from ..auth import tokens
from ..auth.access import roles_required
from ..auth.models import Role, Unit
from ..extensions import db
from ..formutil import choices
from ..webhooks import services as webhooks
from ..webhooks.models import EVENT_TYPES, Delivery, Subscription

bp = Blueprint("api_admin", __name__, url_prefix="/admin/api-tokens")


class TokenForm(FlaskForm):
    name = StringField(_l("名称（如 省公务用车平台）"), validators=[DataRequired(), Length(max=60)])
    unit_id = SelectField(_l("服务单位（含下级）"), coerce=int)
    scopes = SelectMultipleField(
        _l("权限"),
        validators=[DataRequired()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


class SubscriptionForm(FlaskForm):
    url = StringField(
        _l("接收地址"), validators=[DataRequired(), Length(max=webhooks.MAX_URL_LENGTH)]
    )
    events = SelectMultipleField(
        _l("事件"),
        validators=[DataRequired()],
        choices=choices((event, event) for event in EVENT_TYPES),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


def _form() -> TokenForm:
    form = TokenForm()
    units = db.session.execute(select(Unit).order_by(Unit.path)).scalars()
    form.unit_id.choices = choices((u.id, u.name) for u in units)
    form.scopes.choices = choices(
        (scope, f"{scope}：{label}") for scope, label in tokens.SCOPES.items()
    )
    return form


@bp.get("")
@roles_required(Role.SYSADMIN)
def index():
    return render_template("api/tokens.html", tokens=tokens.tokens(), form=_form())


@bp.post("")
@roles_required(Role.SYSADMIN)
def create():
    form = _form()
    if form.validate_on_submit():
        unit = db.get_or_404(Unit, form.unit_id.data)
        try:
            token, clear = tokens.create_token(
                form.name.data, unit, form.scopes.data, actor=current_user
            )
        except tokens.DuplicateTokenName:
            form.name.errors.append(_("已有同名令牌。"))
        else:
            # Shown on this answer only: never flashed (the session cookie) nor stored.
            return render_template("api/token_issued.html", token=token, clear=clear)
    return render_template("api/tokens.html", tokens=tokens.tokens(), form=form), 422


@bp.post("/<int:token_id>/revoke")
@roles_required(Role.SYSADMIN)
def revoke(token_id: int):
    tokens.revoke_token(db.get_or_404(tokens.ApiToken, token_id), actor=current_user)
    flash(_("令牌已吊销，使用它的调用立即被拒绝。"), "info")
    return redirect(url_for("api_admin.index"))


@bp.post("/<int:token_id>/decision")
@roles_required(Role.LEADER)
def decide(token_id: int):
    token = db.get_or_404(tokens.ApiToken, token_id)
    if not tokens.may_confirm(token, current_user):
        abort(404)
    confirm = request.form.get("decision") == "confirm"
    tokens.confirm_token(token, current_user, confirm=confirm)
    flash(_("已确认，令牌可以使用。") if confirm else _("已拒绝，令牌已吊销。"), "info")
    return redirect(url_for("auth.confirmations"))


def _webhooks_page(token: tokens.ApiToken, form: SubscriptionForm, status: int = 200):
    page = render_template(
        "api/webhooks.html",
        token=token,
        subscriptions=webhooks.subscriptions_of(token),
        form=form,
    )
    return page, status


@bp.get("/<int:token_id>/webhooks")
@roles_required(Role.SYSADMIN)
def webhooks_index(token_id: int):
    return _webhooks_page(db.get_or_404(tokens.ApiToken, token_id), SubscriptionForm())


@bp.post("/<int:token_id>/webhooks")
@roles_required(Role.SYSADMIN)
def subscribe(token_id: int):
    token = db.get_or_404(tokens.ApiToken, token_id)
    form = SubscriptionForm()
    if form.validate_on_submit():
        try:
            subscription, secret = webhooks.create_subscription(
                token, form.url.data, form.events.data, actor=current_user
            )
        except webhooks.InvalidTarget:
            form.url.errors.append(_("地址须以 https:// 开头（http:// 只可用于本机）。"))
        except webhooks.ScopeMissing:
            form.events.errors.append(_("举报事件只能推送给具有 reports:read 权限的令牌。"))
        except webhooks.TokenRevoked:
            form.url.errors.append(_("令牌已吊销，不能再订阅。"))
        else:
            # Shown on this answer only, like a token.
            return render_template(
                "api/webhook_created.html", subscription=subscription, secret=secret
            )
    return _webhooks_page(token, form, 422)


@bp.post("/webhooks/<int:subscription_id>/disable")
@roles_required(Role.SYSADMIN)
def disable_webhook(subscription_id: int):
    subscription = db.get_or_404(Subscription, subscription_id)
    webhooks.disable_subscription(subscription, actor=current_user)
    flash(_("订阅已停用，不再推送。"), "info")
    return redirect(url_for("api_admin.webhooks_index", token_id=subscription.token_id))


def _deliveries_page(subscription: Subscription, status: int = 200):
    page = render_template(
        "api/webhook_deliveries.html",
        subscription=subscription,
        deliveries=webhooks.recent_deliveries(subscription),
    )
    return page, status


@bp.get("/webhooks/<int:subscription_id>")
@roles_required(Role.SYSADMIN)
def deliveries(subscription_id: int):
    return _deliveries_page(db.get_or_404(Subscription, subscription_id))


@bp.post("/webhooks/deliveries/<int:delivery_id>/redeliver")
@roles_required(Role.SYSADMIN)
def redeliver(delivery_id: int):
    delivery = db.get_or_404(Delivery, delivery_id)
    try:
        webhooks.redeliver(delivery, actor=current_user)
    except webhooks.NotRedeliverable:
        flash(_("订阅已停用或令牌已吊销，不能重新推送。"), "error")
        return _deliveries_page(delivery.subscription, 409)
    flash(_("已安排重新推送（事件编号不变）。"), "info")
    return redirect(url_for("api_admin.deliveries", subscription_id=delivery.subscription_id))
