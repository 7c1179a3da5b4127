"""Reads for bulletins: a round's figures within a jurisdiction, the bulletins an officer
may open, the published ones, and the reports typical cases are drafted from."""

import json
from dataclasses import asdict, dataclass, field
from datetime import date

from flask import abort
from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased

from ..auth.models import Unit, User
from ..auth.scope import in_case_scope, jurisdiction_case_unit_ids
from ..calendar.rounds import Campaign, Round, load_campaigns
from ..campaigns.models import SpotCheckDraw, SpotCheckItem, SpotCheckResult
from ..extensions import db
from ..reports.models import Category, Report, ReportEvent
from ..reports.states import Action, Finding, State
from .models import Bulletin, BulletinStatus

SUBSTANTIATED_FINDINGS = (Finding.TRUE, Finding.PARTLY_TRUE)
DECIDED_STATES = (State.CONCLUDED, State.ANSWERED)


@dataclass(frozen=True)
class Figures:
    received: int = 0
    # Reports that were ever accepted (registered as a lead), wherever they went after.
    accepted: int = 0
    # Decided (concluded or answered) with the finding 属实 or 部分属实.
    substantiated: int = 0
    by_category: dict[str, int] = field(default_factory=dict)  # category code → count
    by_jurisdiction: dict[str, int] = field(default_factory=dict)  # jurisdiction name → count
    spot_checks_done: int = 0
    problems_found: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Figures":
        return cls(**json.loads(text))


def _round_date(round_key: str | date) -> date:
    return round_key if isinstance(round_key, date) else date.fromisoformat(round_key)


def _count(*conditions) -> int:
    return db.session.execute(select(func.count(Report.id)).where(*conditions)).scalar_one()


def round_figures(round_key: str | date, jurisdiction_unit: Unit) -> Figures:
    """The round's figures as they stand now, within the jurisdiction's case scope."""
    start = _round_date(round_key)
    in_round = (
        Report.round_start == start,
        Report.unit_id.in_(jurisdiction_case_unit_ids(jurisdiction_unit)),
    )
    accepted = exists().where(
        ReportEvent.report_id == Report.id, ReportEvent.kind == Action.ACCEPT.value
    )
    categories = dict(
        db.session.execute(
            select(Report.category, func.count(Report.id))
            .where(*in_round)
            .group_by(Report.category)
        ).all()
    )
    jurisdiction = aliased(Unit)
    by_jurisdiction = db.session.execute(
        select(jurisdiction.name, func.count(Report.id))
        .select_from(Report)
        .join(Unit, Unit.id == Report.unit_id)
        .join(jurisdiction, jurisdiction.id == Unit.jurisdiction_id)
        .where(*in_round)
        .group_by(jurisdiction.id, jurisdiction.name, jurisdiction.path)
        .order_by(jurisdiction.path)
    ).all()
    checked = (
        select(func.count(SpotCheckItem.id))
        .join(SpotCheckItem.draw)
        .where(
            SpotCheckDraw.round_start == start,
            SpotCheckDraw.superseded_at.is_(None),
            SpotCheckItem.result.is_not(None),
            SpotCheckItem.jurisdiction_id.in_(jurisdiction_case_unit_ids(jurisdiction_unit)),
        )
    )
    return Figures(
        received=_count(*in_round),
        accepted=_count(*in_round, accepted),
        substantiated=_count(
            *in_round,
            Report.finding.in_(SUBSTANTIATED_FINDINGS),
            Report.state.in_(DECIDED_STATES),
        ),
        by_category={c.value: categories[c.value] for c in Category if c.value in categories},
        by_jurisdiction=dict(by_jurisdiction),
        spot_checks_done=db.session.execute(checked).scalar_one(),
        problems_found=db.session.execute(
            checked.where(SpotCheckItem.result == SpotCheckResult.PROBLEM)
        ).scalar_one(),
    )


def bulletin_figures(bulletin: Bulletin) -> Figures:
    """Frozen from approval on; computed live while the bulletin is a draft."""
    if bulletin.figures_json:
        return Figures.from_json(bulletin.figures_json)
    return round_figures(bulletin.round_start, bulletin.jurisdiction)


def substantiated_reports(round_start: date, jurisdiction_unit: Unit) -> list[Report]:
    """The round's decided, substantiated reports: what typical cases are drafted from."""
    return list(
        db.session.execute(
            select(Report)
            .where(
                Report.round_start == round_start,
                Report.unit_id.in_(jurisdiction_case_unit_ids(jurisdiction_unit)),
                Report.finding.in_(SUBSTANTIATED_FINDINGS),
                Report.state.in_(DECIDED_STATES),
            )
            .order_by(Report.seen_at, Report.id)
        ).scalars()
    )


def visible_bulletins(user: User) -> list[Bulletin]:
    """Bulletins of the jurisdictions in the user's case scope (city officers: all)."""
    return list(
        db.session.execute(
            select(Bulletin)
            .join(Bulletin.jurisdiction)
            .where(in_case_scope(user, Bulletin.jurisdiction_id))
            .order_by(Bulletin.round_start.desc(), Unit.path)
        ).scalars()
    )


def bulletin_or_404(user: User, bulletin_id: int) -> Bulletin:
    """A bulletin in the user's scope; any other answers 404, as if it did not exist."""
    bulletin = db.session.execute(
        select(Bulletin).where(
            Bulletin.id == bulletin_id, in_case_scope(user, Bulletin.jurisdiction_id)
        )
    ).scalar_one_or_none()
    if bulletin is None:
        abort(404)
    return bulletin


def published(*conditions):
    """The bulletins the public sees (published ones), with any further conditions: drafts
    and approved-but-unpublished bulletins do not exist outside the officers' pages."""
    return select(Bulletin).where(Bulletin.status == BulletinStatus.PUBLISHED, *conditions)


def published_bulletins() -> list[Bulletin]:
    return list(
        db.session.execute(
            published().join(Bulletin.jurisdiction).order_by(Bulletin.round_start.desc(), Unit.path)
        ).scalars()
    )


def published_or_404(bulletin_id: int) -> Bulletin:
    bulletin = db.session.execute(published(Bulletin.id == bulletin_id)).scalar_one_or_none()
    if bulletin is None:
        abort(404)
    return bulletin


def rounds_newest_first() -> list[tuple[Campaign, Round]]:
    return [(c, r) for c in reversed(load_campaigns()) for r in reversed(c.rounds())]
