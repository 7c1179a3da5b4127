"""Writes for accounts and units: the only place that changes them."""

import hashlib
import hmac
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import audit
from ..extensions import db
from ..timeutil import utcnow
from ..transaction import atomic
from . import foureyes, passwords, sessions, totp, tree
from .models import (
    CASE_ROLES,
    AccountChange,
    LoginThrottle,
    Role,
    StaffSession,
    Unit,
    UnitKind,
    User,
)
from .passwords import hash_password, hasher, verify_hash
from .tree import UnitError


class UsernameTaken(ValueError):
    """Another account already has this username."""


class LoginThrottled(Exception):
    """Too many failed logins for this account in the last minute."""


class InvalidCredentials(Exception):
    """Unknown account, wrong password, or a disabled account."""


_DUMMY_HASH: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash to check against for an unknown account, so it costs what a known one does."""
    if "dummy" not in _DUMMY_HASH:
        _DUMMY_HASH["dummy"] = hash_password("not-a-password")
    return _DUMMY_HASH["dummy"]


def _account_label(username: str, known: bool) -> str:
    """What the audit log keeps of a typed username: the name of a real account; for an
    unknown one (often a password typed into the wrong field) only a keyed hash."""
    if known:
        return username
    key = str(current_app.config["SECRET_KEY"]).encode()
    return "unknown:" + hmac.new(key, username.encode(), hashlib.sha256).hexdigest()[:24]


def _insert_ignore(model):
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return insert(model)


def reserve_attempt(username: str) -> bool:
    """Count a login attempt (password or second factor) for this username before it is
    checked: atomically, so parallel attempts cannot slip past the limit. False (and an
    audit entry) when the limit for the window is reached."""
    cfg = current_app.config
    now = utcnow()
    cutoff = now - timedelta(seconds=cfg["LOGIN_FAILURE_WINDOW_SECONDS"])
    stale = LoginThrottle.window_started_at <= cutoff
    with atomic():
        db.session.execute(
            _insert_ignore(LoginThrottle)
            .values(username=username, attempts=0, window_started_at=now)
            .on_conflict_do_nothing(index_elements=["username"])
        )
        counted = db.session.execute(
            update(LoginThrottle)
            .where(
                LoginThrottle.username == username,
                or_(LoginThrottle.attempts < cfg["LOGIN_FAILURE_LIMIT"], stale),
            )
            .values(
                attempts=case((stale, 1), else_=LoginThrottle.attempts + 1),
                window_started_at=case((stale, now), else_=LoginThrottle.window_started_at),
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if not counted:
            audit.record(
                "login_throttled",
                object_type="user_account",
                object_id=_account_label(username, _find_user(username) is not None),
                actor=audit.PUBLIC,
            )
    return bool(counted)


def _clear_attempts(username: str) -> None:
    """A login completed (both steps): its username's count starts afresh."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.username == username))


def _find_user(username: str) -> User | None:
    return db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def record_failure(username: str, user: User | None, factor: str) -> None:
    """Audit a failed login step (the attempt was counted when it was reserved)."""
    with atomic():
        audit.record(
            "login_failed",
            object_type="user_account",
            object_id=_account_label(username, user is not None),
            after={"factor": factor},
            actor=audit.PUBLIC,
        )


def authenticate(username: str, password: str) -> User:
    """Check a username and password (the first step of a login); raise if throttled or
    wrong. An unknown, a disabled and a live account take the same work and answer alike."""
    username = username.strip()
    if not reserve_attempt(username):
        raise LoginThrottled(username)
    user = _find_user(username)
    matches = verify_hash(user.password_hash if user is not None else _dummy_hash(), password)
    if not (matches and user is not None and user.active):
        record_failure(username, user, "password")
        raise InvalidCredentials(username)
    if hasher().check_needs_rehash(user.password_hash):
        with atomic():
            user.password_hash = hash_password(password)
    return user


@atomic()
def complete_login(user: User, device: str, *, second_factor: str | None) -> StaffSession:
    """Both steps passed: a fresh server-side session, and the username's counter cleared."""
    _clear_attempts(user.username)
    return sessions.start_session(user, device, second_factor=second_factor)


def check_second_factor(user: User, code: str) -> str | None:
    """The second step of a login: a TOTP or recovery code, counted like a password
    attempt; returns which factor passed, or None (audited). Raises LoginThrottled."""
    if not reserve_attempt(user.username):
        raise LoginThrottled(user.username)
    factor = totp.check_code(user, code)
    if factor is None:
        record_failure(user.username, user, "totp")
    return factor


def enrol_totp(user: User, secret: str, code: str) -> list[str] | None:
    """Set up the account's authenticator once a code from it checks (counted like a
    password attempt); ends its other sessions; returns the recovery codes, or None.
    Raises LoginThrottled."""
    if not reserve_attempt(user.username):
        raise LoginThrottled(user.username)
    with atomic():
        codes = totp.enrol(user, secret, code)
        if codes is not None:
            sessions.end_sessions(user, "totp_changed", actor=user, keep=user.staff_session)
    if codes is None:
        record_failure(user.username, user, "totp_enrol")
    return codes


@atomic()
def record_logout(user: User) -> None:
    """End the session this request runs in."""
    sessions.end_session(user.staff_session, "logout", actor=user)


def _user_snapshot(user: User) -> dict:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "unit": user.unit.code if user.unit else None,
        "can_reveal_contact": user.can_reveal_contact,
        "active": user.active,
    }


