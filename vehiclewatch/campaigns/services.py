"""Writes for spot checks: the committed draw, and each team's result (a finding opens a
report through the reports package)."""

import json
import secrets
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit
from ..auth.models import Role, Unit, UnitKind, User
from ..auth.scope import NotPermitted
from ..calendar.rounds import UnknownRound, find_round
from ..extensions import db
from ..fleet.models import Status, Vehicle
from ..languages import in_chinese
from ..reports.filing import NewReport, file_report
from ..reports.models import Source
from ..reports.protection import decrypt_contact, encrypt_contact, new_submission_id
from ..timeutil import utcnow
from ..transaction import atomic
from .models import SpotCheckDraw, SpotCheckItem, SpotCheckResult
from .spotchecks import (
    DrawImpossible,
    canonical_candidates,
    draw_lists,
    mixed_seed,
    normalise_public_value,
    sha256_hex,
    team_pairing,
)

# --- spot checks ----------------------------------------------------------------


class RoundEnded(ValueError):
    """The round is over: a draw now would reveal its seed at once."""


class DrawExists(ValueError):
    """The round already has a draw: a redraw needs a stated reason."""


class SeedNotRevealed(ValueError):
    """The seed stays secret until the round has ended."""


class SameOfficer(ValueError):
    """The public value must be entered by another officer than the one who drew."""


class NotSealed(ValueError):
    """The draw is superseded, or its public value was already entered."""


def may_draw(actor: User) -> bool:
    """Draws are prepared at city level, for every jurisdiction at once."""
    return actor.role in (Role.OFFICER, Role.LEADER) and actor.unit.kind == UnitKind.CITY


def current_draw(round_start: date) -> SpotCheckDraw | None:
    return db.session.execute(
        select(SpotCheckDraw).where(
            SpotCheckDraw.round_start == round_start, SpotCheckDraw.superseded_at.is_(None)
        )
    ).scalar_one_or_none()


def _candidates() -> dict[str, list[str]]:
    """In-use, publicly marked cars per jurisdiction (code → plates)."""
    jurisdictions = {u.id: u.code for u in db.session.execute(select(Unit)).scalars()}
    rows = db.session.execute(
        select(Vehicle.plate, Unit.jurisdiction_id)
        .join(Unit, Vehicle.unit_id == Unit.id)
        .where(Vehicle.status == Status.IN_USE, Vehicle.publicly_marked.is_(True))
    ).all()
    candidates: dict[str, list[str]] = {}
    for plate, jurisdiction_id in rows:
        candidates.setdefault(jurisdictions[jurisdiction_id], []).append(plate)
    return candidates


def draw_spot_checks(
    round_key: str,
    per_jurisdiction: int,
    actor: User,
    redraw_reason: str | None = None,
    *,
    public_source: str,
    today: date,
) -> SpotCheckDraw:
    """Commit to a random draw for a round: record the seed's hash, the candidate list and
    the public draw whose value will be mixed in, and keep the seed encrypted. No list
    exists until that value is entered (enter_public_value)."""
    if not may_draw(actor):
        raise NotPermitted()
    found = find_round(round_key)
    if found is None:
        raise UnknownRound(round_key)
    _, this_round = found
    if today > this_round.end:
        raise RoundEnded(round_key)
    with atomic():
        previous = current_draw(this_round.start)
        if previous is not None:
            if not redraw_reason:
                raise DrawExists(round_key)
            previous.superseded_at = utcnow()
            previous.redraw_reason = redraw_reason.strip()
            audit.record(
                "spot_check_redrawn",
                previous,
                after={"reason": previous.redraw_reason},
                actor=actor,
            )
        candidates = _candidates()
        if len(candidates) < 2:
            raise DrawImpossible()
        seed = secrets.token_bytes(32)
        canonical = canonical_candidates(candidates)
        draw = SpotCheckDraw(
            round_start=this_round.start,
            round_end=this_round.end,
            per_jurisdiction=per_jurisdiction,
            candidates=canonical,
            candidates_hash=sha256_hex(canonical),
            seed_hash=sha256_hex(seed),
            seed_enc=encrypt_contact(seed.hex()),
            drawn_by_id=actor.id,
            public_source=public_source.strip(),
        )
        db.session.add(draw)
        db.session.flush()
        audit.record(
            "spot_check_drawn",
            draw,
            after={
                "round": round_key,
                "per_jurisdiction": per_jurisdiction,
                "seed_hash": draw.seed_hash,
                "candidates_hash": draw.candidates_hash,
                "public_source": draw.public_source,
            },
            actor=actor,
        )
    return draw


