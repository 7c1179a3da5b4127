"""Backup (a consistent archive of the running instance) and restore (into an empty one,
checked end to end): the manifest, the key check values, and the order of the steps."""

import hashlib
import hmac
import os
import tempfile
from datetime import datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from flask_migrate import upgrade

from .. import audit
from ..extensions import db
from ..reports.photos import fsync_dir
from ..timeutil import utcnow
from ..transaction import atomic
from . import archive, database, photos
from .archive import MANIFEST, PHOTO_PREFIX, ArchiveError
from .database import DatabaseError

FORMAT_VERSION = 1
# The fixed text each configured key is proved against: its HMAC (receipt and audit keys)
# or a Fernet token of it (contact keys) travels in the manifest, never the key.
KEY_CHECK_LABEL = b"vehiclewatch backup key check v1"
KEYGEN_HINT = (
    "make a key pair on a machine the commission keeps (Debian: apt-get install age; "
    "age-keygen -o vehiclewatch-backup.key), keep the private key file off this server, and "
    "set VEHICLEWATCH_BACKUP_RECIPIENT to the public key it prints (age1…)"
)


class BackupError(Exception):
    """Backup or restore refused or failed; the message says why, for the operator."""


# Key check values ---------------------------------------------------------------------


KEY_SETTINGS = {  # check value → the setting it proves, and what a wrong key would cost
    "receipt": ("RECEIPT_KEY", "no receipt issued before the backup could be looked up"),
    "contact": ("CONTACT_KEYS", "reporters' contacts encrypted with it could not be read"),
    "audit": ("AUDIT_KEY", "the audit log could not be verified"),
}


def _keys(setting: str) -> list[str]:
    """A key setting as a list, newest first (one key, or several separated by commas)."""
    return [k.strip() for k in str(current_app.config.get(setting) or "").split(",") if k.strip()]


def _hmac_check(key: str) -> str:
    return hmac.new(key.encode(), KEY_CHECK_LABEL, hashlib.sha256).hexdigest()


def _fits(kind: str, check: str, key: str) -> bool:
    if kind != "contact":
        return hmac.compare_digest(check, _hmac_check(key))
    try:
        return Fernet(key).decrypt(check.encode()) == KEY_CHECK_LABEL
    except InvalidToken:
        return False


def key_checks() -> dict[str, list[str]]:
    """Check values for every key the data depends on (the keys themselves never leave)."""
    checks = {
        "receipt": [_hmac_check(key) for key in _keys("RECEIPT_KEY")],
        "contact": [Fernet(key).encrypt(KEY_CHECK_LABEL).decode() for key in _keys("CONTACT_KEYS")],
    }
    if _keys("AUDIT_KEY"):
        checks["audit"] = [_hmac_check(key) for key in _keys("AUDIT_KEY")]
    return checks


def check_keys(checks: dict[str, list[str]]) -> None:
    """Refuse, naming the setting, when a key the backup's data was made with is not
    configured here: its receipts, contacts or audit chain would be unreadable."""
    for kind, (setting, cost) in KEY_SETTINGS.items():
        needed, configured = checks.get(kind, []), _keys(setting)
        if needed and not configured:
            raise BackupError(f"VEHICLEWATCH_{setting} is not set: {cost}; set the old instance's")
        for number, check in enumerate(needed, start=1):
            if not any(_fits(kind, check, key) for key in configured):
                which = (
                    "the key"
                    if len(needed) == 1
                    else f"key {number} of the {len(needed)} (newest first)"
                )
                raise BackupError(
                    f"VEHICLEWATCH_{setting} does not hold {which} the backup was made with: "
                    f"{cost}; set the old instance's"
                )


# Backup -------------------------------------------------------------------------------


