"""One transaction per write: services commit, unless an outer atomic() groups them."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from .extensions import db

_inside_atomic: ContextVar[bool] = ContextVar("inside_atomic", default=False)


@contextmanager
def atomic() -> Iterator[None]:
    """Run several service calls as one transaction: all of them land, or none."""
    token = _inside_atomic.set(True)
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        _inside_atomic.reset(token)


def commit() -> None:
    """End the caller's write, unless an outer atomic() block will commit it."""
    if not _inside_atomic.get():
        db.session.commit()
