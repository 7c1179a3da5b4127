"""Four eyes on accounts: a change by the system admin that opens case content (an account's
rights or a unit's place in the tree) waits until a leader of the affected unit confirms it."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..languages import in_chinese
from ..timeutil import utcnow
from ..transaction import atomic
from . import sessions, totp, tree
from .models import CASE_ROLES, ROLE_LABELS, AccountChange, Role, Unit, User
from .scope import NotPermitted

# What a change may hold, and how it is named to the people who confirm it.
CHANGE_LABELS = {
    "display_name": _l("姓名或称谓"),
    "role": _l("角色"),
    "unit_id": _l("所属单位"),
    "can_reveal_contact": _l("查看实名举报人联系方式"),
    "active": _l("启用"),
    "password_hash": _l("重置密码"),
    "reset_totp": _l("重置动态验证码"),
    "parent_id": _l("上级单位"),
    "escalated": _l("上级管辖"),
}


def opens_case_content(user: User, changes: dict) -> set[str]:
    """The keys of `changes` that need a leader's confirmation: those that give an account
    that will see cases a role, a right, a scope or a way in it did not have."""
    if changes.get("role", user.role) not in CASE_ROLES:
        return set()
    gated = {"unit_id", "password_hash", "reset_totp"} & changes.keys()
    if changes.get("role") in CASE_ROLES:
        gated.add("role")
    if changes.get("can_reveal_contact"):
        gated.add("can_reveal_contact")
    if changes.get("active"):
        gated.add("active")
    return gated


def leaders_of(jurisdiction_id: int, *, besides: User | None = None) -> list[User]:
    query = select(User).where(
        User.role == Role.LEADER,
        User.active.is_(True),
        User.unit_id.in_(select(Unit.id).where(Unit.jurisdiction_id == jurisdiction_id)),
    )
    if besides is not None and besides.id is not None:
        query = query.where(User.id != besides.id)
    return list(db.session.execute(query).scalars())


def confirming_jurisdiction(unit: Unit, user: User | None) -> int:
    """Whose leader confirms a change to an account of this unit: its jurisdiction's, or,
    when that has no other leader, the level above's."""
    jurisdiction = db.session.get(Unit, unit.jurisdiction_id)
    if leaders_of(jurisdiction.id, besides=user) or jurisdiction.parent_id is None:
        return jurisdiction.id
    return db.session.get(Unit, jurisdiction.parent_id).jurisdiction_id


def is_first_leader(role: Role | str, unit: Unit) -> bool:
    return role == Role.LEADER and not leaders_of(unit.jurisdiction_id)


def _describe(changes: dict) -> list[str]:
    """Plain words for the pending list (never a password hash)."""
    words = []
    for key, value in changes.items():
        if key == "role":
            value = str(ROLE_LABELS[Role(value)])
        elif key in ("unit_id", "parent_id"):
            value = db.session.get(Unit, value).name if value else "—"
        elif isinstance(value, bool) or key == "password_hash":
            value = "✓" if value else "✗"
        words.append(f"{CHANGE_LABELS[key]}：{value}")
    return words


def apply(user: User, changes: dict, *, actor: audit.Actor) -> None:
    """Make the changes (inside the caller's transaction); anything but a new display name
    ends the account's sessions."""
    for key, value in changes.items():
        if key == "unit_id":
            user.unit = db.session.get(Unit, value)
        elif key == "reset_totp":
            totp.clear(user)
        else:
            setattr(user, key, value)
    if not user.sees_cases:
        user.can_reveal_contact = False
    if changes.keys() - {"display_name"}:
        sessions.end_sessions(user, "account_changed", actor=actor)


@atomic()
def request(
    changes: dict, *, actor: audit.Actor, user: User | None = None, unit: Unit | None = None
) -> AccountChange:
    """Hold changes to an account (or a unit) for a leader's confirmation: a leader of the
    account's (new) unit, or of the commission that oversees the unit. A newer request
    replaces an older one for the same account or unit."""
    for older in _pending_about(user, unit):
        older.confirmed = False
        older.decided_at = utcnow()
        audit.record("account_change_withdrawn", older, actor=actor)
    if user is not None:
        affected = db.session.get(Unit, changes.get("unit_id", user.unit_id))
    else:
        affected = db.session.get(Unit, unit.oversight_id)
    with in_chinese():  # stored and audited: the record is Chinese, whatever the admin's page
        summary = _describe(changes)
    change = AccountChange(
        user=user,
        subject_unit=unit,
        unit_id=confirming_jurisdiction(affected, user),
        changes=changes,
        summary=summary,
        requested_by_id=actor.id,
    )
    db.session.add(change)
    db.session.flush()
    audit.record(
        "account_change_requested",
        change,
        after={"subject": change.subject, "summary": change.summary},
        actor=actor,
    )
    return change


def is_second_pair_of_eyes(leader: User, jurisdiction_id: int, *, besides: tuple) -> bool:
    """Whether this account may confirm a request for that jurisdiction: an active leader
    of it who is none of `besides` (the requester, the account concerned)."""
    return (
        leader.role == Role.LEADER
        and leader.active
        and leader.id not in besides
        and leader.unit.jurisdiction_id == jurisdiction_id
    )


def may_decide(change: AccountChange, leader: User) -> bool:
    return change.confirmed is None and is_second_pair_of_eyes(
        leader, change.unit_id, besides=(change.user_id, change.requested_by_id)
    )


@atomic()
def decide(change: AccountChange, leader: User, *, confirm: bool) -> None:
    """A leader of the affected unit confirms (the change takes effect) or refuses it."""
    if not may_decide(change, leader):
        raise NotPermitted()
    change.confirmed = confirm
    change.decided_by_id = leader.id
    change.decided_at = utcnow()
    if confirm and change.user is not None:
        apply(change.user, change.changes, actor=leader)
    elif confirm:
        unit = change.subject_unit
        parent_id = change.changes.get("parent_id", unit.parent_id)
        escalated = change.changes.get("escalated", unit.escalated)
        tree.move_unit(unit, db.session.get(Unit, parent_id) if parent_id else None, escalated)
    action = "account_change_confirmed" if confirm else "account_change_refused"
    audit.record(
        action,
        change,
        after={"subject": change.subject, "summary": change.summary},
        actor=leader,
    )


def _pending_about(user: User | None, unit: Unit | None) -> list[AccountChange]:
    subject = (
        AccountChange.user_id == user.id
        if user is not None
        else AccountChange.subject_unit_id == unit.id
    )
    return list(
        db.session.execute(
            select(AccountChange).where(subject, AccountChange.confirmed.is_(None))
        ).scalars()
    )


def pending_for(user: User) -> list[AccountChange]:
    return _pending_about(user, None)


def pending(leader: User | None = None) -> list[AccountChange]:
    """Every pending change (the system admin's view), or those a leader may decide."""
    rows = db.session.execute(
        select(AccountChange)
        .where(AccountChange.confirmed.is_(None))
        .order_by(AccountChange.requested_at)
    ).scalars()
    return [c for c in rows if leader is None or may_decide(c, leader)]
