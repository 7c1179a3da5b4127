"""Campaign rounds (每周一督) with their spot-check draws (exactly what the public
spot-check pages show) and their published bulletins."""

import json
from datetime import datetime

from flask_babel import gettext as _
from flask_smorest import Blueprint
from sqlalchemy import select

from ..bulletins import queries as bulletin_queries
from ..bulletins.models import Bulletin
from ..calendar.rounds import Campaign, Round, find_round
from ..campaigns import services as spot_checks
from ..campaigns.models import SpotCheckDraw
from ..extensions import db
from ..timeutil import local_zone
from . import guard
from .bulletins import bulletin_link
from .links import absolute
from .problems import Problem
from .schemas import RoundDetailOut, RoundList

ROUND_KEY_PARAMETER = {
    "in": "path",
    "name": "key",
    "required": True,
    "schema": {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    "description": "the round's first day",
}

blp = Blueprint(
    "rounds",
    __name__,
    description="轮次与随机抽查（reports:read）: each round of a campaign, its spot-check "
    "draws with exactly what the public spot-check pages show (the commitment at once, the "
    "seed and candidate list once the round has ended) and its published bulletins.",
)


def _today():
    return datetime.now(local_zone()).date()


def _draw(draw: SpotCheckDraw, revealed: bool) -> dict:
    found = {
        "id": draw.id,
        "round": draw.round_start,
        "round_end": draw.round_end,
        "drawn_at": draw.drawn_at,
        "per_jurisdiction": draw.per_jurisdiction,
        "seed_hash": draw.seed_hash,
        "candidates_hash": draw.candidates_hash,
        "public_source": draw.public_source,
        "public_value": draw.public_value,
        "public_value_at": draw.public_value_at,
        "superseded_at": draw.superseded_at,
        "redraw_reason": draw.redraw_reason,
        "page_url": absolute("campaigns.public_draw", draw_id=draw.id),
    }
    if revealed:
        published = spot_checks.published_draw(draw, _today())
        if published is not None:
            published["lists"] = json.loads(published["lists"])
            published["teams"] = json.loads(published["teams"])
        found["revealed"] = published
    return found


def _round(campaign: Campaign, found: Round, draws, published, revealed=False) -> dict:
    return {
        "key": found.key,
        "start": found.start,
        "end": found.end,
        "number": found.number,
        "campaign": {
            "name": campaign.name,
            "start": campaign.start,
            "end": campaign.end,
            "holidays": list(dict.fromkeys(campaign.holidays)),
        },
        "url": absolute("rounds.get_round", key=found.key),
        "reports_url": absolute("reports.list_reports", round=found.key),
        "draws": [_draw(d, revealed) for d in draws if d.round_start == found.start],
        "bulletins": [bulletin_link(b) for b in published if b.round_start == found.start],
    }


def _draws(*conditions) -> list[SpotCheckDraw]:
    return list(
        db.session.execute(
            select(SpotCheckDraw).where(*conditions).order_by(SpotCheckDraw.id)
        ).scalars()
    )


def _published(*conditions) -> list[Bulletin]:
    query = bulletin_queries.published(*conditions).order_by(Bulletin.id)
    return list(db.session.execute(query).scalars())


@blp.route("", methods=["GET"])
@guard.scope_required("reports:read")
@blp.response(200, RoundList)
def list_rounds():
    """Every round of every campaign, newest first, with its draws' commitments and its
    published bulletins (campaigns follow the holiday data, so there are few)."""
    draws, published = _draws(), _published()
    return {
        "items": [_round(c, r, draws, published) for c, r in bulletin_queries.rounds_newest_first()]
    }


@blp.route("/<key>", methods=["GET"], parameters=[ROUND_KEY_PARAMETER])
@guard.scope_required("reports:read")
@blp.etag
@blp.response(200, RoundDetailOut)
def get_round(key):
    """One round; its draws carry the seed, public value and candidate list once the round
    has ended, as the public verification page does."""
    found = find_round(key)
    if found is None:
        raise Problem(404, "round_not_found", _("没有这一轮次。"))
    campaign, the_round = found
    draws = _draws(SpotCheckDraw.round_start == the_round.start)
    published = _published(Bulletin.round_start == the_round.start)
    return _round(campaign, the_round, draws, published, revealed=True)