def _recipients(encrypted: bool) -> list:
    if not encrypted:
        return []
    configured = str(current_app.config.get("BACKUP_RECIPIENT") or "")
    try:
        recipients = archive.parse_recipients(configured)
    except ArchiveError as exc:
        raise BackupError(str(exc)) from None
    if not recipients:
        raise BackupError(
            "no VEHICLEWATCH_BACKUP_RECIPIENT is set, so the archive could not be encrypted. "
            f"To encrypt, {KEYGEN_HINT}. To write it unencrypted (small installs, tests), "
            "give --unencrypted."
        )
    return recipients


def backup(path: Path, *, encrypted: bool = True) -> dict:
    """Write one archive of the database, its photos and a manifest to `path` while the
    service runs; encrypted to VEHICLEWATCH_BACKUP_RECIPIENT unless told otherwise.
    Returns the manifest."""
    recipients = _recipients(encrypted)
    path = Path(path).absolute()
    if path.exists():
        raise BackupError(f"{path} already exists: give a new file name")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent} is not a directory")
    partial = path.with_name(path.name + ".partial")
    taken_at = utcnow()
    try:
        with tempfile.TemporaryDirectory(prefix=".vehiclewatch-backup-", dir=path.parent) as tmp:
            snap = database.snapshot(Path(tmp))
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                with archive.write_archive(out, recipients) as tar:
                    database_sha256 = tar.add_path(snap.member, snap.path)
                    photo_sha256 = {name: _add_photo(tar, name) for name in snap.facts.photos}
                    manifest = _manifest(
                        snap, taken_at, bool(recipients), database_sha256, photo_sha256
                    )
                    tar.add_json(MANIFEST, manifest)
                out.flush()
                os.fsync(out.fileno())
        os.rename(partial, path)
        fsync_dir(path.parent)
    except BaseException as exc:
        partial.unlink(missing_ok=True)
        if isinstance(exc, ArchiveError | DatabaseError):
            raise BackupError(str(exc)) from None
        raise
    with atomic():
        audit.record(
            "backup_created",
            object_type="backup",
            object_id=path.name,
            after={
                "encrypted": manifest["encrypted"],
                "audit_entries": manifest["audit_head"]["seq"],
                "reports": manifest["tables"].get("report", 0),
                "photos": len(manifest["photos"]),
            },
            actor=audit.SYSTEM,
        )
    return manifest


def _add_photo(tar: archive.ArchiveWriter, name: str) -> str:
    try:
        with photos.open_photo(name) as (size, handle):
            return tar.add(PHOTO_PREFIX + name, size, handle)
    except FileNotFoundError:
        raise BackupError(
            f"photo {name}, which a report names, is missing from {photos.location()}"
        ) from None


def _manifest(
    snap: database.Snapshot,
    taken_at: datetime,
    encrypted: bool,
    database_sha256: str,
    photo_sha256: dict[str, str],
) -> dict:
    return {
        "format": "vehiclewatch-backup",
        "format_version": FORMAT_VERSION,
        "created_at": taken_at.isoformat(),
        "encrypted": encrypted,
        "engine": snap.engine,
        "pg_dump_version": snap.dump_version,
        "schema_revision": snap.facts.revision,
        "tables": snap.facts.tables,
        "audit_head": {"seq": snap.facts.audit_seq, "hash": snap.facts.audit_hash},
        "database": {"name": snap.member, "sha256": database_sha256},
        "photos": photo_sha256,
        "key_checks": key_checks(),
    }


# Restore ------------------------------------------------------------------------------


def _require_empty() -> None:
    rows = database.stored_rows()
    if rows:
        listed = ", ".join(f"{name} {count}" for name, count in sorted(rows.items())[:5])
        raise BackupError(
            f"restore goes only into an empty instance; this one holds data ({listed}…): "
            "set DATABASE_URL to a new, empty database"
        )
    stored = photos.stored_photos()
    if stored:
        raise BackupError(
            f"restore goes only into an empty instance; {photos.location()} already holds "
            f"{len(stored)} photos: set VEHICLEWATCH_PHOTO_DIR to an empty directory"
        )


