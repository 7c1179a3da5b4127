"""The append-only, hash-chained audit log that every feature writes to, and its anchors."""

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, exists, select, update
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .timeutil import UTCDateTime, utcnow
from .transaction import atomic

GENESIS = "0" * 64
# From this entry on, every hash is an HMAC with VEHICLEWATCH_AUDIT_KEY; entries before it
# keep the unkeyed SHA-256 they were written with.
MARKER = "audit_chain_keyed"
# Written after a restore: the log was put back to an archive's entry count and head.
RESTORED = "restored"


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


def entry_hash(payload: dict[str, Any], key: bytes | None = None) -> str:
    """SHA-256 of the canonical payload; an HMAC-SHA-256 when given the audit key."""
    canonical = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    if key is None:
        return hashlib.sha256(canonical.encode()).hexdigest()
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def audit_key() -> bytes:
    return str(current_app.config["AUDIT_KEY"]).encode()


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


_HEAD = AuditHead.__table__
# Whether the log holds the marker, read in the same statement as the claim of the head.
_KEYED = exists().where(AuditEntry.__table__.c.action == MARKER).label("keyed")


def _claim_head(marker_hash: str | None = None):
    """Take the next sequence number, with the head's hash and whether the log is keyed.
    Updating the head row first serialises writers; after a marker (its hash given), the
    head records the marker's hash.

    On PostgreSQL a claim that waited for the head's lock reads the marker as of its start:
    only two first writers of a log that `init` never keyed can both write a marker, and
    the chain still verifies (the second marker is a keyed entry like any other)."""
    values: dict[str, Any] = {"seq": _HEAD.c.seq + 1}
    if marker_hash is not None:
        values["last_hash"] = marker_hash
    return db.session.execute(
        update(_HEAD)
        .where(_HEAD.c.id == 1)
        .values(**values)
        .returning(_HEAD.c.seq, _HEAD.c.last_hash, _KEYED)
    ).one()


def _set_head_hash(last_hash: str) -> None:
    db.session.execute(update(_HEAD).where(_HEAD.c.id == 1).values(last_hash=last_hash))


def _chain(head, action: str, actor_id: int | None, actor: str, **fields: Any) -> AuditEntry:
    """A keyed entry at the claimed sequence number, chained to the head's hash."""
    entry = AuditEntry(
        seq=head.seq,
        at=utcnow(),
        actor_id=actor_id,
        actor=actor,
        action=action,
        prev_hash=head.last_hash,
        **fields,
    )
    entry.hash = entry_hash(entry.payload(), audit_key())
    db.session.add(entry)
    return entry


def _marker(head) -> AuditEntry:
    return _chain(
        head, MARKER, SYSTEM.id, SYSTEM.username, after=_encode({"unkeyed_entries": head.seq - 1})
    )


@atomic()
def start_keyed_chain() -> bool:
    """Write the marker that switches the log to keyed hashes, unless it is there already."""
    if db.session.execute(select(_KEYED)).scalar_one():
        return False
    _set_head_hash(_marker(_claim_head()).hash)
    return True


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
    The actor is always named: a User, SYSTEM or PUBLIC. Three statements: claim the head,
    insert the entry (flushed with the caller's other rows), store the entry's hash."""
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else obj.id
    if actor is None:
        raise TypeError("audit.record needs an actor: a User, audit.SYSTEM or audit.PUBLIC")
    actor_id, actor_name = actor.id, actor.username
    head = _claim_head()
    # Read under the head's lock, so two first writers cannot both write the marker.
    if not head.keyed:
        head = _claim_head(_marker(head).hash)
    entry = _chain(
        head,
        action,
        actor_id,
        actor_name,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before=_encode(before),
        after=_encode(after),
    )
    _set_head_hash(entry.hash)
    return entry


@dataclass(frozen=True)
class Anchor:
    """The log's entry count and the hash of its last entry, kept somewhere the database's
    users cannot reach: a later log must still hold that entry with that hash."""

    count: int
    hash: str

    def __str__(self) -> str:
        return f"{self.count}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> "Anchor":
        match = re.fullmatch(r"(\d+):([0-9a-fA-F]{64})", text.strip())
        if not match or int(match[1]) < 1:
            raise ValueError(f"not an anchor (COUNT:HASH, COUNT from 1): {text.strip()!r}")
        return cls(int(match[1]), match[2].lower())


def current_anchor() -> Anchor | None:
    """The last entry's sequence number (the entry count) and hash; None for an empty log."""
    last = db.session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    return Anchor(last.seq, last.hash) if last else None


class RestoreMismatch(ValueError):
    """The restored log does not end at the entry count and head the archive names."""


@atomic()
def record_restored(entry_count: int, head_hash: str) -> AuditEntry:
    """After a restore, say in a keyed entry that the log was put back to the archive's
    entry count and head: `audit verify` then explains anchors taken after that point."""
    anchor = current_anchor()
    found = (anchor.count, anchor.hash) if anchor else (0, GENESIS)
    if found != (entry_count, head_hash):
        raise RestoreMismatch(
            f"the log ends at {found[0]}:{found[1]}, the archive at {entry_count}:{head_hash}"
        )
    return record(
        RESTORED, after={"entry_count": entry_count, "head_hash": head_hash}, actor=SYSTEM
    )
