"""Where report photos live: written (and fsynced) before the row that names them commits,
removed when that commit fails, and swept when a crash left files no row names."""

from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..timeutil import local_zone, utcnow
from ..transaction import atomic
from .models import ReportPhoto
from .photos import ProcessedPhoto, remove_photo_files, stored_names, write_photo_files


def photo_dir() -> Path:
    configured = current_app.config.get("PHOTO_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "photos"


def _utc_capture_time(taken_at: datetime | None) -> datetime | None:
    if taken_at is None:
        return None
    if taken_at.tzinfo is None:  # cameras record local time; assume the deployment's zone
        taken_at = taken_at.replace(tzinfo=local_zone())
    return taken_at.astimezone(utcnow().tzinfo)


def store_photos(photos: list[ProcessedPhoto]) -> list[ReportPhoto]:
    """Write (and fsync) every photo file before any row naming it can commit; returns the
    rows to add to the report."""
    rows: list[ReportPhoto] = []
    try:
        for photo in photos:
            evidence_name, display_name = write_photo_files(photo_dir(), photo)
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
    """Remove the files of rows that will not commit."""
    names = [n for r in rows for n in (r.evidence_name, r.display_name)]
    remove_photo_files(photo_dir(), names)


def orphan_photos(min_age: timedelta = timedelta(minutes=10)) -> list[str]:
    """Photo files no row names: left by a failure between the fsync and the commit. Files
    younger than min_age may still belong to a report being filed, so they are left alone."""
    folder = photo_dir()
    referenced = set()
    for evidence_name, display_name in db.session.execute(
        select(ReportPhoto.evidence_name, ReportPhoto.display_name)
    ):
        referenced.update((evidence_name, display_name))
    cutoff = (utcnow() - min_age).timestamp()
    return sorted(
        name
        for name in stored_names(folder) - referenced
        if (folder / name).stat().st_mtime < cutoff
    )


@atomic()
def remove_orphan_photos(names: list[str], *, actor: audit.Actor) -> int:
    """Delete orphaned photo files (never a file a report names); audited."""
    removed = remove_photo_files(photo_dir(), names)
    audit.record(
        "orphan_photos_removed", object_type="report_photo", after={"files": names}, actor=actor
    )
    return removed
