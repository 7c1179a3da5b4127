"""Who may call the API: a bearer token (never the session cookie), over HTTPS where the
service is, with the scope the route names; every call audited and rate limited per token."""

import hashlib
from functools import wraps

from flask import current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..auth import tokens
from ..auth.access import token_only
from ..clients import client_key
from ..extensions import db
from ..transaction import atomic
from .problems import PROBLEM_TYPE, Problem

IDEMPOTENCY_HEADER = "Idempotency-Key"
# What a route that serves what the public pages show needs: a working token, any scope.
ANY_SCOPE = "*"


def scope_required(scope: str):
    """The one scope a route needs; a route without one is refused (deny by default)."""

    def decorator(view):
        view.api_scope = scope
        return token_only(view)

    return decorator


def token_required(view):
    """A route for data the public pages show anyway: any working token reads it."""
    return scope_required(ANY_SCOPE)(view)


def _presented_token() -> str | None:
    kind, _sep, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if kind.lower() == "bearer" and value.strip() else None


def rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def rate_limit_key() -> str:
    """Per token (its keyed hash, which names the token row); per address without one."""
    token = _presented_token()
    return "api:" + tokens.token_digest(token) if token else client_key()


def authenticate() -> None:
    """before_request of every API blueprint."""
    view = current_app.view_functions.get(request.endpoint)
    scope = getattr(view, "api_scope", None)
    if current_app.config["PUBLIC_BASE_URL"].startswith("https://") and not request.is_secure:
        raise Problem(403, "https_required", _("接口只接受 HTTPS 请求。"))
    token = _presented_token()
    actor = tokens.authenticate(token) if token else None
    if actor is None:
        raise Problem(401, "unauthorized", _("缺少有效的接口令牌。"))
    g.api_actor = actor
    if scope is None or (scope != ANY_SCOPE and scope not in actor.scopes):
        raise Problem(403, "scope_missing", _("此令牌没有该操作的权限。"))


def audit_call(response):
    """after_request: one audit entry per authenticated call (never its payload)."""
    actor = g.get("api_actor")
    if actor is not None:
        rule = request.url_rule.rule if request.url_rule else request.path
        tokens.record_call(actor, request.method, rule, response.status_code)
    return response


def actor() -> tokens.TokenActor:
    return g.api_actor


# --- Idempotency-Key --------------------------------------------------------------------


def _request_hash() -> str:
    return hashlib.sha256(
        request.method.encode() + request.path.encode() + b"\0" + request.get_data()
    ).hexdigest()


def idempotent(view):
    """A POST needs an Idempotency-Key; a repeat of one returns the first answer (a different
    request under a used key is refused)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
        if not key or len(key) > 80:
            raise Problem(428, "idempotency_key_required")
        token_id = actor().token_id
        stored = db.session.execute(
            select(tokens.IdempotentAnswer).where(
                tokens.IdempotentAnswer.token_id == token_id, tokens.IdempotentAnswer.key == key
            )
        ).scalar_one_or_none()
        if stored is not None:
            if stored.request_hash != _request_hash():
                raise Problem(
                    409, "idempotency_key_reused", _("该 Idempotency-Key 已用于另一请求。")
                )
            return current_app.response_class(
                stored.body, status=stored.status, content_type=stored.content_type
            )
        response = current_app.make_response(view(*args, **kwargs))
        _remember(token_id, key, response)
        return response

    return wrapper


def _remember(token_id: int, key: str, response) -> None:
    try:
        with atomic():
            db.session.add(
                tokens.IdempotentAnswer(
                    token_id=token_id,
                    key=key,
                    request_hash=_request_hash(),
                    status=response.status_code,
                    content_type=response.content_type or PROBLEM_TYPE,
                    body=response.get_data(as_text=True),
                )
            )
    except IntegrityError:
        pass  # the same key, sent twice at once: the first answer is kept
