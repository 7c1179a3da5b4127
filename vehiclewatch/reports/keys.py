"""Key rotation and checks: contact-key rotation over every encrypted column, the startup
check that the configured keys still open what is stored, and which receipt keys are in use."""

from dataclasses import dataclass

import sqlalchemy as sa

from .. import audit
from ..extensions import db
from ..transaction import atomic
from . import protection
from .models import Report

# Every column encrypted with VEHICLEWATCH_CONTACT_KEYS, as (table, column). A new encrypted
# column (e.g. TOTP secrets) is one more entry here: rotation and the startup check follow.
CONTACT_KEY_TARGETS = (
    ("report", "reporter_name_enc"),
    ("report", "reporter_phone_enc"),
    ("spot_check_draw", "seed_enc"),
    ("user_account", "totp_secret_enc"),
)
ROTATE_BATCH = 200
# The startup check decrypts this many of the newest and of the oldest values per column.
CHECK_SAMPLE = 20


class ContactKeysMissing(RuntimeError):
    """VEHICLEWATCH_CONTACT_KEYS cannot decrypt some stored value."""


def _column(table: str, column: str) -> tuple[sa.Table, sa.Column, sa.Column]:
    t = db.metadata.tables[table]
    return t, t.c[column], next(iter(t.primary_key.columns))


def _rotate_batch(table: str, column: str, after: int, actor: audit.Actor) -> tuple[int, int]:
    """Rotate one batch past primary key `after`; returns (last key seen, values rotated).
    Values already under the newest key are left alone, so a re-run resumes."""
    t, col, pk = _column(table, column)
    with atomic():
        rows = db.session.execute(
            sa.select(pk, col)
            .where(pk > after, col.is_not(None))
            .order_by(pk)
            .limit(ROTATE_BATCH)
            .with_for_update()
        ).all()
        stale = [
            (key, token) for key, token in rows if not protection.under_newest_contact_key(token)
        ]
        for key, token in stale:
            db.session.execute(
                sa.update(t).where(pk == key).values({column: protection.rotate_contact(token)})
            )
        if stale:
            audit.record(
                "contact_key_rotated",
                object_type=table,
                after={"column": column, "rows": [key for key, _ in stale]},
                actor=actor,
            )
    return (rows[-1][0] if rows else None), len(stale)


def rotate_contacts(*, actor: audit.Actor, progress=None) -> dict[str, int]:
    """Re-encrypt every value in CONTACT_KEY_TARGETS under the newest contact key, one
    committed batch at a time; returns how many values each target had re-encrypted."""
    done = {}
    for table, column in CONTACT_KEY_TARGETS:
        after, total = 0, 0
        while after is not None:
            after, rotated = _rotate_batch(table, column, after, actor)
            total += rotated
            if progress and rotated:
                progress(table, column, total)
        done[f"{table}.{column}"] = total
    return done


def check_contact_keys() -> None:
    """Raise ContactKeysMissing, naming the column, when the configured contact keys cannot
    decrypt a sample of the stored values (the newest and the oldest of each column)."""
    for table, column in CONTACT_KEY_TARGETS:
        _, col, pk = _column(table, column)
        if not sa.inspect(db.engine).has_table(table):  # no schema yet: nothing to check
            return
        sample = set()
        for order in (pk.desc(), pk.asc()):
            sample.update(
                db.session.scalars(
                    sa.select(col).where(col.is_not(None)).order_by(order).limit(CHECK_SAMPLE)
                )
            )
        for token in sample:
            try:
                protection.decrypt_contact(token)
            except protection.UndecryptableContact:
                raise ContactKeysMissing(
                    f"VEHICLEWATCH_CONTACT_KEYS cannot decrypt values stored in {table}.{column}: "
                    "a key they were encrypted with has been removed; put it back (after the "
                    "newest) and run `vehiclewatch keys rotate-contacts` before removing it"
                ) from None


@dataclass
class ReceiptKeyUse:
    key_id: str
    position: int | None  # 1 = newest; None: no longer configured
    reports: int


def receipt_status() -> list[ReceiptKeyUse]:
    """How many reports each receipt key hashed, configured keys first (newest first)."""
    counts = dict(
        db.session.execute(
            sa.select(Report.receipt_key, sa.func.count()).group_by(Report.receipt_key)
        ).all()
    )
    configured = [protection.receipt_key_id(k) for k in protection.receipt_keys()]
    rows = [ReceiptKeyUse(kid, n, counts.pop(kid, 0)) for n, kid in enumerate(configured, 1)]
    return rows + [ReceiptKeyUse(kid, None, n) for kid, n in sorted(counts.items())]
