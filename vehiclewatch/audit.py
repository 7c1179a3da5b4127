"""The append-only, hash-chained audit log that every feature writes to."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import click
from flask.cli import AppGroup
from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .timeutil import UTCDateTime, utcnow

GENESIS = "0" * 64


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def payload(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor_id": self.actor_id,
            "actor": self.actor,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "before": self.before,
            "after": self.after,
            "prev_hash": self.prev_hash,
        }


class AuditHead(db.Model):
    """One row: the last sequence number and hash.

    Updating it first serialises writers on both engines (SQLite's write lock,
    PostgreSQL's row lock), so two transactions never chain to the same entry.
    It also lets `audit verify` notice entries cut off the end of the log.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


def _encode(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def entry_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Anonymous:
    """An actor without an account: the public (a citizen) or the system itself."""

    username: str
    id: None = None


SYSTEM = Anonymous("system")  # commands, schedules, imports run by an operator
PUBLIC = Anonymous("public")  # a citizen on the public pages


class Actor(Protocol):
    """Who did it: a staff account (a User), SYSTEM or PUBLIC."""

    @property
    def id(self) -> int | None: ...

    @property
    def username(self) -> str: ...


def record(
    action: str,
    obj: Any = None,
    *,
    object_type: str | None = None,
    object_id: Any = None,
    before: Any = None,
    after: Any = None,
    actor: Actor,
) -> AuditEntry:
    """Append an entry in the caller's transaction (it commits with the change it describes).
    The actor is always named: a User, SYSTEM or PUBLIC."""
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else obj.id
    if actor is None:
        raise TypeError("audit.record needs an actor: a User, audit.SYSTEM or audit.PUBLIC")
    actor_id, actor_name = actor.id, actor.username
    head = db.session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(seq=AuditHead.seq + 1)
        .returning(AuditHead.seq, AuditHead.last_hash)
    ).one()
    entry = AuditEntry(
        seq=head.seq,
        at=utcnow(),
        actor_id=actor_id,
        actor=actor_name,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before=_encode(before),
        after=_encode(after),
        prev_hash=head.last_hash,
    )
    entry.hash = entry_hash(entry.payload())
    db.session.add(entry)
    db.session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=entry.hash))
    return entry


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    reason: str


def verify_chain() -> tuple[int, ChainProblem | None]:
    """Walk the log in order; return how many entries were checked and the first problem."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    rows = db.session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
    for entry in rows.yield_per(2000):
        if entry.seq != expected_seq:
            return count, ChainProblem(expected_seq, "entry missing (sequence gap)")
        if entry.prev_hash != prev:
            return count, ChainProblem(entry.seq, "does not chain to the previous entry")
        if entry_hash(entry.payload()) != entry.hash:
            return count, ChainProblem(entry.seq, "content changed after it was written")
        prev = entry.hash
        expected_seq += 1
        count += 1
    head = db.session.get(AuditHead, 1)
    if head is not None and (head.seq != count or head.last_hash != prev):
        return count, ChainProblem(count + 1, "entries removed from the end of the log")
    return count, None


audit_cli = AppGroup("audit", help="Inspect the audit log.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Check that no audit entry was changed or removed."""
    count, problem = verify_chain()
    if problem:
        click.echo(f"audit log BROKEN at entry {problem.seq}: {problem.reason}", err=True)
        raise SystemExit(1)
    click.echo(f"audit log intact: {count} entries")
