"""Sticker sheets for a selection of cars: first print issues missing stickers."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from .. import audit
from ..auth.models import Unit
from ..auth.scope import in_fleet_scope, subtree_ids, unscoped
from ..extensions import db
from ..fonts import Font, cjk_font, tibetan_font
from ..stickertext import Wording, wording
from ..timeutil import utcnow
from ..transaction import atomic
from .artwork import sticker_png, sticker_svg
from .layouts import DEFAULT_LAYOUT
from .models import Status, Sticker, Vehicle
from .sheets import NO_TIBETAN_FONT, NoTibetanFont, SheetResult, StickerFace, write_sheet
from .stickers import issue_missing_stickers


@dataclass(frozen=True)
class Selection:
    """Which vehicles a sticker sheet is for: a unit's subtree, the print queue (live stickers
    never printed or marked "needs reprint"), chosen vehicles, or any combination (all of
    them must hold)."""

    unit_id: int | None = None
    needs_reprint: bool = False
    vehicle_ids: tuple[int, ...] = ()


class NothingToPrint(ValueError):
    """The selection holds no vehicle that can carry a sticker."""


def selected_vehicle_ids(selection: Selection, actor: audit.Actor):
    """The eligible (publicly marked, not disposed) vehicles of a selection, within scope."""
    query = select(Vehicle.id).where(
        Vehicle.publicly_marked.is_(True), Vehicle.status != Status.DISPOSED
    )
    if not unscoped(actor):
        query = query.where(in_fleet_scope(actor, Vehicle.unit_id))
    if selection.unit_id:
        unit = db.session.get(Unit, selection.unit_id)
        query = query.where(Vehicle.unit_id.in_(subtree_ids(unit)))
    if selection.vehicle_ids:
        query = query.where(Vehicle.id.in_(selection.vehicle_ids))
    if selection.needs_reprint:
        flagged = select(Sticker.vehicle_id).where(
            Sticker.revoked_at.is_(None),
            or_(Sticker.needs_reprint.is_(True), Sticker.printed_at.is_(None)),
        )
        query = query.where(Vehicle.id.in_(flagged))
    return query


@dataclass(frozen=True)
class StickerStyle:
    """How this installation prints stickers: in which languages, with which fonts, and
    whether each label carries the draft mark."""

    wording: Wording
    font: Font
    tibetan_font: Font | None


def sticker_style(*, allow_unreviewed: bool = False) -> StickerStyle:
    """The style the settings ask for. Tibetan needs its font and every sticker text's
    translation; until a reviewer has marked all of them reviewed, each label says 翻译未审核
    unless the caller or VEHICLEWATCH_STICKER_ALLOW_UNREVIEWED allows unreviewed text."""
    config = current_app.config
    chosen = wording(
        config["STICKER_LANGUAGES"],
        allow_unreviewed=allow_unreviewed or bool(config["STICKER_ALLOW_UNREVIEWED"]),
    )
    tibetan = None
    if chosen.bilingual:
        tibetan = tibetan_font(config.get("TIBETAN_FONT_PATH"))
        if tibetan is None:
            raise NoTibetanFont(_(NO_TIBETAN_FONT))
    return StickerStyle(chosen, cjk_font(config.get("CJK_FONT_PATH")), tibetan)


def _faces(vehicle_ids) -> Iterator[StickerFace]:
    rows = db.session.execute(
        select(Vehicle.plate, Unit.name, Sticker.short_code, Sticker.url, Sticker.qr_modules)
        .join(Unit, Vehicle.unit_id == Unit.id)
        .join(Sticker, Sticker.vehicle_id == Vehicle.id)
        .where(Sticker.revoked_at.is_(None), Vehicle.id.in_(vehicle_ids))
        .order_by(Unit.path, Vehicle.plate)
        .execution_options(yield_per=500)
    )
    for row in rows:
        yield _face(*row)


def _face(plate: str, unit_name: str, short_code: str, url: str, modules: str) -> StickerFace:
    matrix = [[c == "1" for c in row] for row in modules.split("\n")]
    return StickerFace(plate, unit_name, f"{short_code[:4]}-{short_code[4:]}", url, matrix)


def sticker_face(sticker: Sticker) -> StickerFace:
    """What one printed sticker shows."""
    vehicle = sticker.vehicle
    return _face(
        vehicle.plate, vehicle.unit.name, sticker.short_code, sticker.url, sticker.qr_modules
    )


def print_stickers(
    selection: Selection,
    out: BinaryIO,
    *,
    layout: str = DEFAULT_LAYOUT,
    start: int = 1,
    back: bool = False,
    allow_unreviewed: bool = False,
    actor: audit.Actor,
) -> SheetResult:
    """Write the selection's sticker sheet as a PDF. Vehicles without a sticker get their
    first one; a live sticker is never reissued, and no token changes."""
    style = sticker_style(allow_unreviewed=allow_unreviewed)
    ids = selected_vehicle_ids(selection, actor)
    with atomic():
        issue_missing_stickers(ids, actor=actor)
        result = write_sheet(
            out,
            _faces(ids),
            layout=layout,
            start=start,
            hotline_local=current_app.config["HOTLINE_LOCAL"],
            back=back,
            font=style.font,
            wording=style.wording,
            tibetan_font=style.tibetan_font,
        )
        if result.stickers == 0:
            raise NothingToPrint()
        db.session.execute(
            update(Sticker)
            .where(Sticker.revoked_at.is_(None), Sticker.vehicle_id.in_(ids))
            .values(needs_reprint=False, printed_at=utcnow())
        )
        audit.record(
            "stickers_printed",
            object_type="sticker",
            after={
                "count": result.stickers,
                "layout": layout,
                "start": start,
                "unit_id": selection.unit_id,
                "needs_reprint": selection.needs_reprint,
                "vehicle_ids": list(selection.vehicle_ids),
                "languages": "bo,zh" if style.wording.bilingual else "zh",
                "draft": result.draft,
            },
            actor=actor,
        )
    return result


STICKER_FORMATS = {"png": "image/png", "svg": "image/svg+xml"}


def sticker_image(sticker: Sticker, fmt: str) -> tuple[bytes, str, str]:
    """One sticker as a PNG or SVG in this installation's style: its bytes, media type and a
    file name. StickerTextError when the configured languages cannot be printed."""
    face = sticker_face(sticker)
    hotline = current_app.config["HOTLINE_LOCAL"]
    style = sticker_style()
    if fmt == "png":
        data = sticker_png(
            face, hotline, style.font, wording=style.wording, tibetan_font=style.tibetan_font
        )
    else:
        data = sticker_svg(face, hotline, style.wording, style.tibetan_font).encode("utf-8")
    return data, STICKER_FORMATS[fmt], f"sticker-{sticker.short_code}-{sticker.generation}.{fmt}"