@atomic()
def enter_public_value(draw: SpotCheckDraw, value: str, actor: User) -> SpotCheckDraw:
    """A second officer enters the named public draw's value; the lists are made from the
    seed and the value together and handed to the teams."""
    if not may_draw(actor):
        raise NotPermitted()
    if actor.id == draw.drawn_by_id:
        raise SameOfficer()
    if draw.superseded_at is not None or not draw.sealed:
        raise NotSealed()
    draw.public_value = normalise_public_value(value)
    draw.public_value_at = utcnow()
    draw.public_value_by_id = actor.id
    seed = mixed_seed(bytes.fromhex(decrypt_contact(draw.seed_enc)), draw.public_value)
    candidates = json.loads(draw.candidates)
    units = {u.code: u for u in db.session.execute(select(Unit)).scalars()}
    plates = [p for listed in candidates.values() for p in listed]
    vehicle_ids = dict(
        db.session.execute(select(Vehicle.plate, Vehicle.id).where(Vehicle.plate.in_(plates))).all()
    )
    teams = team_pairing(seed, sorted(candidates))
    for code, drawn in draw_lists(seed, candidates, draw.per_jurisdiction).items():
        for rank, plate in enumerate(drawn, start=1):
            draw.items.append(
                SpotCheckItem(
                    vehicle_id=vehicle_ids[plate],
                    jurisdiction_id=units[code].id,
                    team_jurisdiction_id=units[teams[code]].id,
                    rank=rank,
                )
            )
    db.session.flush()
    audit.record(
        "spot_check_public_value",
        draw,
        after={"public_source": draw.public_source, "public_value": draw.public_value},
        actor=actor,
    )
    return draw


def revealed_seed(draw: SpotCheckDraw, today: date) -> str | None:
    """The seed (hex), once the round has ended; None while it runs."""
    if today <= draw.round_end:
        return None
    return decrypt_contact(draw.seed_enc)


def handed_out(draw: SpotCheckDraw) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The lists as handed out (jurisdiction code → plates by rank) and the teams."""
    lists: dict[str, list[str]] = {}
    teams: dict[str, str] = {}
    for item in sorted(draw.items, key=lambda i: (i.jurisdiction.code, i.rank)):
        lists.setdefault(item.jurisdiction.code, []).append(item.vehicle.plate)
        teams[item.jurisdiction.code] = item.team_jurisdiction.code
    return lists, teams


def published_draw(draw: SpotCheckDraw, today: date) -> dict | None:
    """Everything anyone needs to re-run a draw, once its round has ended: the seed, the
    public value, the candidate list exactly as hashed, and what was handed out (as JSON)."""
    seed = revealed_seed(draw, today)
    if seed is None:
        return None
    lists, teams = handed_out(draw)
    return {
        "seed": seed,
        "public_value": draw.public_value,
        "candidates": draw.candidates,
        "per_jurisdiction": draw.per_jurisdiction,
        "lists": json.dumps(lists, ensure_ascii=False, sort_keys=True),
        "teams": json.dumps(teams, ensure_ascii=False, sort_keys=True),
    }


def verify_draw(draw: SpotCheckDraw, today: date) -> list[str]:
    """Re-run a revealed draw from its seed, public value and candidate list; returns the
    discrepancies."""
    seed_hex = revealed_seed(draw, today)
    if seed_hex is None:
        raise SeedNotRevealed(draw.round_end.isoformat())
    seed = bytes.fromhex(seed_hex)
    problems = []
    if sha256_hex(seed) != draw.seed_hash:
        problems.append("the seed does not match the hash recorded before the round")
    if sha256_hex(draw.candidates) != draw.candidates_hash:
        problems.append("the candidate list does not match its recorded hash")
    mixed = mixed_seed(seed, draw.public_value)
    candidates = json.loads(draw.candidates)
    expected = draw_lists(mixed, candidates, draw.per_jurisdiction)
    teams = team_pairing(mixed, sorted(candidates))
    actual, actual_teams = handed_out(draw)
    if {k: v for k, v in expected.items() if v} != actual:
        problems.append("the drawn lists differ from a re-run of the draw")
    if any(actual_teams[code] != teams[code] for code in actual_teams):
        problems.append("the team pairing differs from a re-run of the draw")
    return problems


def team_item(item_id: int, actor: User) -> SpotCheckItem | None:
    """A drawn car on the actor's team's current list; None for any other."""
    item = db.session.get(SpotCheckItem, item_id)
    if (
        item is None
        or actor.role not in (Role.OFFICER, Role.LEADER)
        or item.team_jurisdiction_id != actor.unit.jurisdiction_id
        or item.draw.superseded_at is not None
    ):
        return None
    return item


@atomic()
def record_spot_check(
    item: SpotCheckItem, result: str, note: str, category: str, actor: User
) -> SpotCheckItem:
    """A team's finding for one drawn car. 发现问题 opens a report (source 检查发现) in the
    car's jurisdiction that the team keeps reading; the first finding opens it, once."""
    if team_item(item.id, actor) is None:
        raise NotPermitted()
    before = {"result": item.result, "note": item.note}
    result = SpotCheckResult(result)
    if result == SpotCheckResult.PROBLEM and item.report_id is None:
        with in_chinese():  # the case record is Chinese, whatever the officer's page
            team_note = _("交叉互查：%(team)s检查组", team=actor.unit.name)
        new = NewReport(
            category=category,
            seen_at=utcnow(),
            description=note,
            source=Source.INSPECTION,
            vehicle=item.vehicle,
            note=team_note,
            reader_jurisdiction_id=item.team_jurisdiction_id,
        )
        report, _receipt = file_report(new, new_submission_id(), actor=actor)
        item.report_id = report.id
    item.result = result
    item.note = note.strip() or None
    item.recorded_at = utcnow()
    item.recorded_by_id = actor.id
    audit.record(
        "spot_check_recorded",
        item,
        before=before,
        after={"result": item.result, "note": item.note, "report": item.report_id},
        actor=actor,
    )
    return item
