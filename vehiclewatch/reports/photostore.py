"""Where report photos live — a local directory (default) or an S3-compatible bucket
(VEHICLEWATCH_PHOTO_STORE=s3://bucket/prefix): written before the row that names them
commits, removed when that commit fails, and swept when a crash left photos no row names."""

import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from .. import audit, metrics
from ..extensions import db
from ..timeutil import local_zone, utcnow
from ..transaction import atomic
from .models import ReportPhoto
from .photos import (
    NAME_PATTERN,
    ProcessedPhoto,
    fsync_dir,
    remove_photo_files,
    stored_names,
    write_photo_files,
)

CHUNK = 1024 * 1024


class PhotoStoreError(RuntimeError):
    """The photo store could not be reached or refused an operation."""


def photo_dir() -> Path:
    configured = current_app.config.get("PHOTO_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "photos"


def _check_name(name: str) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"not a photo name: {name!r}")


class LocalStore:
    """Photos as files in one directory, fsynced (file and directory) before a commit."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def location(self) -> str:
        return str(self.folder)

    def save(self, photo: ProcessedPhoto) -> tuple[str, str]:
        return write_photo_files(self.folder, photo)

    def put(self, name: str, source: BinaryIO) -> None:
        _check_name(name)
        self.folder.mkdir(mode=0o750, parents=True, exist_ok=True)
        fd = os.open(self.folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        try:
            with os.fdopen(fd, "wb") as handle:
                while chunk := source.read(CHUNK):
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            remove_photo_files(self.folder, [name])
            raise
        fsync_dir(self.folder)

    @contextmanager
    def open(self, name: str) -> Iterator[tuple[int, BinaryIO]]:
        _check_name(name)
        with open(self.folder / name, "rb") as handle:
            yield os.fstat(handle.fileno()).st_size, handle

    def remove(self, names: Iterable[str]) -> int:
        return remove_photo_files(self.folder, names)

    def stored(self) -> dict[str, datetime]:
        """Every stored photo with the time it was written."""
        found = {}
        for name in stored_names(self.folder):
            try:
                mtime = (self.folder / name).stat().st_mtime
            except FileNotFoundError:
                continue
            found[name] = datetime.fromtimestamp(mtime, UTC)
        return found

    def check(self) -> None:
        """The directory, or the nearest folder above it that exists (the first photo
        creates the rest), is writable."""
        folder = self.folder
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PhotoStoreError(f"{self.folder} is not writable")

    def path(self, name: str) -> Path:
        _check_name(name)
        return self.folder / name


class S3Store:
    """Photos as private objects in an S3-compatible bucket (MinIO, Ceph, OSS, COS, …),
    reached with boto3. An object is written before its row commits, as a file is."""

    def __init__(self, url: str, config):
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"VEHICLEWATCH_PHOTO_STORE must be s3://bucket/prefix, not {url!r}")
        import boto3
        from botocore.config import Config

        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/") + "/" if parts.path.strip("/") else ""
        self.client = boto3.client(
            "s3",
            endpoint_url=config.get("PHOTO_STORE_ENDPOINT") or None,
            region_name=config.get("PHOTO_STORE_REGION") or None,
            aws_access_key_id=config.get("PHOTO_STORE_ACCESS_KEY") or None,
            aws_secret_access_key=config.get("PHOTO_STORE_SECRET_KEY") or None,
            config=Config(
                signature_version="s3v4",
                connect_timeout=5,
                read_timeout=30,
                retries={"max_attempts": 3, "mode": "standard"},
                s3={"addressing_style": "path"},
            ),
        )

    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def _key(self, name: str) -> str:
        _check_name(name)
        return self.prefix + name

    def _write(self, name: str, body) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._key(name), Body=body, ContentType="image/jpeg"
        )

    def save(self, photo: ProcessedPhoto) -> tuple[str, str]:
        written: list[str] = []
        try:
            for content in (photo.evidence, photo.display):
                # 128 random bits: a fresh name never meets a stored object.
                name = secrets.token_hex(16) + ".jpg"
                written.append(name)
                self._write(name, content)
        except BaseException:
            self.remove(written)
            raise
        return written[0], written[1]

    def put(self, name: str, source: BinaryIO) -> None:
        if self._exists(name):
            raise FileExistsError(f"{self.location()}{name} already exists")
        self._write(name, source.read())

    def _exists(self, name: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def stream(self, name: str) -> tuple[int, BinaryIO]:
        """(size, body) of a stored photo; the caller closes the body."""
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                raise FileNotFoundError(f"{self.location()}{name}") from None
            raise
        return answer["ContentLength"], answer["Body"]

    @contextmanager
    def open(self, name: str) -> Iterator[tuple[int, BinaryIO]]:
        size, body = self.stream(name)
        try:
            yield size, body
        finally:
            body.close()

    def remove(self, names: Iterable[str]) -> int:
        keys = [self.prefix + n for n in names if NAME_PATTERN.fullmatch(n)]
        removed = 0
        for start in range(0, len(keys), 1000):
            batch = keys[start : start + 1000]
            try:
                answer = self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
                )
            except Exception:  # best effort, as for files: the sweep finds what is left
                metrics.photo_store_error("remove")
                continue
            removed += len(batch) - len(answer.get("Errors", []))
        return removed

    def stored(self) -> dict[str, datetime]:
        found = {}
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"][len(self.prefix) :]
                if NAME_PATTERN.fullmatch(name):
                    found[name] = item["LastModified"]
        return found

    def check(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)

    def presigned_url(self, name: str, download_name: str, seconds: int) -> str:
        return self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self._key(name),
                "ResponseContentType": "image/jpeg",
                "ResponseContentDisposition": f'inline; filename="{download_name}"',
            },
            ExpiresIn=seconds,
        )


PhotoStore = LocalStore | S3Store


def photo_store() -> PhotoStore:
    """The configured store, made once per application."""
    url = current_app.config.get("PHOTO_STORE")
    key = (url, photo_dir())
    cached = current_app.extensions.get("vehiclewatch.photo_store")
    if cached is None or cached[0] != key:
        store = S3Store(url, current_app.config) if url else LocalStore(photo_dir())
        cached = (key, store)
        current_app.extensions["vehiclewatch.photo_store"] = cached
    return cached[1]


@contextmanager
def counting_errors(operation: str) -> Iterator[None]:
    """Count a failed store operation (metrics), then let the failure go on."""
    try:
        yield
    except Exception:
        metrics.photo_store_error(operation)
        raise


def _utc_capture_time(taken_at: datetime | None) -> datetime | None:
    if taken_at is None:
        return None
    if taken_at.tzinfo is None:  # cameras record local time; assume the deployment's zone
        taken_at = taken_at.replace(tzinfo=local_zone())
    return taken_at.astimezone(utcnow().tzinfo)


def store_photos(photos: list[ProcessedPhoto]) -> list[ReportPhoto]:
    """Write every photo durably before any row naming it can commit; returns the rows to
    add to the report."""
    store = photo_store()
    rows: list[ReportPhoto] = []
    try:
        for photo in photos:
            with counting_errors("save"):
                evidence_name, display_name = store.save(photo)
            rows.append(
                ReportPhoto(
                    evidence_name=evidence_name,
                    display_name=display_name,
                    width=photo.width,
                    height=photo.height,
                    source_format=photo.source_format,
                    taken_at=_utc_capture_time(photo.taken_at),
                    latitude=photo.latitude,
                    longitude=photo.longitude,
                )
            )
    except BaseException:
        discard_files(rows)
        raise
    return rows


def discard_files(rows: list[ReportPhoto]) -> None:
    """Remove the photos of rows that will not commit."""
    photo_store().remove([n for r in rows for n in (r.evidence_name, r.display_name)])


def orphan_photos(min_age: timedelta = timedelta(minutes=10)) -> list[str]:
    """Stored photos no row names: left by a failure between the write and the commit.
    Photos younger than min_age may still belong to a report being filed, so they are left
    alone."""
    referenced = set()
    for evidence_name, display_name in db.session.execute(
        select(ReportPhoto.evidence_name, ReportPhoto.display_name)
    ):
        referenced.update((evidence_name, display_name))
    cutoff = utcnow() - min_age
    with counting_errors("list"):
        stored = photo_store().stored()
    return sorted(
        name for name, written in stored.items() if name not in referenced and written < cutoff
    )


@atomic()
def remove_orphan_photos(names: list[str], *, actor: audit.Actor) -> int:
    """Delete orphaned photos (never one a report names); audited."""
    removed = photo_store().remove(names)
    audit.record(
        "orphan_photos_removed", object_type="report_photo", after={"files": names}, actor=actor
    )
    return removed