def _script() -> ScriptDirectory:
    migrate = current_app.extensions["migrate"]
    return ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))


def _check_manifest(manifest: dict, reader: archive.ArchiveReader) -> None:
    """The manifest is one this code can restore and the archive holds exactly what it
    lists, byte for byte."""
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"the archive's format {manifest.get('format_version')} is not the {FORMAT_VERSION} "
            "this version of vehiclewatch reads"
        )
    revision = manifest["schema_revision"]
    try:
        _script().get_revision(revision)
    except CommandError:
        head = _script().get_current_head()
        raise BackupError(
            f"the backup's schema revision {revision} is newer than this code's ({head}): "
            "restore with the version of vehiclewatch that made it, or a later one"
        ) from None
    expected = {MANIFEST, manifest["database"]["name"]}
    expected |= {PHOTO_PREFIX + name for name in manifest["photos"]}
    if reader.names() != expected:
        extra = sorted(reader.names() ^ expected)
        raise BackupError(
            f"the archive is damaged: it does not hold what its manifest lists "
            f"({', '.join(extra[:3])})"
        )
    checks = [(manifest["database"]["name"], manifest["database"]["sha256"])]
    checks += [(PHOTO_PREFIX + name, sha) for name, sha in sorted(manifest["photos"].items())]
    for name, sha in checks:
        if not hmac.compare_digest(reader.sha256(name), sha):
            raise BackupError(f"the archive is damaged: {name} does not match its checksum")


def _check_restored(manifest: dict) -> None:
    """The restored database holds what the manifest says, before any migration runs."""
    with db.engine.connect() as conn:
        facts = database.read_facts(conn)
    head = manifest["audit_head"]
    if facts.tables != manifest["tables"]:
        differing = sorted(
            name
            for name in set(facts.tables) | set(manifest["tables"])
            if facts.tables.get(name) != manifest["tables"].get(name)
        )
        raise BackupError(f"the restored database does not match the manifest: {differing}")
    if (facts.audit_seq, facts.audit_hash) != (head["seq"], head["hash"]):
        raise BackupError("the restored audit head does not match the manifest")


def _record_restored(manifest: dict) -> None:
    """The audit log says from which head it was restored."""
    audit.record_restored(manifest["audit_head"]["seq"], manifest["audit_head"]["hash"])


def restore(path: Path, key_file: Path | None = None) -> dict:
    """Restore an archive into this (empty) instance: check the manifest, every checksum
    and every key before anything is written, then the photos, the database, the
    migrations up to this code's head. Returns the manifest."""
    path = Path(path)
    _require_empty()
    with tempfile.TemporaryDirectory(prefix="vehiclewatch-restore-") as tmp:
        staging = Path(tmp)
        try:
            plain = path
            if archive.is_encrypted(path):
                plain = staging / "archive.tar"
                archive.decrypt(path, key_file, plain)
            with archive.open_archive(plain) as reader:
                manifest = reader.manifest()
                _check_manifest(manifest, reader)
                check_keys(manifest["key_checks"])
                dump = staging / manifest["database"]["name"]
                reader.extract(manifest["database"]["name"], dump)
                written = photos.put_photos(
                    (name, reader.open(PHOTO_PREFIX + name)) for name in sorted(manifest["photos"])
                )
            try:
                database.restore(dump, manifest["engine"], manifest["pg_dump_version"])
            except BaseException:
                photos.remove_photos(written)
                raise
        except (ArchiveError, DatabaseError) as exc:
            raise BackupError(str(exc)) from None
        except (KeyError, TypeError, AttributeError):
            raise BackupError(f"{path} is not a vehiclewatch backup or is damaged") from None
    _check_restored(manifest)
    upgrade(directory=current_app.extensions["migrate"].directory)
    _record_restored(manifest)
    return manifest
