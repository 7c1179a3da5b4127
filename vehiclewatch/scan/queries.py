"""Public look-ups: a sticker by token or short code, a vehicle by plate.

Confidential vehicles are invisible here: every look-up answers for them exactly as
for something that does not exist.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Date, bindparam, select
from sqlalchemy.orm import contains_eager

from ..auth.models import Unit
from ..dispatch.queries import sealed_condition
from ..extensions import db
from ..fleet.models import Sticker, Vehicle
from ..fleet.plates import InvalidPlate, normalise_plate


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
    page a crowd opens at once)."""
    row = db.session.execute(_SCAN_CARD, {"token": token.upper(), "today": today}).first()
    return ScanCard(*row) if row else None


def sticker_by_token(token: str) -> Sticker | None:
    """The sticker with this token (upper- or lower-case), if its car is publicly marked."""
    return db.session.execute(
        select(Sticker)
        .join(Sticker.vehicle)
        .options(contains_eager(Sticker.vehicle))  # the page shows the car: one query, not two
        .where(Sticker.token == token.upper(), Vehicle.publicly_marked.is_(True))
    ).scalar_one_or_none()


def live_sticker_by_code_or_plate(text: str) -> Sticker | None:
    """A short code as printed (dash, spaces and case ignored), else a plate."""
    compact = re.sub(r"[\s\-–—]+", "", text or "").upper()
    query = (
        select(Sticker)
        .join(Sticker.vehicle)
        .where(Sticker.revoked_at.is_(None), Vehicle.publicly_marked.is_(True))
    )
    if len(compact) == 8 and compact.isascii():
        found = db.session.execute(query.where(Sticker.short_code == compact)).scalar_one_or_none()
        if found is not None:
            return found
    try:
        plate = normalise_plate(text)
    except InvalidPlate:
        return None
    return db.session.execute(query.where(Vehicle.plate == plate)).scalar_one_or_none()
