"""Writes for holiday periods and spot checks."""

import json
import secrets
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..auth.models import Unit, User
from ..extensions import db
from ..fleet.models import Status, Vehicle
from ..reports.protection import decrypt_contact, encrypt_contact
from ..timeutil import utcnow
from ..transaction import commit
from .models import HolidayPeriod, Region, SpotCheckDraw, SpotCheckItem, SpotCheckResult
from .rounds import find_round
from .spotchecks import canonical_candidates, draw_lists, sha256_hex, team_pairing


class InvalidPeriod(ValueError):
    """A holiday period whose dates do not make sense."""


def add_holiday_period(
    name: str, start: date, end: date, region: str, makeup_workdays: list[date]
) -> HolidayPeriod:
    """Record a holiday period and its makeup workdays."""
    if end < start:
        raise InvalidPeriod(f"{name}: end {end} before start {start}")
    period = HolidayPeriod(
        name=name.strip(),
        start=start,
        end=end,
        region=Region(region),
        makeup_workdays=";".join(sorted(d.isoformat() for d in makeup_workdays)),
    )
    db.session.add(period)
    db.session.flush()
    audit.record("holiday_added", period, after=period.snapshot())
    commit()
    return period


class HolidayInUse(ValueError):
    """Records (sealing) refer to the holiday period, so it cannot be deleted."""


def remove_holiday_period(period: HolidayPeriod) -> None:
    """Delete a holiday period entered in error (its campaign and rounds follow); refused
    while sealing records refer to it."""
    audit.record("holiday_removed", period, before=period.snapshot())
    db.session.delete(period)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise HolidayInUse(period.name) from None
    commit()


# --- spot checks ----------------------------------------------------------------


class UnknownRound(ValueError):
    """No campaign round starts on that day."""


class DrawExists(ValueError):
    """The round already has a draw: a redraw needs a stated reason."""


class SeedNotRevealed(ValueError):
    """The seed stays secret until the round has ended."""


def current_draw(round_start: date) -> SpotCheckDraw | None:
    return db.session.execute(
        select(SpotCheckDraw).where(
            SpotCheckDraw.round_start == round_start, SpotCheckDraw.superseded_at.is_(None)
        )
    ).scalar_one_or_none()


def _candidates() -> tuple[dict[str, list[str]], dict[str, Unit], dict[str, int]]:
    """In-use, publicly marked cars per jurisdiction (code → plates), with lookups."""
    jurisdictions = {u.id: u for u in db.session.execute(select(Unit)).scalars()}
    rows = db.session.execute(
        select(Vehicle.id, Vehicle.plate, Unit.jurisdiction_id)
        .join(Unit, Vehicle.unit_id == Unit.id)
        .where(Vehicle.status == Status.IN_USE, Vehicle.publicly_marked.is_(True))
    ).all()
    candidates: dict[str, list[str]] = {}
    vehicle_ids: dict[str, int] = {}
    for vehicle_id, plate, jurisdiction_id in rows:
        code = jurisdictions[jurisdiction_id].code
        candidates.setdefault(code, []).append(plate)
        vehicle_ids[plate] = vehicle_id
    by_code = {u.code: u for u in jurisdictions.values()}
    return candidates, by_code, vehicle_ids


def draw_spot_checks(
    round_key: str, per_jurisdiction: int, actor: User, redraw_reason: str | None = None
) -> SpotCheckDraw:
    """Commit to a random draw for a round: record the seed's hash and the candidate list,
    keep the seed encrypted, and hand each jurisdiction's list to another's team."""
    found = find_round(round_key)
    if found is None:
        raise UnknownRound(round_key)
    _, this_round = found
    previous = current_draw(this_round.start)
    if previous is not None:
        if not redraw_reason:
            raise DrawExists(round_key)
        previous.superseded_at = utcnow()
        previous.redraw_reason = redraw_reason.strip()
        audit.record(
            "spot_check_redrawn", previous, after={"reason": previous.redraw_reason}, actor=actor
        )
    candidates, units, vehicle_ids = _candidates()
    seed = secrets.token_bytes(32)
    canonical = canonical_candidates(candidates)
    teams = team_pairing(seed, sorted(candidates))
    draw = SpotCheckDraw(
        round_start=this_round.start,
        round_end=this_round.end,
        per_jurisdiction=per_jurisdiction,
        candidates=canonical,
        candidates_hash=sha256_hex(canonical),
        seed_hash=sha256_hex(seed),
        seed_enc=encrypt_contact(seed.hex()),
        drawn_by_id=actor.id,
    )
    db.session.add(draw)
    for code, plates in draw_lists(seed, candidates, per_jurisdiction).items():
        for rank, plate in enumerate(plates, start=1):
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
        "spot_check_drawn",
        draw,
        after={
            "round": round_key,
            "per_jurisdiction": per_jurisdiction,
            "seed_hash": draw.seed_hash,
            "candidates_hash": draw.candidates_hash,
        },
        actor=actor,
    )
    commit()
    return draw


def revealed_seed(draw: SpotCheckDraw, today: date) -> str | None:
    """The seed (hex), once the round has ended; None while it runs."""
    if today <= draw.round_end:
        return None
    return decrypt_contact(draw.seed_enc)


def verify_draw(draw: SpotCheckDraw, today: date) -> list[str]:
    """Re-run a revealed draw from its seed and candidate list; returns the discrepancies."""
    seed_hex = revealed_seed(draw, today)
    if seed_hex is None:
        raise SeedNotRevealed(draw.round_end.isoformat())
    seed = bytes.fromhex(seed_hex)
    problems = []
    if sha256_hex(seed) != draw.seed_hash:
        problems.append("the seed does not match the hash recorded before the round")
    if sha256_hex(draw.candidates) != draw.candidates_hash:
        problems.append("the candidate list does not match its recorded hash")
    candidates = json.loads(draw.candidates)
    expected = draw_lists(seed, candidates, draw.per_jurisdiction)
    teams = team_pairing(seed, sorted(candidates))
    actual: dict[str, list[str]] = {}
    actual_teams: dict[str, str] = {}
    for item in sorted(draw.items, key=lambda i: (i.jurisdiction.code, i.rank)):
        actual.setdefault(item.jurisdiction.code, []).append(item.vehicle.plate)
        actual_teams[item.jurisdiction.code] = item.team_jurisdiction.code
    if {k: v for k, v in expected.items() if v} != actual:
        problems.append("the drawn lists differ from a re-run of the draw")
    if any(actual_teams[code] != teams[code] for code in actual_teams):
        problems.append("the team pairing differs from a re-run of the draw")
    return problems


def record_spot_check(
    item: SpotCheckItem, result: str, note: str, actor: User, report_id: int | None = None
) -> None:
    """A team's finding for one drawn car (发现问题 comes with the report it opened)."""
    before = {"result": item.result, "note": item.note}
    item.result = SpotCheckResult(result)
    item.note = note.strip() or None
    item.recorded_at = utcnow()
    item.recorded_by_id = actor.id
    if report_id is not None:
        item.report_id = report_id
    audit.record(
        "spot_check_recorded",
        item,
        before=before,
        after={"result": item.result, "note": item.note, "report": item.report_id},
        actor=actor,
    )
    commit()
