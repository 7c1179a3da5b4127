"""Filing reports and adding to them: from the public pages, an officer's entry of a call
or letter, or an inspection finding. One transaction each; photos are on disk first."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit, metrics
from ..auth.models import Unit, UnitKind
from ..calendar.rounds import round_for
from ..extensions import db
from ..fleet.models import Sticker, Vehicle
from ..timeutil import local_zone
from ..transaction import atomic, lock_rows
from ..webhooks import outbox
from . import protection
from .bursts import mark_burst
from .models import Category, Report, ReportEvent, Source
from .photos import ProcessedPhoto
from .photostore import discard_files, store_photos
from .scoring import car_evidence, rescore, rescore_with_neighbours
from .states import OPEN_STATES, State

# Photos one report may hold: the 3 of its form and 3 more in each of three additions.
MAX_REPORT_PHOTOS = 12


class ReportClosed(Exception):
    """The report no longer takes additions from its reporter."""


class TooManyPhotos(Exception):
    """The addition would take the report past MAX_REPORT_PHOTOS; `room` more would fit."""

    def __init__(self, room: int):
        super().__init__(room)
        self.room = room


@dataclass
class NewReport:
    category: str
    seen_at: datetime
    place: str = ""
    description: str = ""
    plate_matches: bool | None = None
    latitude: float | None = None
    longitude: float | None = None
    reporter_name: str = ""
    reporter_phone: str = ""
    source: str = Source.SCAN
    vehicle: Vehicle | None = None
    sticker: Sticker | None = None
    typed_plate: str | None = None
    photos: list[ProcessedPhoto] = field(default_factory=list)
    note: str | None = None  # e.g. how an officer received it (来电、来信、来访)
    # A cross-check team that files a finding in another jurisdiction keeps reading it.
    reader_jurisdiction_id: int | None = None


def _round_start(seen_at: datetime):
    found = round_for(seen_at.astimezone(local_zone()).date())
    return found.start if found else None


def _city_unit_id() -> int:
    return db.session.execute(select(Unit.id).where(Unit.kind == UnitKind.CITY)).scalar_one()


def existing_submission(submission_id: str) -> Report | None:
    """The report a form's one-time token already created, if any (a double submit)."""
    return db.session.execute(
        select(Report).where(Report.submission_hash == protection.submission_hash(submission_id))
    ).scalar_one_or_none()


def file_report(new: NewReport, submission_id: str, *, actor: audit.Actor) -> tuple[Report, str]:
    """File a report in one transaction; returns it and its receipt. A repeated submission
    of the same form returns the first report and the same receipt."""
    receipt = protection.receipt_for(submission_id)
    earlier = existing_submission(submission_id)
    if earlier is not None:
        return earlier, receipt
    # Everything that needs no lock is read before the write transaction, which on SQLite
    # holds the one write lock from its start to its commit: the report's own fields (its
    # round, the city for a plate nobody registered) and its car's trip-approval and
    # sealing evidence, which no concurrent filing changes.
    report = _new_report(new, submission_id, receipt)
    dispatch = car_evidence(report)
    photo_rows = report.photos = store_photos(new.photos)
    try:
        with atomic():
            _insert_report(report, dispatch, new.note, actor)
    except IntegrityError:
        # The same form submitted twice at once: the other request won; answer as it did.
        discard_files(photo_rows)
        earlier = existing_submission(submission_id)
        if earlier is None:
            raise
        return earlier, receipt
    except BaseException:
        discard_files(photo_rows)
        raise
    metrics.report_filed(new.source)
    return report, receipt


def _new_report(new: NewReport, submission_id: str, receipt: str) -> Report:
    name = new.reporter_name.strip()
    phone = new.reporter_phone.strip()
    return Report(
        vehicle=new.vehicle,
        sticker=new.sticker,
        typed_plate=new.typed_plate,
        unit_id=new.vehicle.unit_id if new.vehicle else _city_unit_id(),
        reader_jurisdiction_id=new.reader_jurisdiction_id,
        seen_at=new.seen_at,
        place=new.place.strip(),
        latitude=new.latitude,
        longitude=new.longitude,
        category=Category(new.category),
        description=new.description.strip(),
        plate_matches=new.plate_matches,
        real_name=bool(name or phone),
        reporter_name_enc=protection.encrypt_contact(name),
        reporter_phone_enc=protection.encrypt_contact(phone),
        receipt_hash=protection.receipt_hash(receipt),
        receipt_key=protection.receipt_key_id(protection.receipt_keys()[0]),
        submission_hash=protection.submission_hash(submission_id),
        source=Source(new.source),
        state=State.SUBMITTED,
        round_start=_round_start(new.seen_at),
    )


def _insert_report(report: Report, dispatch, note: str | None, actor: audit.Actor) -> None:
    """What must be consistent with the other filings: the burst and corroboration counts
    (read under the write lock), the report with its score, its neighbours' raised scores,
    and the audit entry."""
    if report.vehicle is not None:
        # Filings about one car take turns, so each counts the others' corroboration.
        lock_rows(select(Vehicle.id).where(Vehicle.id == report.vehicle.id))
    mark_burst(report)
    rescore_with_neighbours(report, dispatch)
    report.events.append(
        ReportEvent(kind="submitted", to_state=State.SUBMITTED, actor_id=actor.id, note=note)
    )
    db.session.add(report)
    db.session.flush()
    audit.record(
        "report_filed",
        report,
        after={
            "vehicle": report.plate,
            "category": report.category,
            "source": report.source,
            "photos": len(report.photos),
            "real_name": report.real_name,
            "reader_jurisdiction": report.reader_jurisdiction_id,
        },
        actor=actor,
    )
    outbox.report_filed(report)


def find_by_receipt(receipt: str) -> Report | None:
    """The report a receipt names, under any configured receipt key; one found with an old
    key has its hash stored again under the newest, so the old key can be retired."""
    if not protection.normalise_receipt(receipt):
        return None
    hashes = protection.receipt_hashes(receipt)
    report = db.session.execute(
        select(Report).where(Report.receipt_hash.in_(hashes))
    ).scalar_one_or_none()
    newest_hash = next(iter(hashes))
    if report is not None and report.receipt_hash != newest_hash:
        with atomic():
            old_key = report.receipt_key
            report.receipt_hash = newest_hash
            report.receipt_key = hashes[newest_hash]
            audit.record(
                "receipt_rehashed",
                report,
                before={"receipt_key": old_key},
                after={"receipt_key": report.receipt_key},
                actor=audit.PUBLIC,
            )
    return report


def add_information(report: Report, text: str, photos: list[ProcessedPhoto]) -> None:
    """The reporter adds information or photos to an open report."""
    rows = store_photos(photos)
    try:
        with atomic():
            if report.state not in OPEN_STATES:
                raise ReportClosed()
            if len(report.photos) + len(rows) > MAX_REPORT_PHOTOS:
                raise TooManyPhotos(max(0, MAX_REPORT_PHOTOS - len(report.photos)))
            report.photos.extend(rows)
            db.session.add(ReportEvent(report=report, kind="addition", note=text.strip() or None))
            rescore(report)
            audit.record(
                "report_added_to",
                report,
                after={"photos": len(rows), "text": bool(text)},
                actor=audit.PUBLIC,
            )
    except BaseException:
        discard_files(rows)
        raise
