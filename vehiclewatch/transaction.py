"""One transaction per write, owned by the domain: `atomic()` begins and commits it, and a
nested `atomic()` is a SAVEPOINT that rolls back alone."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import Select

from .extensions import db

# How many atomic() blocks enclose the running code (0: none, so a write must open one).
_depth: ContextVar[int] = ContextVar("atomic_depth", default=0)


def writing() -> bool:
    """Whether the running code is inside an atomic() block (SQLite then begins with
    BEGIN IMMEDIATE, so concurrent writers queue for the lock instead of failing)."""
    return _depth.get() > 0


def lock_rows(statement: Select) -> None:
    """Hold the rows the SELECT finds until the transaction ends, so that writers to them
    take turns. SQLite's write transaction (BEGIN IMMEDIATE) already excludes every other
    writer: there, nothing is sent."""
    if db.engine.dialect.name != "sqlite":
        db.session.execute(statement.with_for_update())


@contextmanager
def atomic() -> Iterator[None]:
    """Run the block as one transaction: all of it lands, or none. Inside another atomic()
    block it is a SAVEPOINT: a failure undoes the inner block only, and the outer one
    decides what commits. Also usable as a decorator (`@atomic()`)."""
    depth = _depth.get()
    token = _depth.set(depth + 1)
    try:
        if depth:
            with db.session.begin_nested():
                yield
            return
        _end_read_transaction()
        try:
            yield
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
    finally:
        _depth.reset(token)


def _end_read_transaction() -> None:
    """A page reads before it writes. End that read transaction so the write begins afresh
    (on SQLite with BEGIN IMMEDIATE). Objects read so far are kept as they are: a row that
    changed meanwhile is caught by its version column when the write flushes. Changes made
    before the block would land outside any domain transaction: refuse them."""
    session = db.session()
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("changes were made outside a transaction: write inside atomic()")
    if session.in_transaction():
        keep, session.expire_on_commit = session.expire_on_commit, False
        try:
            session.commit()
        finally:
            session.expire_on_commit = keep
