"""Trip approvals (派车单) and holiday sealing (封存登记), each stamped with when it was entered."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..calendar.models import HolidayPeriod
from ..extensions import db
from ..fleet.models import Vehicle
from ..timeutil import UTCDateTime, utcnow

# The usual grounds for keeping a car on the road over a holiday; free text is allowed too.
EXEMPTION_REASONS = ("值班", "应急")


class TripApproval(db.Model):
    """One approved trip. `entered_at` matters: an approval entered after a report about the
    trip it covers is 补录, the classic cover-up."""

    __tablename__ = "trip_approval"
    __table_args__ = (Index("ix_trip_approval_vehicle_start", "vehicle_id", "start_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id"))
    purpose: Mapped[str] = mapped_column(String(200))
    destination: Mapped[str] = mapped_column(String(200), default="")
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    driver: Mapped[str] = mapped_column(String(60), default="")
    approver: Mapped[str] = mapped_column(String(60), default="")
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    vehicle: Mapped[Vehicle] = relationship(lazy="joined")
    entered_by: Mapped[User | None] = relationship()

    def snapshot(self) -> dict:
        return {
            "vehicle": self.vehicle.plate,
            "purpose": self.purpose,
            "destination": self.destination,
            "start_at": self.start_at.isoformat(),
            "end_at": self.end_at.isoformat(),
            "driver": self.driver,
            "approver": self.approver,
            "emergency": self.emergency,
        }


class Sealing(db.Model):
    """A car parked and sealed for a holiday period, or exempted (值班/应急) by an approver."""

    __tablename__ = "sealing"
    __table_args__ = (Index("ix_sealing_vehicle_period", "vehicle_id", "holiday_period_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id"))
    holiday_period_id: Mapped[int] = mapped_column(ForeignKey("holiday_period.id"))
    place: Mapped[str] = mapped_column(String(200), default="")
    key_holder: Mapped[str] = mapped_column(String(60), default="")
    exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    exemption_reason: Mapped[str] = mapped_column(String(200), default="")
    exemption_approver: Mapped[str] = mapped_column(String(60), default="")
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    vehicle: Mapped[Vehicle] = relationship(lazy="joined")
    holiday_period: Mapped[HolidayPeriod] = relationship(lazy="joined")
    entered_by: Mapped[User | None] = relationship()

    def snapshot(self) -> dict:
        return {
            "vehicle": self.vehicle.plate,
            "holiday": self.holiday_period.name,
            "holiday_start": self.holiday_period.start.isoformat(),
            "place": self.place,
            "key_holder": self.key_holder,
            "exempt": self.exempt,
            "exemption_reason": self.exemption_reason,
            "exemption_approver": self.exemption_approver,
        }
