"""Login, logout, password change, and the system admin's accounts and units pages."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..extensions import db, limiter
from ..formutil import choices
from . import services
from .access import public, roles_required
from .forms import LoginForm, PasswordForm, UnitForm, UserForm
from .models import Role, Unit, User

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


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
            flash(_("该账号登录失败次数过多，请一分钟后再试。"), "error")
            status = 429
        except services.InvalidCredentials:
            flash(_("用户名或密码错误。"), "error")
            status = 401
        else:
            session.clear()  # a fresh session at login
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("main.workbench"))
    return render_template("auth/login.html", form=form), status


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
            services.change_password(current_user, form.new.data, actor=current_user)
            logout_user()
            session.clear()
            flash(_("密码已修改，所有登录均已失效，请重新登录。"), "info")
            return redirect(url_for("auth.login"))
    return render_template("auth/password.html", form=form)


# --- system admin: accounts -------------------------------------------------


def _unit_choices():
    units = db.session.execute(select(Unit).order_by(Unit.path)).scalars()
    return choices((u.id, f"{'　' * (u.path.count('/') - 2)}{u.name}") for u in units)


@bp.get("/admin/users")
@roles_required(Role.SYSADMIN)
def users():
    rows = db.session.execute(select(User).order_by(User.username)).scalars().all()
    return render_template("auth/users.html", users=rows)


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
                services.create_user(
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
            else:
                flash(_("账号已创建。"), "info")
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
        services.update_user(
            user,
            display_name=form.display_name.data,
            role=form.role.data,
            unit=db.get_or_404(Unit, form.unit_id.data),
            can_reveal_contact=form.can_reveal_contact.data,
            active=form.active.data,
            new_password=form.password.data or "",
            actor=current_user,
        )
        flash(_("账号已保存。"), "info")
        return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=user)


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
            services.update_unit(
                unit,
                name=form.name.data,
                parent=parent,
                escalated=form.escalated.data,
                actor=current_user,
            )
        except services.UnitError as exc:
            flash(_("无法保存单位：%(reason)s", reason=str(exc)), "error")
        else:
            flash(_("单位已保存。"), "info")
            return redirect(url_for("auth.units"))
    return render_template("auth/unit_form.html", form=form, unit=unit)
