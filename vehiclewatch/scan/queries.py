"""Public look-ups: a sticker by token or short code, a vehicle by plate.

Confidential vehicles are invisible here: every look-up answers for them exactly as
for something that does not exist.
"""

import re

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..fleet.models import Sticker, Vehicle
from ..fleet.plates import InvalidPlate, normalise_plate
from ..inputs import nfkc


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
    compact = re.sub(r"[\s\-–—]+", "", nfkc(text)).upper()
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
