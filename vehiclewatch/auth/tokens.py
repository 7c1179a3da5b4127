"""Integration API tokens: issued for one unit's subtree with named scopes, shown once, kept
only as a keyed hash, revocable at once. A token that reads case content works only once a
leader of the unit's jurisdiction has confirmed it (four eyes, as for accounts)."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint, select, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import audit
from ..extensions import db
from ..timeutil import UTCDateTime, utcnow
from ..transaction import atomic, lock_rows
from . import foureyes
from .models import Role, Unit, User
from .scope import NotPermitted

TOKEN_PREFIX = "vwt_"
# What each scope lets a token do. Published bulletins need no scope (any working token).
SCOPES = {
    "fleet:write": _l("车辆、派车单、封存登记（本单位及下级）"),
    "stickers:read": _l("监督码状态与图片"),
    "stickers:write": _l("补发监督码（原码作废）"),
    "reports:read": _l("读取举报（案件内容）"),
}
# Scopes that read case content: a token with one of them is refused until a leader of its
# unit's jurisdiction, not the one who asked for it, confirms it.
CASE_SCOPES = frozenset({"reports:read"})


class ApiToken(db.Model):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    scopes: Mapped[list] = mapped_column(JSON)
    # HMAC-SHA-256 of the token with a key derived from VEHICLEWATCH_SECRET_KEY.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When it started to work: when issued, or for a case-reading token when a leader
    # confirmed it. Whoever asked for it (created_by_id; null for the command line) never can.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    unit: Mapped[Unit] = relationship(lazy="joined")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])

    @property
    def state(self) -> str:
        """revoked, pending (a leader's confirmation) or confirmed (in use)."""
        if self.revoked_at is not None:
            return "revoked"
        return "pending" if self.confirmed_at is None else "confirmed"

    def snapshot(self) -> dict:
        return {"name": self.name, "unit": self.unit.code, "scopes": sorted(self.scopes)}


class IdempotentAnswer(db.Model):
    """The first successful answer to a POST sent with an Idempotency-Key, per token."""

    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("token_id", "key", name="uq_api_idempotency_token_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id"))
    key: Mapped[str] = mapped_column(String(80))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True)
class TokenActor:
    """Who an API call acts as: a fleet admin of the token's unit without an account. The
    audit log names it `api:NAME`; scope checks see its unit like a fleet admin's."""

    token_id: int
    username: str
    unit: Unit
    scopes: frozenset[str]
    id: None = None
    role: str = Role.FLEET_ADMIN


class DuplicateTokenName(ValueError):
    """Another token already has this name."""


class UnknownScope(ValueError):
    """A scope that does not exist, or that the caller may not grant."""


def token_digest(token: str) -> str:
    key = hmac.new(
        str(current_app.config["SECRET_KEY"]).encode(), b"vehiclewatch api token", hashlib.sha256
    ).digest()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


@atomic()
def create_token(
    name: str, unit: Unit, scopes: list[str], *, actor: audit.Actor
) -> tuple[ApiToken, str]:
    """Issue a token; returns it with the clear token, which is never stored or shown again.
    One with a case-reading scope is pending: refused until a leader confirms it."""
    name = name.strip()
    if not scopes or not set(scopes) <= set(SCOPES):
        raise UnknownScope(", ".join(sorted(set(scopes) - set(SCOPES))))
    if not name or db.session.execute(select(ApiToken.id).where(ApiToken.name == name)).first():
        raise DuplicateTokenName(name)
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        unit=unit,
        scopes=sorted(set(scopes)),
        token_hash=token_digest(clear),
        created_by_id=actor.id,
        confirmed_at=None if CASE_SCOPES & set(scopes) else utcnow(),
    )
    db.session.add(token)
    db.session.flush()
    action = "api_token_requested" if token.state == "pending" else "api_token_created"
    audit.record(action, token, after=token.snapshot(), actor=actor)
    return token, clear


def may_confirm(token: ApiToken, leader: User) -> bool:
    """Whether this leader may confirm or refuse this pending token: a leader of the unit's
    jurisdiction (or the level above's, when it has none), never the one who asked."""
    if token.state != "pending":
        return False
    jurisdiction_id = foureyes.confirming_jurisdiction(token.unit, token.created_by)
    return foureyes.is_second_pair_of_eyes(leader, jurisdiction_id, besides=(token.created_by_id,))


@atomic()
def confirm_token(token: ApiToken, leader: User, *, confirm: bool) -> None:
    """A leader confirms a pending token (it works from now on) or refuses it (revoked)."""
    lock_rows(select(ApiToken.id).where(ApiToken.id == token.id))
    db.session.refresh(token)
    if not may_confirm(token, leader):
        raise NotPermitted()
    if confirm:
        token.confirmed_at = utcnow()
        token.confirmed_by_id = leader.id
    else:
        token.revoked_at = utcnow()
    action = "api_token_confirmed" if confirm else "api_token_refused"
    audit.record(action, token, after=token.snapshot(), actor=leader)


@atomic()
def revoke_token(token: ApiToken, *, actor: audit.Actor) -> None:
    """Revoke a token: the next call with it is refused."""
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    audit.record("api_token_revoked", token, before=token.snapshot(), actor=actor)


def authenticate(clear: str) -> TokenActor | None:
    """The actor for a presented token, or None for an unknown, revoked or pending one."""
    token = db.session.execute(
        select(ApiToken).where(
            ApiToken.token_hash == token_digest(clear),
            ApiToken.revoked_at.is_(None),
            ApiToken.confirmed_at.is_not(None),
        )
    ).scalar_one_or_none()
    if token is None:
        return None
    return TokenActor(token.id, f"api:{token.name}", token.unit, frozenset(token.scopes))


@atomic()
def record_call(actor: TokenActor, method: str, route: str, status: int) -> None:
    """Audit one API call (token, route, result; never its payload) and mark the token used."""
    db.session.execute(
        update(ApiToken).where(ApiToken.id == actor.token_id).values(last_used_at=utcnow())
    )
    audit.record(
        "api_call",
        object_type="api_token",
        object_id=actor.token_id,
        after={"method": method, "route": route, "status": status},
        actor=actor,
    )


def tokens() -> list[ApiToken]:
    return list(db.session.execute(select(ApiToken).order_by(ApiToken.id)).scalars())


def pending_for(leader: User) -> list[ApiToken]:
    """The pending tokens this leader may confirm or refuse."""
    rows = db.session.execute(
        select(ApiToken)
        .where(ApiToken.confirmed_at.is_(None), ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at)
    ).scalars()
    return [token for token in rows if may_confirm(token, leader)]
