"""Where backup and restore read and write report photos: the configured photo store (a
local directory or an S3-compatible bucket)."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import BinaryIO

from ..reports.photostore import counting_errors, photo_store


def location() -> str:
    """Where the photos are, for messages."""
    return photo_store().location()


def stored_photos() -> set[str]:
    """Names of the photos already stored."""
    with counting_errors("list"):
        return set(photo_store().stored())


@contextmanager
def open_photo(name: str) -> Iterator[tuple[int, BinaryIO]]:
    """(size, readable stream) of a stored photo; FileNotFoundError if it is not there."""
    with counting_errors("read"), photo_store().open(name) as opened:
        yield opened


def put_photos(items: Iterable[tuple[str, BinaryIO]]) -> list[str]:
    """Store photos under their own names, never over an existing one, each durably before
    this returns. On failure none of them is left."""
    store = photo_store()
    written: list[str] = []
    try:
        for name, source in items:
            with counting_errors("save"):
                store.put(name, source)
            written.append(name)
    except BaseException:
        remove_photos(written)
        raise
    return written


def remove_photos(names: Iterable[str]) -> None:
    photo_store().remove(names)
