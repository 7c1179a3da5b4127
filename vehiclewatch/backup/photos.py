"""Where backup and restore read and write report photos: today the local photo directory;
a photo store elsewhere replaces these few functions and nothing else."""

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import BinaryIO

from ..reports.photos import NAME_PATTERN, _fsync_dir, remove_photo_files, stored_names
from ..reports.photostore import photo_dir

CHUNK = 1024 * 1024


def location() -> str:
    """Where the photos are, for messages."""
    return str(photo_dir())


def stored_photos() -> set[str]:
    """Names of the photos already stored."""
    return stored_names(photo_dir())


@contextmanager
def open_photo(name: str) -> Iterator[tuple[int, BinaryIO]]:
    """(size, readable file) of a stored photo; FileNotFoundError if it is not there."""
    with open(photo_dir() / name, "rb") as handle:
        yield os.fstat(handle.fileno()).st_size, handle


def put_photos(items: Iterable[tuple[str, BinaryIO]]) -> list[str]:
    """Store photos under their own names, never over an existing file; every file and
    the directory are fsynced before this returns. On failure none of them is left."""
    folder = photo_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    written: list[str] = []
    try:
        for name, source in items:
            if not NAME_PATTERN.fullmatch(name):
                raise ValueError(f"not a photo name: {name!r}")
            fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            written.append(name)
            with os.fdopen(fd, "wb") as handle:
                while chunk := source.read(CHUNK):
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
        _fsync_dir(folder)
    except BaseException:
        remove_photos(written)
        raise
    return written


def remove_photos(names: Iterable[str]) -> None:
    remove_photo_files(photo_dir(), names)
