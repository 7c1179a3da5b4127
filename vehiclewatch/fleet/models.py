"""Vehicles and their categories and statuses."""

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
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
        }
