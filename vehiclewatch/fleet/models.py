"""Vehicles and their categories and statuses."""

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Unit
from ..extensions import db
from ..timeutil import UTCDateTime, utcnow


class Category(StrEnum):
    CONFIDENTIAL_COMMS = "confidential_comms"
    EMERGENCY = "emergency"
    LAW_ENFORCEMENT = "law_enforcement"
    SPECIAL_TECHNICAL = "special_technical"
    OTHER = "other"


CATEGORY_LABELS = {
    Category.CONFIDENTIAL_COMMS: _l("机要通信用车"),
    Category.EMERGENCY: _l("应急保障用车"),
    Category.LAW_ENFORCEMENT: _l("执法执勤用车"),
    Category.SPECIAL_TECHNICAL: _l("特种专业技术用车"),
    Category.OTHER: _l("其他按规定配备用车"),
}


class Status(StrEnum):
    IN_USE = "in_use"
    REPAIR = "repair"
    DISPOSED = "disposed"


STATUS_LABELS = {
    Status.IN_USE: _l("在用"),
    Status.REPAIR: _l("维修"),
    Status.DISPOSED: _l("已处置"),
}


class Vehicle(db.Model):
    __tablename__ = "vehicle"
    __table_args__ = (Index("ix_vehicle_unit_status", "unit_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plate: Mapped[str] = mapped_column(String(16), unique=True)
    # The fleet platform's own key for the car (the integration API), so that a new plate
    # is an update, not a new car.
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    category: Mapped[str] = mapped_column(String(30))
    brand_model: Mapped[str] = mapped_column(String(80), default="")
    colour: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(20), default=Status.IN_USE)
    # Confidential cars (国家安全、侦查办案) carry no sticker and are never shown publicly.
    publicly_marked: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    unit: Mapped[Unit] = relationship(lazy="joined")
    stickers: Mapped[list["Sticker"]] = relationship(
        back_populates="vehicle", order_by="Sticker.generation"
    )

    @property
    def live_sticker(self) -> "Sticker | None":
        return next((s for s in self.stickers if s.revoked_at is None), None)

    @property
    def category_label(self) -> str:
        return str(CATEGORY_LABELS[Category(self.category)])

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[Status(self.status)])

    def snapshot(self) -> dict:
        return {
            "plate": self.plate,
            "unit": self.unit.code if self.unit else None,
            "category": self.category,
            "brand_model": self.brand_model,
            "colour": self.colour,
            "status": self.status,
            "publicly_marked": self.publicly_marked,
        } | ({"external_id": self.external_id} if self.external_id else {})


class Sticker(db.Model):
    """A printed 监督码. One live (unrevoked) sticker per vehicle; revoked ones are kept."""

    __tablename__ = "sticker"
    __table_args__ = (Index("ix_sticker_vehicle_live", "vehicle_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id"))
    # Upper-case base32 from `secrets`: unguessable, and QR alphanumeric-mode friendly.
    token: Mapped[str] = mapped_column(String(32), unique=True)
    # For typing by hand when a camera fails; no ambiguous characters.
    short_code: Mapped[str] = mapped_column(String(12), unique=True)
    generation: Mapped[int] = mapped_column(Integer)
    # The exact address encoded in the code (the public base URL at issue time).
    url: Mapped[str] = mapped_column(String(300))
    # The QR module matrix (rows of 0/1, no quiet zone), computed once at issue.
    qr_modules: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(String(200))
    needs_reprint: Mapped[bool] = mapped_column(Boolean, default=False)
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    vehicle: Mapped[Vehicle] = relationship(back_populates="stickers")

    @property
    def live(self) -> bool:
        return self.revoked_at is None

    @property
    def display_code(self) -> str:
        return f"{self.short_code[:4]}-{self.short_code[4:]}"
