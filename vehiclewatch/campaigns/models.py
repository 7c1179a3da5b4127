"""The spot checks (随机抽查) of each round: the committed draw and each drawn car's result."""

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Unit
from ..extensions import db
from ..fleet.models import Vehicle
from ..timeutil import UTCDateTime, utcnow


class SpotCheckResult(StrEnum):
    SEALED_IN_PLACE = "sealed_in_place"
    HAS_DISPATCH = "has_dispatch"
    NORMAL = "normal"
    PROBLEM = "problem"


SPOT_CHECK_RESULT_LABELS = {
    SpotCheckResult.SEALED_IN_PLACE: _l("在位封存"),
    SpotCheckResult.HAS_DISPATCH: _l("有派车单"),
    SpotCheckResult.NORMAL: _l("未见异常"),
    SpotCheckResult.PROBLEM: _l("发现问题"),
}


class SpotCheckDraw(db.Model):
    """A round's random draw (随机抽查), committed to before anyone can see it.

    The seed's hash, the candidate list's hash and the public draw to be used (e.g. a named
    national lottery draw) are published at the draw; the lists are made only once a second
    officer enters that draw's public value, from the seed and the value together. The seed
    itself is kept encrypted and published after the round, when anyone can re-run the draw.
    """

    __tablename__ = "spot_check_draw"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_start: Mapped[date] = mapped_column(Date, index=True)
    round_end: Mapped[date] = mapped_column(Date)
    per_jurisdiction: Mapped[int] = mapped_column(Integer)
    # {jurisdiction code: [plates, sorted]} as canonical JSON, and its SHA-256.
    candidates: Mapped[str] = mapped_column(Text)
    candidates_hash: Mapped[str] = mapped_column(String(64))
    seed_hash: Mapped[str] = mapped_column(String(64))
    seed_enc: Mapped[str] = mapped_column(Text)
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # A redraw replaces the current draw of a round; both stay, and the reason is shown.
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redraw_reason: Mapped[str | None] = mapped_column(String(200))
    # The public draw named in the commitment, and its value once a second officer enters it
    # (both empty on draws made before public values were mixed in: the seed alone ranked).
    public_source: Mapped[str | None] = mapped_column(String(200))
    public_value: Mapped[str | None] = mapped_column(String(200))
    public_value_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    public_value_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    @property
    def sealed(self) -> bool:
        """Committed, but its lists wait for the public value."""
        return self.public_source is not None and self.public_value is None

    items: Mapped[list["SpotCheckItem"]] = relationship(
        back_populates="draw", order_by="SpotCheckItem.id"
    )


class SpotCheckItem(db.Model):
    """One drawn vehicle, the team that checks it, and what the team found."""

    __tablename__ = "spot_check_item"
    __table_args__ = (Index("ix_spot_check_item_team", "team_jurisdiction_id", "draw_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("spot_check_draw.id"), index=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id"))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    team_jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    rank: Mapped[int] = mapped_column(Integer)
    result: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"))

    draw: Mapped[SpotCheckDraw] = relationship(back_populates="items")
    vehicle: Mapped[Vehicle] = relationship()
    jurisdiction: Mapped[Unit] = relationship(foreign_keys=[jurisdiction_id])
    team_jurisdiction: Mapped[Unit] = relationship(foreign_keys=[team_jurisdiction_id])
