"""Deny by default: every endpoint needs a login unless marked public."""

from datetime import datetime, timedelta
from functools import wraps

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from ..timeutil import utcnow
from .models import Role


def public(view):
    """Mark a view as reachable without logging in."""
    view.is_public = True
    return view


def roles_required(*roles: Role):
    """Allow only these roles; any other logged-in user gets 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapper.allowed_roles = roles
        return wrapper

    return decorator


def enforce_login():
    """before_request: refuse anonymous access to non-public endpoints; apply the idle timeout."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if current_user.is_authenticated and _idle_expired():
        logout_user()
        session.clear()
        flash(_("长时间未操作，已自动退出，请重新登录。"), "warning")
        if view is None or not getattr(view, "is_public", False):
            return redirect(url_for("auth.login", next=request.path))
    if view is None or getattr(view, "is_public", False) or request.endpoint == "static":
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    return None


def _idle_expired() -> bool:
    now = utcnow()
    last = session.get("last_seen")
    session["last_seen"] = now.isoformat()
    if last is None:
        return False
    limit = timedelta(minutes=current_app.config["IDLE_TIMEOUT_MINUTES"])
    return now - datetime.fromisoformat(last) > limit
