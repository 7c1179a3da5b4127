"""Writes for accounts and units: the only place that changes them."""

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from .. import audit
from ..extensions import db
from ..timeutil import utcnow
from ..transaction import atomic
from .models import LoginFailure, Role, Unit, UnitKind, User, new_session_token


class UsernameTaken(ValueError):
    """Another account already has this username."""


class LoginThrottled(Exception):
    """Too many failed logins for this account in the last minute."""


class InvalidCredentials(Exception):
    """Unknown account, wrong password, or a disabled account."""


class UnitError(ValueError):
    """A unit cannot be created or changed as asked."""


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg.get("ARGON2_TIME_COST", 3),
        memory_cost=cfg.get("ARGON2_MEMORY_COST", 65536),
        parallelism=cfg.get("ARGON2_PARALLELISM", 4),
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _password_matches(stored_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH: dict[str, str] = {}


def _equalise_timing(password: str) -> None:
    """Spend the same work on an unknown account as on a known one."""
    key = "dummy"
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = hash_password("not-a-password")
    _password_matches(_DUMMY_HASH[key], password)


def _recent_failures(username: str) -> int:
    window = timedelta(seconds=current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"])
    return db.session.execute(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.username == username, LoginFailure.at > utcnow() - window)
    ).scalar_one()


def authenticate(username: str, password: str) -> User:
    """Check a login; record and audit failures; raise if throttled or wrong."""
    username = username.strip()
    with atomic():
        user = _check_login(username, password)
    if isinstance(user, Exception):
        raise user  # raised after the commit, so the failure stays on the record
    return user


def _check_login(username: str, password: str) -> User | Exception:
    if _recent_failures(username) >= current_app.config["LOGIN_FAILURE_LIMIT"]:
        audit.record(
            "login_throttled", object_type="user_account", object_id=username, actor=audit.PUBLIC
        )
        return LoginThrottled(username)
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        _equalise_timing(password)
    ok = user is not None and user.active and _password_matches(user.password_hash, password)
    if not ok:
        db.session.add(LoginFailure(username=username))
        audit.record(
            "login_failed", object_type="user_account", object_id=username, actor=audit.PUBLIC
        )
        return InvalidCredentials(username)
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    db.session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    audit.record("login", user, actor=user)
    return user


@atomic()
def record_logout(user: User) -> None:
    """Audit a logout."""
    audit.record("logout", user, actor=user)


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
    """Create a staff account."""
    if db.session.execute(select(User.id).where(User.username == username.strip())).first():
        raise UsernameTaken(username)
    role = Role(role)
    user = User(
        username=username.strip(),
        display_name=display_name.strip(),
        role=role,
        unit=unit,
        password_hash=hash_password(password),
        can_reveal_contact=can_reveal_contact and role in (Role.OFFICER, Role.LEADER),
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user_created", user, after=_user_snapshot(user), actor=actor)
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
) -> User:
    """Change an account's role, unit, rights, status or password; ends its sessions if
    anything changed."""
    before = _user_snapshot(user)
    user.display_name = display_name.strip()
    user.role = Role(role)
    user.unit = unit
    user.can_reveal_contact = can_reveal_contact and user.role in (Role.OFFICER, Role.LEADER)
    user.active = active
    after = _user_snapshot(user)
    if after != before:
        user.session_token = new_session_token()
        audit.record("user_updated", user, before=before, after=after, actor=actor)
    if new_password:
        change_password(user, new_password, actor=actor)
    return user


@atomic()
def change_password(user: User, new_password: str, *, actor: audit.Actor) -> None:
    """Set a new password and end every session of the account."""
    user.password_hash = hash_password(new_password)
    user.session_token = new_session_token()
    audit.record("password_changed", user, actor=actor)


def verify_password(user: User, password: str) -> bool:
    return _password_matches(user.password_hash, password)


def _place_unit(unit: Unit, parent: Unit | None) -> None:
    """Derive path, jurisdiction and oversight from the parent (unit must have an id)."""
    if parent is None:
        if unit.kind != UnitKind.CITY:
            raise UnitError(_("只有市本级可以作为单位树的根。"))
        unit.path = f"/{unit.code}/"
    else:
        if unit.kind == UnitKind.CITY:
            raise UnitError(_("市本级是单位树的根，不能有上级单位。"))
        if unit.kind == UnitKind.COUNTY and parent.kind != UnitKind.CITY:
            raise UnitError(_("县（区）只能直接隶属于市本级。"))
        if parent.path.startswith(unit.path or "\0"):
            raise UnitError(_("单位不能移到它自己的下级单位之下。"))
        unit.path = f"{parent.path}{unit.code}/"
    if unit.kind in (UnitKind.CITY, UnitKind.COUNTY):
        jurisdiction = unit
    else:
        jurisdiction = db.session.get(Unit, parent.jurisdiction_id)
    unit.jurisdiction_id = jurisdiction.id
    unit.oversight_id = jurisdiction.id
    if unit.escalated and jurisdiction.parent_id is not None:
        unit.oversight_id = db.session.get(Unit, jurisdiction.parent_id).jurisdiction_id


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
    _place_unit(unit, parent)
    audit.record("unit_created", unit, after=_unit_snapshot(unit), actor=actor)
    return unit


@atomic()
def update_unit(
    unit: Unit, *, name: str, parent: Unit | None, escalated: bool, actor: audit.Actor
) -> Unit:
    """Rename, move or (un)escalate a unit; its subtree follows."""
    before = _unit_snapshot(unit)
    old_path = unit.path
    unit.name = name.strip()
    unit.escalated = escalated
    unit.parent = parent
    _place_unit(unit, parent)
    descendants = db.session.execute(
        select(Unit)
        .where(Unit.path.startswith(old_path, autoescape=True), Unit.id != unit.id)
        .order_by(func.length(Unit.path))
    ).scalars()
    for child in descendants:
        _place_unit(child, child.parent)
    audit.record("unit_updated", unit, before=before, after=_unit_snapshot(unit), actor=actor)
    return unit
