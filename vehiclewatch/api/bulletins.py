"""Published bulletins (通报), as their public pages show them; drafts and approved bulletins
not yet published do not exist here."""

from dataclasses import asdict

from flask_smorest import Blueprint
from marshmallow import RAISE

from ..bulletins import queries
from ..bulletins.models import Bulletin, BulletinStatus
from . import guard
from .links import absolute
from .paging import page
from .schemas import BulletinDetailOut, BulletinPage, ListArgs

# Named apart from the public pages' blueprint, served under /api/v1/bulletins.
blp = Blueprint(
    "api_bulletins",
    __name__,
    url_prefix="/api/v1/bulletins",
    description="通报（any working token）: published bulletins only, as on the public "
    "pages; drafts and approved bulletins not yet published do not exist here.",
)


def bulletin_link(bulletin: Bulletin) -> dict:
    return {
        "id": bulletin.id,
        "url": absolute("api_bulletins.get_bulletin", bulletin_id=bulletin.id),
        "title": bulletin.title,
        "doc_number": bulletin.doc_number,
        "jurisdiction": bulletin.jurisdiction.code,
    }


def _bulletin(bulletin: Bulletin) -> dict:
    corrected_by = bulletin.corrected_by
    return bulletin_link(bulletin) | {
        "page_url": absolute("bulletins.page", bulletin_id=bulletin.id),
        "pdf_url": absolute("bulletins.pdf", bulletin_id=bulletin.id),
        "issuer": bulletin.issuer,
        "round": bulletin.round_start,
        "round_end": bulletin.round_end,
        "published_at": bulletin.published_at,
        "corrects": bulletin.corrects_id,
        "corrected_by": corrected_by.id
        if corrected_by is not None and corrected_by.status == BulletinStatus.PUBLISHED
        else None,
    }


@blp.route("", methods=["GET"])
@guard.token_required
@blp.arguments(ListArgs, location="query", unknown=RAISE)
@blp.response(200, BulletinPage)
def list_bulletins(args):
    """Published bulletins, in id order (the order they were drafted)."""
    found = page(queries.published(), Bulletin.id, args)
    found["items"] = [_bulletin(b) for b in found["items"]]
    return found


@blp.route("/<int:bulletin_id>", methods=["GET"])
@guard.token_required
@blp.etag
@blp.response(200, BulletinDetailOut)
def get_bulletin(bulletin_id):
    """One published bulletin as its public page shows it: figures, typical cases, the
    audit anchor at approval; a draft or an approved bulletin not yet published is 404."""
    bulletin = queries.published_or_404(bulletin_id)
    return _bulletin(bulletin) | {
        "correction_note": bulletin.correction_note,
        "figures": asdict(queries.bulletin_figures(bulletin)),
        "cases": bulletin.cases,  # as printed; CaseOut leaves out the source report
        "audit_anchor": bulletin.audit_anchor,
    }
