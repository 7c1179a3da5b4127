"""Deny by default: every endpoint needs a login unless marked public."""

from functools import wraps

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .models import Role


def public(view):
    """Mark a view as reachable without logging in."""
    view.is_public = True
    return view


def token_only(view):
    """Mark a view as the integration API's: an API token is checked by the API itself, and
    the session (cookie) is never consulted."""
    view.token_only = True
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
    """before_request: refuse anonymous access to non-public endpoints; say why a session
    ended (idle timeout, absolute lifetime)."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if getattr(view, "token_only", False):
        return None  # the API checks its token and never reads the session
    if not current_user.is_authenticated and g.get("session_end_reason"):
        session.clear()
        if g.session_end_reason == "idle":
            flash(_("长时间未操作，已自动退出，请重新登录。"), "warning")
        else:
            flash(_("登录已超过最长时限，请重新登录。"), "warning")
        if view is None or not getattr(view, "is_public", False):
            return redirect(url_for("auth.login", next=request.path))
    if view is None or getattr(view, "is_public", False) or request.endpoint == "static":
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    return None
