"""Writes for bulletins: draft (with typical cases from the round's reports), edit, approve
(which freezes the figures and assigns the 文号), withdraw an approval, publish, and correct
a published bulletin by a new version (更正)."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import date

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from .. import audit
from ..auth.models import Role, Unit, User
from ..auth.scope import NotPermitted
from ..calendar.rounds import UnknownRound, find_round
from ..extensions import db
from ..languages import in_chinese
from ..reports.models import Report
from ..reports.states import OUTCOME_LABELS, Outcome
from ..timeutil import to_local, utcnow
from ..transaction import atomic
from ..webhooks import outbox
from . import queries
from .models import Bulletin, BulletinCase, BulletinStatus, commission_name

STAFF = (Role.OFFICER, Role.LEADER)


class BulletinExists(Exception):
    """The jurisdiction already has a bulletin for that round."""

    def __init__(self, bulletin: Bulletin):
        super().__init__(bulletin.id)
        self.bulletin = bulletin


class WrongStatus(Exception):
    """The step does not apply in the bulletin's current status (e.g. editing after approval)."""


class StaleBulletin(Exception):
    """Someone else changed the bulletin since the page was loaded."""


class RoundNotOver(Exception):
    """A bulletin reports on a round: it cannot be approved before the round has ended."""


class AlreadyCorrected(Exception):
    """The published bulletin already has a correction; correct that one instead."""

    def __init__(self, correction: Bulletin):
        super().__init__(correction.id)
        self.correction = correction


class MissingCorrectionNote(ValueError):
    """A correction must say what it changes."""


NUMBER_ATTEMPTS = 5


@dataclass(frozen=True)
class CaseText:
    """A typical case as the officer edits it."""

    unit_name: str
    occurred_on: date
    what_happened: str
    outcome: str
    deciding_body: str
    plate: str = ""
    person_position: str = ""
    source_report_id: int | None = None


def default_title(campaign_name: str, round_number: int) -> str:
    return f"关于{campaign_name}第{round_number}周公务用车监督检查情况的通报"


def case_from_report(report: Report) -> CaseText:
    """A typical case drafted from a decided report; the deciding body is the commission
    that oversees the car's unit (the level above for escalated units)."""
    oversight = db.session.get(Unit, report.unit.oversight_id)
    return CaseText(
        unit_name=report.unit.name,
        occurred_on=to_local(report.seen_at).date(),
        plate=report.plate,
        what_happened=report.description or report.category_label,
        outcome=str(OUTCOME_LABELS[Outcome(report.outcome)]),
        deciding_body=commission_name(oversight),
        source_report_id=report.id,
    )


def _rows(cases: list[CaseText]) -> list[BulletinCase]:
    return [
        BulletinCase(
            position=position,
            unit_name=case.unit_name.strip(),
            person_position=case.person_position.strip(),
            occurred_on=case.occurred_on,
            plate=case.plate.strip(),
            what_happened=case.what_happened.strip(),
            outcome=case.outcome.strip(),
            deciding_body=case.deciding_body.strip(),
            source_report_id=case.source_report_id,
        )
        for position, case in enumerate(cases, 1)
    ]


def _check_staff(actor: User) -> None:
    if actor.role not in STAFF:
        raise NotPermitted()


def may_sign(bulletin: Bulletin, actor: User) -> bool:
    """Approval and publication are a leader's, of the issuing jurisdiction."""
    return actor.role == Role.LEADER and actor.unit.jurisdiction_id == bulletin.jurisdiction_id


def _check_issuing_leader(bulletin: Bulletin, actor: User) -> None:
    if not may_sign(bulletin, actor):
        raise NotPermitted()


