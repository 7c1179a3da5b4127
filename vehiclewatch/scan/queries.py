"""Public look-ups: a sticker by token or short code, a vehicle by plate.

Confidential vehicles are invisible here: every look-up answers for them exactly as
for something that does not exist.
"""

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..fleet.models import Sticker, Vehicle
from ..fleet.plates import InvalidPlate, normalise_plate, plate_without_province


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