@atomic()
def create_user(
    username: str,
    display_name: str,
    role: Role | str,
    unit: Unit,
    password: str,
    can_reveal_contact: bool = False,
    *,
    actor: audit.Actor,
) -> User:
    """Create a staff account. An account that sees cases starts disabled until a leader of
    its unit confirms it, except a unit's first leader created on the command line or by
    the seed (the exemption is on the record)."""
    username = username.strip()
    if db.session.execute(select(User.id).where(User.username == username)).first():
        raise UsernameTaken(username)
    passwords.check(password, username)
    role = Role(role)
    exempt = actor is audit.SYSTEM and foureyes.is_first_leader(role, unit)
    user = User(
        username=username,
        display_name=display_name.strip(),
        role=role,
        unit=unit,
        password_hash=hash_password(password),
        can_reveal_contact=can_reveal_contact and role in CASE_ROLES,
        active=role not in CASE_ROLES or exempt,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user_created", user, after=_user_snapshot(user), actor=actor)
    if exempt:
        audit.record(
            "four_eyes_exempt",
            user,
            after={"reason": "first_leader", "unit": unit.code},
            actor=actor,
        )
    elif role in CASE_ROLES:
        foureyes.request({"active": True}, user=user, actor=actor)
    return user


@atomic()
def update_user(
    user: User,
    *,
    display_name: str,
    role: str,
    unit: Unit,
    can_reveal_contact: bool,
    active: bool,
    new_password: str = "",
    actor: audit.Actor,
) -> AccountChange | None:
    """Change an account's name, role, unit, rights, status or password. What opens case
    content waits for a leader (returned as the pending change); the rest takes effect now,
    and anything but a new name ends the account's sessions."""
    role = Role(role)
    wanted = {
        "display_name": display_name.strip(),
        "role": role,
        "unit_id": unit.id,
        "can_reveal_contact": can_reveal_contact and role in CASE_ROLES,
        "active": active,
    }
    changes = {key: value for key, value in wanted.items() if getattr(user, key) != value}
    if new_password:
        passwords.check(new_password, user.username)
        changes["password_hash"] = hash_password(new_password)
    gated = foureyes.opens_case_content(user, changes) if actor.id != user.id else set()
    now = {key: value for key, value in changes.items() if key not in gated}
    if now:
        before = _user_snapshot(user)
        foureyes.apply(user, now, actor=actor)
        audit.record("user_updated", user, before=before, after=_user_snapshot(user), actor=actor)
        if "password_hash" in now:
            audit.record("password_changed", user, actor=actor)
    if gated:
        return foureyes.request({key: changes[key] for key in gated}, user=user, actor=actor)
    return None


@atomic()
def change_password(user: User, new_password: str, *, actor: User) -> None:
    """The account's owner sets a new password: every session of the account ends."""
    passwords.check(new_password, user.username)
    user.password_hash = hash_password(new_password)
    sessions.end_sessions(user, "password_changed", actor=actor)
    audit.record("password_changed", user, actor=actor)


@atomic()
def reset_totp(user: User, *, actor: audit.Actor) -> AccountChange | None:
    """Forget an account's second factor (it enrols again at its next login); for an account
    that sees cases, reset by someone else, only once a leader confirms."""
    changes = {"reset_totp": True}
    if actor.id != user.id and foureyes.opens_case_content(user, changes):
        return foureyes.request(changes, user=user, actor=actor)
    foureyes.apply(user, changes, actor=actor)
    audit.record("totp_reset", user, actor=actor)
    return None


def verify_password(user: User, password: str) -> bool:
    return verify_hash(user.password_hash, password)


def _unit_snapshot(unit: Unit) -> dict:
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "parent": unit.parent.code if unit.parent else None,
        "escalated": unit.escalated,
    }


@atomic()
def create_unit(
    code: str,
    name: str,
    kind: UnitKind | str,
    parent: Unit | None,
    escalated: bool = False,
    *,
    actor: audit.Actor,
) -> Unit:
    """Add a unit to the tree."""
    if db.session.execute(select(Unit.id).where(Unit.code == code)).first():
        raise UnitError(_("单位编码 %(code)s 已存在。", code=code))
    unit = Unit(
        code=code, name=name.strip(), kind=UnitKind(kind), parent=parent, escalated=escalated
    )
    unit.path = ""
    db.session.add(unit)
    db.session.flush()
    tree.place_unit(unit, parent)
    audit.record("unit_created", unit, after=_unit_snapshot(unit), actor=actor)
    return unit


@atomic()
def update_unit(
    unit: Unit, *, name: str, parent: Unit | None, escalated: bool, actor: audit.Actor
) -> AccountChange | None:
    """Rename a unit now; moving or (un)escalating it moves case scope, so that waits for a
    leader of the commission that oversees it (returned as the pending change)."""
    before = _unit_snapshot(unit)
    unit.name = name.strip()
    moves = {"parent_id": parent.id if parent else None, "escalated": escalated}
    moves = {key: value for key, value in moves.items() if getattr(unit, key) != value}
    if moves:
        tree.check_parent(unit, parent)
    if unit.name != before["name"]:
        audit.record("unit_updated", unit, before=before, after=_unit_snapshot(unit), actor=actor)
    if moves:
        return foureyes.request(moves, unit=unit, actor=actor)
    return None
