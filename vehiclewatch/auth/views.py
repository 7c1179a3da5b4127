"""Login (password, then TOTP), logout, the account's own sessions and password, leaders'
confirmations, and the system admin's accounts and units pages."""

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from markupsafe import Markup
from sqlalchemy import select

from ..extensions import db, limiter
from ..formutil import choices
from ..timeutil import utcnow
from . import foureyes, services, sessions, tokens, totp
from .access import public, roles_required
from .forms import CodeForm, LoginForm, PasswordForm, UnitForm, UserForm
from .models import AccountChange, Role, Unit, User
from .passwords import WeakPassword

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


# A password accepted waits this long for its second factor.
PENDING_LOGIN_SECONDS = 300


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit("30/minute", methods=["POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.username.data, form.password.data)
        except services.LoginThrottled:
            status = _throttled()
        except services.InvalidCredentials:
            flash(_("用户名或密码错误。"), "error")
            status = 401
        else:
            session.clear()  # a fresh session at login
            if not user.totp_enrolled and not current_app.config["REQUIRE_TOTP"]:
                return _finish_login(user, None)
            session["pending_login"] = {"user": user.id, "at": utcnow().isoformat()}
            step = "auth.second_factor" if user.totp_enrolled else "auth.enrol"
            return redirect(url_for(step, next=_safe_next(request.args.get("next"))))
    totp_off = not current_app.config["REQUIRE_TOTP"]
    return render_template("auth/login.html", form=form, totp_off=totp_off), status


def _throttled() -> int:
    flash(_("该账号登录失败次数过多，请一分钟后再试。"), "error")
    return 429


def _pending_user() -> User | None:
    """The account whose password was accepted in this browser a moment ago."""
    pending = session.get("pending_login")
    if not pending:
        return None
    started = datetime.fromisoformat(pending["at"])
    if utcnow() - started > timedelta(seconds=PENDING_LOGIN_SECONDS):
        session.pop("pending_login")
        return None
    user = db.session.get(User, pending["user"])
    return user if user is not None and user.active else None


def _start_session(user: User, second_factor: str | None) -> None:
    session.clear()
    device = sessions.device_label(request.headers.get("User-Agent"))
    services.complete_login(user, device, second_factor=second_factor)
    login_user(user)


def _finish_login(user: User, second_factor: str | None):
    _start_session(user, second_factor)
    return redirect(_safe_next(request.args.get("next")) or url_for("main.workbench"))


@bp.route("/login/code", methods=["GET", "POST"])
@public
@limiter.limit("30/minute", methods=["POST"])
def second_factor():
    user = _pending_user()
    if user is None or not user.totp_enrolled:
        return redirect(url_for("auth.login"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            factor = services.check_second_factor(user, form.code.data)
        except services.LoginThrottled:
            status = _throttled()
        else:
            if factor is not None:
                return _finish_login(user, factor)
            form.code.errors.append(_("验证码不正确或已用过，请等下一个验证码。"))
            status = 401
    return render_template("auth/code.html", form=form), status


@bp.route("/login/enrol", methods=["GET", "POST"])
@public
@limiter.limit("30/minute", methods=["POST"])
def enrol():
    """Set up the authenticator app: during a login (first time, or after a reset), or from
    the account page while signed in."""
    signed_in = current_user.is_authenticated
    user = current_user._get_current_object() if signed_in else _pending_user()
    if user is None or user.totp_enrolled:
        return redirect(url_for("auth.login"))
    secret = session.setdefault("enrol_secret", totp.new_secret())
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            codes = services.enrol_totp(user, secret, form.code.data)
        except services.LoginThrottled:
            status = _throttled()
        else:
            if codes is not None:
                session.pop("enrol_secret", None)
                if not signed_in:
                    _start_session(user, "totp")
                return render_template(
                    "auth/recovery_codes.html",
                    codes=codes,
                    next=_safe_next(request.args.get("next")) or url_for("main.workbench"),
                )
            form.code.errors.append(_("验证码不正确，请核对手机时间后输入应用中显示的 6 位数字。"))
            status = 401
    uri = totp.provisioning_uri(user, secret)
    return render_template(
        "auth/enrol.html", form=form, secret=secret, qr=Markup(totp.qr_svg(uri))
    ), status


@bp.post("/logout")
@login_required
def logout():
    services.record_logout(current_user)
    logout_user()
    session.clear()
    flash(_("已退出登录。"), "info")
    return redirect(url_for("main.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        if not services.verify_password(current_user, form.current.data):
            form.current.errors.append(_("当前密码不正确。"))
        else:
            try:
                services.change_password(current_user, form.new.data, actor=current_user)
            except WeakPassword as exc:
                form.new.errors.append(str(exc))
            else:
                logout_user()
                session.clear()
                flash(_("密码已修改，所有登录均已失效，请重新登录。"), "info")
                return redirect(url_for("auth.login"))
    return render_template("auth/password.html", form=form)


@bp.get("/account/sessions")
@login_required
def account_sessions():
    return render_template(
        "auth/sessions.html",
        rows=sessions.live_sessions(current_user),
        current=current_user.staff_session,
        recovery_left=totp.unused_recovery_codes(current_user),
        pending=foureyes.pending_for(current_user),
    )


@bp.post("/account/sessions/end-others")
@login_required
def end_other_sessions():
    count = sessions.end_sessions(
        current_user, "ended_by_owner", actor=current_user, keep=current_user.staff_session
    )
    flash(_("已结束其他 %(n)d 处登录。", n=count), "info")
    return redirect(url_for("auth.account_sessions"))


# --- leaders: account changes (and API tokens) waiting for a second person ---


@bp.get("/account/confirmations")
@roles_required(Role.LEADER)
def confirmations():
    return render_template(
        "auth/confirmations.html",
        changes=foureyes.pending(current_user),
        tokens=tokens.pending_for(current_user),
    )


@bp.post("/account/confirmations/<int:change_id>")
@roles_required(Role.LEADER)
def decide_change(change_id: int):
    change = db.get_or_404(AccountChange, change_id)
    if not foureyes.may_decide(change, current_user):
        abort(404)
    confirm = request.form.get("decision") == "confirm"
    foureyes.decide(change, current_user, confirm=confirm)
    flash(_("已确认，变更已生效。") if confirm else _("已拒绝该变更。"), "info")
    return redirect(url_for("auth.confirmations"))


# --- system admin: accounts -------------------------------------------------


def _unit_choices():
    units = db.session.execute(select(Unit).order_by(Unit.path)).scalars()
    return choices((u.id, f"{'　' * (u.path.count('/') - 2)}{u.name}") for u in units)


@bp.get("/admin/users")
@roles_required(Role.SYSADMIN)
def users():
    rows = db.session.execute(select(User).order_by(User.username)).scalars().all()
    return render_template("auth/users.html", users=rows, pending=foureyes.pending())


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles_required(Role.SYSADMIN)
def new_user():
    form = UserForm()
    form.unit_id.choices = _unit_choices()
    if form.validate_on_submit():
        if not form.password.data:
            form.password.errors.append(_("新账号需要初始密码。"))
        else:
            try:
                user = services.create_user(
                    form.username.data,
                    form.display_name.data,
                    form.role.data,
                    db.get_or_404(Unit, form.unit_id.data),
                    form.password.data,
                    form.can_reveal_contact.data,
                    actor=current_user,
                )
            except services.UsernameTaken:
                form.username.errors.append(_("用户名已存在。"))
            except WeakPassword as exc:
                form.password.errors.append(str(exc))
            else:
                if user.active:
                    flash(_("账号已创建。"), "info")
                else:
                    flash(_("账号已创建，待本单位领导确认后启用。"), "info")
                return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=None)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.SYSADMIN)
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user)
    form.unit_id.choices = _unit_choices()
    del form.username
    if form.validate_on_submit():
        try:
            change = services.update_user(
                user,
                display_name=form.display_name.data,
                role=form.role.data,
                unit=db.get_or_404(Unit, form.unit_id.data),
                can_reveal_contact=form.can_reveal_contact.data,
                active=form.active.data,
                new_password=form.password.data or "",
                actor=current_user,
            )
        except WeakPassword as exc:
            form.password.errors.append(str(exc))
        else:
            _say_saved(change)
            return redirect(url_for("auth.users"))
    return render_template(
        "auth/user_form.html", form=form, user=user, pending=foureyes.pending_for(user)
    )


@bp.post("/admin/users/<int:user_id>/reset-totp")
@roles_required(Role.SYSADMIN)
def reset_totp(user_id: int):
    user = db.get_or_404(User, user_id)
    _say_saved(services.reset_totp(user, actor=current_user))
    return redirect(url_for("auth.edit_user", user_id=user.id))


def _say_saved(change: AccountChange | None, saved: str | None = None) -> None:
    if change is None:
        flash(saved or _("账号已保存。"), "info")
    else:
        flash(
            _(
                "以下变更涉及案件内容，须由%(unit)s领导确认后生效：%(what)s",
                unit=change.unit.name,
                what="；".join(change.summary),
            ),
            "info",
        )


# --- system admin: units ----------------------------------------------------


@bp.get("/admin/units")
@roles_required(Role.SYSADMIN)
def units():
    rows = db.session.execute(select(Unit).order_by(Unit.path)).scalars().all()
    return render_template("auth/units.html", units=rows)


def _unit_form(unit: Unit | None) -> UnitForm:
    form = UnitForm(obj=unit)
    form.parent_id.choices = choices([(0, _("（无：根节点）"))]) + _unit_choices()
    return form


@bp.route("/admin/units/new", methods=["GET", "POST"])
@roles_required(Role.SYSADMIN)
def new_unit():
    form = _unit_form(None)
    if form.validate_on_submit():
        parent = db.session.get(Unit, form.parent_id.data) if form.parent_id.data else None
        try:
            services.create_unit(
                form.code.data,
                form.name.data,
                form.kind.data,
                parent,
                form.escalated.data,
                actor=current_user,
            )
        except services.UnitError as exc:
            flash(_("无法保存单位：%(reason)s", reason=str(exc)), "error")
        else:
            flash(_("单位已创建。"), "info")
            return redirect(url_for("auth.units"))
    return render_template("auth/unit_form.html", form=form, unit=None)


@bp.route("/admin/units/<int:unit_id>", methods=["GET", "POST"])
@roles_required(Role.SYSADMIN)
def edit_unit(unit_id: int):
    unit = db.get_or_404(Unit, unit_id)
    form = _unit_form(unit)
    del form.code, form.kind
    if form.validate_on_submit():
        parent = db.session.get(Unit, form.parent_id.data) if form.parent_id.data else None
        if parent is not None and parent.id == unit.id:
            abort(400)
        try:
            change = services.update_unit(
                unit,
                name=form.name.data,
                parent=parent,
                escalated=form.escalated.data,
                actor=current_user,
            )
        except services.UnitError as exc:
            flash(_("无法保存单位：%(reason)s", reason=str(exc)), "error")
        else:
            _say_saved(change, _("单位已保存。"))
            return redirect(url_for("auth.units"))
    return render_template("auth/unit_form.html", form=form, unit=unit)