def _check_version(bulletin: Bulletin, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != bulletin.version:
        raise StaleBulletin()


def _existing(round_start: date, jurisdiction: Unit) -> Bulletin | None:
    """The round's original bulletin (corrections share its round)."""
    return db.session.execute(
        select(Bulletin).where(
            Bulletin.round_start == round_start,
            Bulletin.jurisdiction_id == jurisdiction.id,
            Bulletin.corrects_id.is_(None),
        )
    ).scalar_one_or_none()


def create_draft(round_key: str, jurisdiction: Unit, actor: User) -> Bulletin:
    """Start a jurisdiction's bulletin for a round, its typical cases drafted from the
    round's decided, substantiated reports."""
    _check_staff(actor)
    found = find_round(round_key)
    if found is None:
        raise UnknownRound(round_key)
    campaign, round_ = found
    existing = _existing(round_.start, jurisdiction)
    if existing is not None:
        raise BulletinExists(existing)
    reports = queries.substantiated_reports(round_.start, jurisdiction)
    with in_chinese():
        title = default_title(campaign.name, round_.number)
        cases = _rows([case_from_report(r) for r in reports])
    bulletin = Bulletin(
        round_start=round_.start,
        round_end=round_.end,
        jurisdiction=jurisdiction,
        title=title,
        status=BulletinStatus.DRAFT,
        drafted_by=actor,
        drafted_at=utcnow(),
        cases=cases,
    )
    try:
        with atomic():
            db.session.add(bulletin)
            db.session.flush()
            audit.record("bulletin_drafted", bulletin, after=bulletin.snapshot(), actor=actor)
    except IntegrityError:
        # Two officers started the same bulletin at once: the other one's stands.
        existing = _existing(round_.start, jurisdiction)
        if existing is None:
            raise
        raise BulletinExists(existing) from None
    return bulletin


def save_draft(
    bulletin: Bulletin,
    title: str,
    cases: list[CaseText],
    actor: User,
    *,
    expected_version: int | None = None,
) -> Bulletin:
    """Replace a draft's title and typical cases (edited, added, removed, reordered)."""
    _check_staff(actor)
    _check_version(bulletin, expected_version)
    if bulletin.status != BulletinStatus.DRAFT:
        raise WrongStatus(bulletin.status)
    before = bulletin.snapshot()
    # A case keeps its link to a report only if it came with the draft: a form cannot
    # point a bulletin at a report outside the drafter's scope.
    known = {c.source_report_id for c in bulletin.cases if c.source_report_id is not None}
    cases = [c if c.source_report_id in known else replace(c, source_report_id=None) for c in cases]
    with _one_write():
        bulletin.title = title.strip()
        bulletin.cases = _rows(cases)
        # Changed cases alone do not touch the bulletin's row; this bumps its version.
        flag_modified(bulletin, "title")
        db.session.flush()
        audit.record(
            "bulletin_edited", bulletin, before=before, after=bulletin.snapshot(), actor=actor
        )
    return bulletin


@contextmanager
def _one_write() -> Iterator[None]:
    """One transaction; a version conflict becomes StaleBulletin."""
    try:
        with atomic():
            yield
    except StaleDataError:
        raise StaleBulletin() from None


def round_over(bulletin: Bulletin) -> bool:
    """Whether the bulletin's round has ended (its last local day is past)."""
    return to_local(utcnow()).date() > bulletin.round_end


def doc_number(year: int, seq: int) -> str:
    return f"{current_app.config['BULLETIN_NUMBER_PREFIX']}〔{year}〕{seq}号"


def _assign_number(bulletin: Bulletin) -> None:
    """The next number of the approval's local year. Two approvals at once may pick the same
    one: the unique (year, number) constraint refuses the second, which tries the next."""
    year = to_local(utcnow()).year
    for _attempt in range(NUMBER_ATTEMPTS):
        taken = db.session.execute(
            select(func.max(Bulletin.number_seq)).where(Bulletin.number_year == year)
        ).scalar_one()
        try:
            with atomic():
                bulletin.number_year, bulletin.number_seq = year, (taken or 0) + 1
                bulletin.doc_number = doc_number(year, bulletin.number_seq)
                db.session.flush()
            return
        except IntegrityError:
            continue
    raise RuntimeError("no free bulletin number after several attempts")


def approve(bulletin: Bulletin, actor: User, *, expected_version: int | None = None) -> Bulletin:
    """A leader of the issuing jurisdiction signs off once the round is over: the figures are
    frozen as they are now, the 文号 assigned (kept from an earlier approval), and the audit
    log's head is recorded on the bulletin."""
    _check_issuing_leader(bulletin, actor)
    _check_version(bulletin, expected_version)
    if bulletin.status != BulletinStatus.DRAFT:
        raise WrongStatus(bulletin.status)
    if not round_over(bulletin):
        raise RoundNotOver(bulletin.round_end)
    figures = queries.round_figures(bulletin.round_start, bulletin.jurisdiction)
    with _one_write():
        bulletin.figures_json = figures.to_json()
        bulletin.status = BulletinStatus.APPROVED
        bulletin.approved_by = actor
        bulletin.approved_at = utcnow()
        db.session.flush()
        if bulletin.doc_number is None:
            _assign_number(bulletin)
        entry = audit.record(
            "bulletin_approved",
            bulletin,
            after={
                "status": bulletin.status,
                "doc_number": bulletin.doc_number,
                "figures": asdict(figures),
            },
            actor=actor,
        )
        # The head at approval is the approval's own entry: printed on the bulletin, it
        # anchors the log up to and including this decision.
        bulletin.audit_count, bulletin.audit_head = entry.seq, entry.hash
    return bulletin


def withdraw(bulletin: Bulletin, actor: User, *, expected_version: int | None = None) -> Bulletin:
    """A leader takes back an approval before publication: the bulletin is a draft again
    (figures live, cases editable); it keeps its 文号 for the next approval."""
    _check_issuing_leader(bulletin, actor)
    _check_version(bulletin, expected_version)
    if bulletin.status != BulletinStatus.APPROVED:
        raise WrongStatus(bulletin.status)
    with _one_write():
        before = {
            "status": bulletin.status,
            "approved_by": bulletin.approved_by_id,
            "approved_at": bulletin.approved_at.isoformat(),
            "audit_anchor": bulletin.audit_anchor,
        }
        bulletin.status = BulletinStatus.DRAFT
        bulletin.figures_json = None
        bulletin.approved_by = None
        bulletin.approved_at = None
        bulletin.audit_count = bulletin.audit_head = None
        db.session.flush()
        audit.record(
            "bulletin_withdrawn",
            bulletin,
            before=before,
            after={"status": bulletin.status},
            actor=actor,
        )
    return bulletin


def correct(published: Bulletin, note: str, actor: User) -> Bulletin:
    """Start a correction (更正) of a published bulletin: a new draft for the same round,
    its cases copied to be edited, saying what it changes. The published one stays public;
    once the correction is published each links to the other."""
    _check_issuing_leader(published, actor)
    if published.status != BulletinStatus.PUBLISHED:
        raise WrongStatus(published.status)
    note = note.strip()
    if not note:
        raise MissingCorrectionNote()
    if published.corrected_by is not None:
        raise AlreadyCorrected(published.corrected_by)
    try:
        with atomic():
            # Built inside the transaction: linking it to the published one adds it to the
            # session.
            correction = Bulletin(
                round_start=published.round_start,
                round_end=published.round_end,
                jurisdiction=published.jurisdiction,
                title=published.title,
                status=BulletinStatus.DRAFT,
                drafted_by=actor,
                drafted_at=utcnow(),
                corrects=published,
                correction_note=note,
                cases=_rows([_case_text(c) for c in published.cases]),
            )
            db.session.add(correction)
            db.session.flush()
            audit.record(
                "bulletin_correction_drafted", correction, after=correction.snapshot(), actor=actor
            )
    except IntegrityError:
        # Two leaders started a correction at once: the other one's stands.
        db.session.expire(published)
        if published.corrected_by is None:
            raise
        raise AlreadyCorrected(published.corrected_by) from None
    return correction


def _case_text(case: BulletinCase) -> CaseText:
    return CaseText(
        unit_name=case.unit_name,
        occurred_on=case.occurred_on,
        what_happened=case.what_happened,
        outcome=case.outcome,
        deciding_body=case.deciding_body,
        plate=case.plate,
        person_position=case.person_position,
        source_report_id=case.source_report_id,
    )


def publish(bulletin: Bulletin, actor: User, *, expected_version: int | None = None) -> Bulletin:
    """Make an approved bulletin public: its page, its PDF and the public list."""
    _check_issuing_leader(bulletin, actor)
    _check_version(bulletin, expected_version)
    if bulletin.status != BulletinStatus.APPROVED:
        raise WrongStatus(bulletin.status)
    with _one_write():
        bulletin.status = BulletinStatus.PUBLISHED
        bulletin.published_at = utcnow()
        db.session.flush()
        audit.record("bulletin_published", bulletin, after={"status": bulletin.status}, actor=actor)
        outbox.bulletin_published(bulletin)
    return bulletin
