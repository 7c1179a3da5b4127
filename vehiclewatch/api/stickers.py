"""Stickers of the token's cars: status and history, the live sticker as PNG or SVG, reissue."""

from flask import Response
from flask_babel import gettext as _
from flask_smorest import Blueprint

from ..fleet import printing, stickers
from ..fleet.guards import VehicleRetired
from ..stickertext import StickerTextError
from . import guard
from .problems import Problem
from .schemas import EXTERNAL_ID_PARAMETER, IDEMPOTENCY_PARAMETER, Reason, StickerStatus
from .vehicles import vehicle_or_404

blp = Blueprint("stickers", __name__, description="监督码（stickers:read、stickers:write）")


def _status(vehicle) -> dict:
    return {
        "external_id": vehicle.external_id,
        "plate": vehicle.plate,
        "live": vehicle.live_sticker,
        "history": vehicle.stickers,
    }


@blp.route("/<external_id>", methods=["GET"], parameters=[EXTERNAL_ID_PARAMETER])
@guard.scope_required("stickers:read")
@blp.etag
@blp.response(200, StickerStatus)
def sticker_status(external_id):
    """The car's live sticker (null when it has none) and every earlier one."""
    return _status(vehicle_or_404(external_id))


def _image(external_id: str, fmt: str) -> Response:
    sticker = vehicle_or_404(external_id).live_sticker
    if sticker is None:
        raise Problem(404, "no_live_sticker", _("该车辆没有有效的监督码。"))
    try:
        data, mimetype, filename = printing.sticker_image(sticker, fmt)
    except StickerTextError as exc:
        # The installation cannot print its configured languages (no Tibetan font, a text
        # without its translation): the operator's to fix, the same for every caller.
        raise Problem(503, "sticker_languages_unprintable", str(exc)) from None
    return Response(
        data, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={filename}"}
    )


def _image_doc(mimetype: str) -> dict:
    content = {mimetype: {"schema": {"type": "string", "format": "binary"}}}
    return {"responses": {"200": {"description": "the live sticker", "content": content}}}


@blp.route("/<external_id>/sticker.png", methods=["GET"], parameters=[EXTERNAL_ID_PARAMETER])
@guard.scope_required("stickers:read")
@blp.doc(**_image_doc("image/png"))
def sticker_png(external_id):
    """The live sticker as a PNG, for printing elsewhere."""
    return _image(external_id, "png")


@blp.route("/<external_id>/sticker.svg", methods=["GET"], parameters=[EXTERNAL_ID_PARAMETER])
@guard.scope_required("stickers:read")
@blp.doc(**_image_doc("image/svg+xml"))
def sticker_svg(external_id):
    """The live sticker as an SVG."""
    return _image(external_id, "svg")


@blp.route("/<external_id>/reissue", methods=["POST"], parameters=[EXTERNAL_ID_PARAMETER])
@guard.scope_required("stickers:write")
@guard.idempotent
@blp.arguments(Reason)
@blp.response(200, StickerStatus)
@blp.doc(parameters=[IDEMPOTENCY_PARAMETER])
def reissue(body, external_id):
    """Void the printed sticker and issue a new one (it needs printing and replacing)."""
    vehicle = vehicle_or_404(external_id)
    try:
        stickers.reissue_sticker(vehicle, body["reason"], actor=guard.actor())
    except (stickers.NoLiveSticker, stickers.ConfidentialVehicle, VehicleRetired):
        raise Problem(409, "no_live_sticker", _("该车辆没有可补发的监督码。")) from None
    return _status(vehicle)
