"""Issuing and revoking stickers: one live sticker a publicly marked car, history kept."""

import base64
import secrets

from flask import current_app
from sqlalchemy import func, insert, select

from .. import audit
from ..extensions import db
from ..timeutil import utcnow
from ..transaction import atomic
from .guards import VehicleRetired, check_scope
from .models import Status, Sticker, Vehicle
from .qr import compute_modules, sticker_url

SHORT_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
SHORT_CODE_LENGTH = 8
TOKEN_BYTES = 15  # 120 bits: 24 base32 characters, no padding


class ConfidentialVehicle(ValueError):
    """A confidential (not publicly marked) vehicle never gets a sticker."""


class StickerAlreadyIssued(ValueError):
    """The vehicle already has a live sticker: reissue it instead."""


class NoLiveSticker(ValueError):
    """There is no live sticker to reissue."""


def new_token() -> str:
    return base64.b32encode(secrets.token_bytes(TOKEN_BYTES)).decode("ascii")


def new_short_code() -> str:
    return "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))


def _unique_short_code() -> str:
    while True:
        code = new_short_code()
        if not db.session.execute(select(Sticker.id).where(Sticker.short_code == code)).first():
            return code


def _sticker_snapshot(sticker: Sticker) -> dict:
    return {
        "vehicle": sticker.vehicle.plate,
        "short_code": sticker.short_code,
        "generation": sticker.generation,
        "revoked_at": sticker.revoked_at,
        "revoke_reason": sticker.revoke_reason,
    }


def _issue(vehicle: Vehicle, actor: audit.Actor) -> Sticker:
    if not vehicle.publicly_marked:
        raise ConfidentialVehicle(vehicle.plate)
    if vehicle.status == Status.DISPOSED:
        raise VehicleRetired(vehicle.plate)
    if vehicle.live_sticker is not None:
        raise StickerAlreadyIssued(vehicle.plate)
    token = new_token()
    url = sticker_url(current_app.config["PUBLIC_BASE_URL"], token)
    sticker = Sticker(
        vehicle=vehicle,
        token=token,
        short_code=_unique_short_code(),
        generation=max((s.generation for s in vehicle.stickers), default=0) + 1,
        url=url,
        qr_modules=compute_modules(url),
    )
    db.session.add(sticker)
    db.session.flush()
    audit.record("sticker_issued", sticker, after=_sticker_snapshot(sticker), actor=actor)
    return sticker


def revoke(sticker: Sticker, reason: str, actor: audit.Actor) -> None:
    before = _sticker_snapshot(sticker)
    sticker.revoked_at = utcnow()
    sticker.revoke_reason = reason
    audit.record(
        "sticker_revoked", sticker, before=before, after=_sticker_snapshot(sticker), actor=actor
    )


@atomic()
def issue_sticker(vehicle: Vehicle, *, actor: audit.Actor) -> Sticker:
    """Give a vehicle its first (or, after a revocation, its next) sticker."""
    check_scope(vehicle.unit_id, actor)
    return _issue(vehicle, actor)


@atomic()
def reissue_sticker(vehicle: Vehicle, reason: str, *, actor: audit.Actor) -> Sticker:
    """Revoke the live sticker (keeping it in the history) and issue a new one."""
    check_scope(vehicle.unit_id, actor)
    live = vehicle.live_sticker
    if live is None:
        raise NoLiveSticker(vehicle.plate)
    revoke(live, reason, actor)
    return _issue(vehicle, actor)


ISSUE_BATCH = 500  # stickers written (and audited) per INSERT on a first print


def _free_short_codes(count: int) -> list[str]:
    """count distinct short codes that no sticker has: one look-up per round of draws."""
    codes: set[str] = set()
    while len(codes) < count:
        drawn = {new_short_code() for _ in range(count - len(codes))} - codes
        taken = db.session.execute(
            select(Sticker.short_code).where(Sticker.short_code.in_(drawn))
        ).scalars()
        codes |= drawn - set(taken)
    return list(codes)


def _issue_batch(vehicles: list[tuple[int, str]], actor: audit.Actor) -> None:
    """First (or next) stickers for these (id, plate) vehicles: one INSERT, one audit entry."""
    ids = [vehicle_id for vehicle_id, _plate in vehicles]
    last_generation = dict(
        db.session.execute(
            select(Sticker.vehicle_id, func.max(Sticker.generation))
            .where(Sticker.vehicle_id.in_(ids))
            .group_by(Sticker.vehicle_id)
        ).all()
    )
    base_url = current_app.config["PUBLIC_BASE_URL"]
    now = utcnow()
    rows = []
    codes = _free_short_codes(len(vehicles))
    for (vehicle_id, _plate), short_code in zip(vehicles, codes, strict=True):
        url = sticker_url(base_url, new_token())
        rows.append(
            {
                "vehicle_id": vehicle_id,
                "token": url.rsplit("/", 1)[1],
                "short_code": short_code,
                "generation": last_generation.get(vehicle_id, 0) + 1,
                "url": url,
                "qr_modules": compute_modules(url),
                "issued_at": now,
                "needs_reprint": False,
            }
        )
    db.session.execute(insert(Sticker), rows)
    audit.record(
        "stickers_issued",
        object_type="sticker",
        after={
            "count": len(rows),
            "stickers": [
                {"vehicle": plate, "short_code": row["short_code"], "generation": row["generation"]}
                for (_vehicle_id, plate), row in zip(vehicles, rows, strict=True)
            ],
        },
        actor=actor,
    )


@atomic()
def issue_missing_stickers(vehicle_ids, *, actor: audit.Actor) -> int:
    """Issue first stickers to the eligible vehicles among these that have none; never
    reissues. Written in batches, each with one audit entry naming its stickers."""
    has_live = select(Sticker.vehicle_id).where(Sticker.revoked_at.is_(None))
    vehicles = db.session.execute(
        select(Vehicle.id, Vehicle.plate)
        .where(
            Vehicle.id.in_(vehicle_ids),
            Vehicle.publicly_marked.is_(True),
            Vehicle.status != Status.DISPOSED,
            Vehicle.id.not_in(has_live),
        )
        .order_by(Vehicle.id)
    ).all()
    for start in range(0, len(vehicles), ISSUE_BATCH):
        _issue_batch([tuple(v) for v in vehicles[start : start + ISSUE_BATCH]], actor)
    return len(vehicles)
