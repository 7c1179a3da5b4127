"""Public look-ups: a sticker by token or short code, a vehicle by plate.

Confidential vehicles are invisible here: every look-up answers for them exactly as
for something that does not exist.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Date, bindparam, func, select
from sqlalchemy.orm import contains_eager

from ..auth.models import Unit
from ..dispatch.queries import sealed_condition
from ..extensions import db
from ..fleet.models import Sticker, Vehicle
from ..fleet.plates import InvalidPlate, normalise_plate, plate_without_province


@dataclass(frozen=True)
class ScanCard:
    """What the page a scanned sticker opens shows: plain values, read in one query."""

    token: str
    revoked_at: datetime | None
    plate: str
    unit_name: str
    category: str
    status: str
    brand_model: str
    colour: str
    sealed_now: bool

    @property
    def live(self) -> bool:
        return self.revoked_at is None

    category_label = Vehicle.category_label  # the same labels the car's own pages show
    status_label = Vehicle.status_label


# Built once: composing the statement cost as much as running it.
_SCAN_CARD = (
    select(
        Sticker.token,
        Sticker.revoked_at,
        Vehicle.plate,
        Unit.name,
        Vehicle.category,
        Vehicle.status,
        Vehicle.brand_model,
        Vehicle.colour,
        sealed_condition(Vehicle.id, bindparam("today", type_=Date)),
    )
    .join(Vehicle, Sticker.vehicle_id == Vehicle.id)
    .join(Unit, Vehicle.unit_id == Unit.id)
    .where(Sticker.token == bindparam("token"), Vehicle.publicly_marked.is_(True))
)


def scan_card(token: str, today: date) -> ScanCard | None:
    """The scan page of this token (upper- or lower-case), if its car is publicly marked:
    sticker, car, unit and today's sealing in one query, without loading ORM objects (the
    page a crowd opens at once): run on a pooled connection of its own, which skips the
    session's transaction and the ORM's result handling (half the cost of the look-up)."""
    params = {"token": token.upper(), "today": today}
    with db.engine.connect() as connection:
        row = connection.execute(_SCAN_CARD, params).first()
    return ScanCard(*row) if row else None


def sticker_by_token(token: str) -> Sticker | None:
    """The sticker with this token (upper- or lower-case), if its car is publicly marked."""
    return db.session.execute(
        select(Sticker)
        .join(Sticker.vehicle)
        .options(contains_eager(Sticker.vehicle))  # the page shows the car: one query, not two
        .where(Sticker.token == token.upper(), Vehicle.publicly_marked.is_(True))
    ).scalar_one_or_none()


@dataclass(frozen=True)
class Lookup:
    """What a typed short code or plate found: the car's live sticker, a revoked sticker (an
    old code, answered as its scan is), or nothing; and whether the text was a plate."""

    sticker: Sticker | None = None
    by_plate: bool = False

    @property
    def revoked(self) -> bool:
        return self.sticker is not None and not self.sticker.live


def lookup(text: str) -> Lookup:
    """A short code as printed (dash, spaces, case and full-width forms ignored), else a
    plate, with or without its province character (then only if one publicly marked car of
    the deployment has it). Confidential cars are never found."""
    text = unicodedata.normalize("NFKC", text or "")
    compact = re.sub(r"[\s\-–—]+", "", text).upper()
    public = select(Sticker).join(Sticker.vehicle).where(Vehicle.publicly_marked.is_(True))
    if len(compact) == 8 and compact.isascii():
        by_code = db.session.execute(
            public.where(Sticker.short_code == compact)
        ).scalar_one_or_none()
        if by_code is not None:
            return Lookup(by_code)
    live = public.where(Sticker.revoked_at.is_(None))
    try:
        plate = normalise_plate(text)
    except InvalidPlate:
        bare = plate_without_province(text)
        if bare is None:
            return Lookup()
        found = (
            db.session.execute(
                live.where(func.substr(func.replace(Vehicle.plate, "·", ""), 2) == bare).limit(2)
            )
            .scalars()
            .all()
        )
        return Lookup(found[0] if len(found) == 1 else None, by_plate=True)
    found = db.session.execute(live.where(Vehicle.plate == plate)).scalar_one_or_none()
    return Lookup(found, by_plate=True)
