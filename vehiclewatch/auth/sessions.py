"""Server-side staff sessions: one row per login, ended by logout, by a change to the
account, by its owner, by the idle timeout or by the absolute lifetime."""

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from .. import audit
from ..extensions import db
from ..timeutil import utcnow
from ..transaction import atomic
from .models import StaffSession, User

# last_seen_at is written at most this often, not on every request.
TOUCH_SECONDS = 60


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def device_label(user_agent: str | None) -> str:
    """A coarse label (kind of device and browser), never an address or a full agent."""
    agent = (user_agent or "").lower()
    if "micromessenger" in agent:
        browser = _("微信")
    elif "edg/" in agent:
        browser = "Edge"
    elif "firefox" in agent:
        browser = "Firefox"
    elif "chrome" in agent or "chromium" in agent:
        browser = "Chrome"
    elif "safari" in agent:
        browser = "Safari"
    else:
        browser = _("其他浏览器")
    kind = _("手机") if "mobile" in agent or "android" in agent else _("电脑")
    return f"{kind} · {browser}"


@atomic()
def start_session(user: User, device: str, *, second_factor: str | None) -> StaffSession:
    """A new session for a completed login; audited as the login."""
    token = secrets.token_urlsafe(32)
    row = StaffSession(token_hash=_digest(token), user=user, device=device[:80])
    db.session.add(row)
    db.session.flush()
    row.token = token
    user.staff_session = row
    audit.record("login", user, after={"second_factor": second_factor}, actor=user)
    return row


def _expiry_reason(row: StaffSession) -> str | None:
    now = utcnow()
    cfg = current_app.config
    if now - row.created_at > timedelta(hours=float(cfg["SESSION_MAX_HOURS"])):
        return "expired"
    if now - row.last_seen_at > timedelta(minutes=float(cfg["IDLE_TIMEOUT_MINUTES"])):
        return "idle"
    return None


def load_session(token: str) -> tuple[User | None, str | None]:
    """The user of a live session, or (None, why it ended: 'idle', 'expired' or None)."""
    row = db.session.execute(
        select(StaffSession).where(
            StaffSession.token_hash == _digest(token), StaffSession.ended_at.is_(None)
        )
    ).scalar_one_or_none()
    if row is None or not row.user.active:
        return None, None
    reason = _expiry_reason(row)
    if reason:
        end_session(row, reason, actor=audit.SYSTEM)
        return None, reason
    if utcnow() - row.last_seen_at > timedelta(seconds=TOUCH_SECONDS):
        _touch(row)
    row.token = token
    row.user.staff_session = row
    return row.user, None


@atomic()
def _touch(row: StaffSession) -> None:
    row.last_seen_at = utcnow()


@atomic()
def end_session(row: StaffSession, reason: str, *, actor: audit.Actor) -> None:
    """End one session (logout, idle, expired)."""
    row.ended_at = utcnow()
    row.end_reason = reason
    action = "logout" if reason == "logout" else "session_ended"
    audit.record(action, row.user, after={"session": row.id, "reason": reason}, actor=actor)


@atomic()
def end_sessions(
    user: User, reason: str, *, actor: audit.Actor, keep: StaffSession | None = None
) -> int:
    """End every live session of an account (but `keep`); returns how many ended."""
    query = update(StaffSession).where(
        StaffSession.user_id == user.id, StaffSession.ended_at.is_(None)
    )
    if keep is not None:
        query = query.where(StaffSession.id != keep.id)
    count = db.session.execute(
        query.values(ended_at=utcnow(), end_reason=reason).execution_options(
            synchronize_session=False
        )
    ).rowcount
    if count:
        audit.record("sessions_ended", user, after={"count": count, "reason": reason}, actor=actor)
    return count


def live_sessions(user: User) -> list[StaffSession]:
    return list(
        db.session.execute(
            select(StaffSession)
            .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
            .order_by(StaffSession.created_at.desc())
        ).scalars()
    )
