"""The archive file: a tar of the manifest, the database and the photos, written as a stream
and, unless asked otherwise, encrypted to age recipients (pyrage) on the way to the disk."""

import hashlib
import io
import json
import os
import tarfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import pyrage

AGE_MAGIC = b"age-encryption.org/v1\n"
MANIFEST = "manifest.json"
PHOTO_PREFIX = "photos/"


class ArchiveError(Exception):
    """The archive cannot be written or read; the message says why, for the operator."""


def parse_recipients(text: str) -> list[pyrage.x25519.Recipient]:
    """Comma-separated age public keys (age1…)."""
    recipients = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            recipients.append(pyrage.x25519.Recipient.from_str(item))
        except pyrage.RecipientError:
            raise ArchiveError(
                f"VEHICLEWATCH_BACKUP_RECIPIENT: {item!r} is not an age public key (age1…)"
            ) from None
    return recipients


def read_identities(path: Path) -> list[pyrage.x25519.Identity]:
    """The private keys in an age identity file (as age-keygen writes it)."""
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ArchiveError(f"cannot read the key file {path}: {exc}") from None
    identities = []
    for line in lines:
        if line.strip().startswith("AGE-SECRET-KEY-"):
            try:
                identities.append(pyrage.x25519.Identity.from_str(line.strip()))
            except pyrage.IdentityError:
                raise ArchiveError(f"{path} holds a damaged age private key") from None
    if not identities:
        raise ArchiveError(f"{path} holds no age private key (a line AGE-SECRET-KEY-1…)")
    return identities


class _HashingReader:
    """Reads through to `source`, hashing what passes."""

    def __init__(self, source: BinaryIO):
        self.source = source
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.sha256.update(data)
        return data


class ArchiveWriter:
    """Adds members to a streamed tar and returns each one's SHA-256."""

    def __init__(self, tar: tarfile.TarFile):
        self._tar = tar
        self._now = int(time.time())

    def add(self, name: str, size: int, source: BinaryIO) -> str:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, self._now, 0o600
        reader = _HashingReader(source)
        self._tar.addfile(info, reader)
        return reader.sha256.hexdigest()

    def add_path(self, name: str, path: Path) -> str:
        with open(path, "rb") as handle:
            return self.add(name, os.fstat(handle.fileno()).st_size, handle)

    def add_json(self, name: str, value: dict) -> None:
        data = json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True).encode()
        self.add(name, len(data), io.BytesIO(data))


@contextmanager
def write_archive(out: BinaryIO, recipients: list) -> Iterator[ArchiveWriter]:
    """A tar streamed into `out`: encrypted to `recipients` when there are any (no
    plain copy of the archive touches the disk), else as it is."""
    if not recipients:
        with tarfile.open(fileobj=out, mode="w|") as tar:
            yield ArchiveWriter(tar)
        return
    read_fd, write_fd = os.pipe()
    failures: list[BaseException] = []

    def encrypt() -> None:
        with os.fdopen(read_fd, "rb") as plain:
            try:
                pyrage.encrypt_io(plain, out, recipients)
            except BaseException as exc:  # reported by the writing thread below
                failures.append(exc)

    worker = threading.Thread(target=encrypt, name="backup-encrypt")
    worker.start()
    try:
        with os.fdopen(write_fd, "wb") as pipe, tarfile.open(fileobj=pipe, mode="w|") as tar:
            yield ArchiveWriter(tar)
    except BrokenPipeError:
        failures.append(BrokenPipeError("the encryption stopped reading"))
    finally:
        worker.join()
    if failures:
        raise ArchiveError(f"encryption failed: {failures[0]}")


def is_encrypted(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(AGE_MAGIC)) == AGE_MAGIC


def decrypt(path: Path, key_file: Path | None, target: Path) -> None:
    """Decrypt an age archive into `target` with the private key in `key_file`."""
    if key_file is None:
        raise ArchiveError(
            f"{path} is encrypted: give the private key file with --key (it is read for "
            "this run only)"
        )
    identities = read_identities(key_file)
    try:
        with open(path, "rb") as source, open(target, "wb") as plain:
            pyrage.decrypt_io(source, plain, identities)
    except pyrage.DecryptError:
        raise ArchiveError(
            f"the key in {key_file} does not open {path}: it was encrypted to another key"
        ) from None
    except OSError as exc:
        raise ArchiveError(f"{path} is damaged: decryption failed ({exc})") from None


class ArchiveReader:
    """Random access to the members of a plain (decrypted) archive."""

    def __init__(self, path: Path, tar: tarfile.TarFile):
        self.path = path
        self._tar = tar
        self._members = {m.name: m for m in tar.getmembers() if m.isfile()}

    def names(self) -> set[str]:
        return set(self._members)

    def open(self, name: str) -> BinaryIO:
        if name not in self._members:
            raise ArchiveError(f"{self.path} is damaged: {name} is missing")
        return self._tar.extractfile(self._members[name])

    def manifest(self) -> dict:
        try:
            manifest = json.load(self.open(MANIFEST))
        except (ValueError, tarfile.TarError, OSError, EOFError):
            manifest = None
        if not isinstance(manifest, dict) or manifest.get("format") != "vehiclewatch-backup":
            raise ArchiveError(f"{self.path} is not a vehiclewatch backup or is damaged")
        return manifest

    def sha256(self, name: str) -> str:
        digest = hashlib.sha256()
        source = self.open(name)
        try:
            while chunk := source.read(1024 * 1024):
                digest.update(chunk)
        except (tarfile.TarError, OSError, EOFError):
            raise ArchiveError(f"{self.path} is damaged: {name} cannot be read") from None
        return digest.hexdigest()

    def extract(self, name: str, target: Path) -> None:
        source = self.open(name)
        with open(target, "wb") as out:
            while chunk := source.read(1024 * 1024):
                out.write(chunk)


@contextmanager
def open_archive(path: Path) -> Iterator[ArchiveReader]:
    """Read a plain archive; a file that is no tar, or a cut one, is refused."""
    damaged = f"{path} is not a vehiclewatch backup or is damaged"
    try:
        tar = tarfile.open(path, mode="r:")  # noqa: SIM115 (closed by the with below)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ArchiveError(f"{damaged} ({exc})") from None
    with tar:
        try:
            reader = ArchiveReader(path, tar)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ArchiveError(f"{damaged} ({exc})") from None
        yield reader
