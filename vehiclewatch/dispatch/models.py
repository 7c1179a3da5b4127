"""Trip approvals (派车单) and holiday sealing (封存登记), each stamped with when it was entered,
and every version of each: a correction or a withdrawal adds a version, nothing is overwritten
without a copy kept."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from ..auth.models import User
from ..calendar.models import HolidayPeriod
from ..extensions import db
from ..fleet.models import Vehicle
from ..timeutil import UTCDateTime, utcnow

# The usual grounds for keeping a car on the road over a holiday; free text is allowed too.
EXEMPTION_REASONS = ("值班", "应急")

# What each version records: the first entry, a correction, a withdrawal.
ENTERED, AMENDED, CANCELLED = "entered", "amended", "cancelled"


class Versioned:
    """The current state of a record that keeps its versions: `version` counts them,
    `amended_at` is when the latest correction was made (None: never corrected), and a
    withdrawn record keeps its last content with `cancelled_at` set. Only records that are not
    withdrawn count as evidence."""

    version: Mapped[int] = mapped_column(Integer, default=1)
    amended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class VersionRow:
    """One version of a record as it stood from `recorded_at`: who made it, why, and the
    content (the record's CONTENT columns, copied)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer)
    change: Mapped[str] = mapped_column(String(16))  # ENTERED, AMENDED or CANCELLED
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id"))

    @declared_attr
    def recorded_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("user_account.id"))

    @declared_attr
    def recorded_by(cls) -> Mapped[User | None]:
        return relationship()

    @declared_attr
    def vehicle(cls) -> Mapped[Vehicle]:
        return relationship(lazy="joined")

    @classmethod
    def of(cls, record, change: str, actor, at: datetime, reason: str = ""):
        """The version a record is now in, to be added beside it."""
        return cls(
            record_id=record.id,
            number=record.version,
            change=change,
            recorded_at=at,
            recorded_by_id=actor.id,
            reason=reason,
            **{name: getattr(record, name) for name in record.CONTENT},
        )


class TripApproval(Versioned, db.Model):
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
    versions: Mapped[list["TripApprovalVersion"]] = relationship(
        order_by="TripApprovalVersion.number", viewonly=True
    )

    CONTENT = (
        "vehicle_id",
        "purpose",
        "destination",
        "start_at",
        "end_at",
        "driver",
        "approver",
        "emergency",
    )

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


class Sealing(Versioned, db.Model):
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
    versions: Mapped[list["SealingVersion"]] = relationship(
        order_by="SealingVersion.number", viewonly=True
    )

    CONTENT = (
        "vehicle_id",
        "holiday_period_id",
        "place",
        "key_holder",
        "exempt",
        "exemption_reason",
        "exemption_approver",
    )

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


class TripApprovalVersion(VersionRow, db.Model):
    """One version of a trip approval: what it said, from when, by whom, and why."""

    __tablename__ = "trip_approval_version"
    __table_args__ = (
        UniqueConstraint("trip_approval_id", "number"),
        Index("ix_trip_approval_version_vehicle_start", "vehicle_id", "start_at"),
    )

    record_id: Mapped[int] = mapped_column("trip_approval_id", ForeignKey("trip_approval.id"))
    purpose: Mapped[str] = mapped_column(String(200))
    destination: Mapped[str] = mapped_column(String(200), default="")
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    driver: Mapped[str] = mapped_column(String(60), default="")
    approver: Mapped[str] = mapped_column(String(60), default="")
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)

    def covers(self, vehicle_id: int, moment: datetime) -> bool:
        return (
            self.change != CANCELLED
            and self.vehicle_id == vehicle_id
            and self.start_at <= moment <= self.end_at
        )


class SealingVersion(VersionRow, db.Model):
    """One version of a sealing record: what it said, from when, by whom, and why."""

    __tablename__ = "sealing_version"
    __table_args__ = (
        UniqueConstraint("sealing_id", "number"),
        Index("ix_sealing_version_vehicle", "vehicle_id"),
    )

    record_id: Mapped[int] = mapped_column("sealing_id", ForeignKey("sealing.id"))
    holiday_period_id: Mapped[int] = mapped_column(ForeignKey("holiday_period.id"))
    place: Mapped[str] = mapped_column(String(200), default="")
    key_holder: Mapped[str] = mapped_column(String(60), default="")
    exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    exemption_reason: Mapped[str] = mapped_column(String(200), default="")
    exemption_approver: Mapped[str] = mapped_column(String(60), default="")

    holiday_period: Mapped[HolidayPeriod] = relationship(lazy="joined")


VERSION_MODELS = {TripApproval: TripApprovalVersion, Sealing: SealingVersion}


def version_of(
    record: TripApproval | Sealing, change: str, actor, at: datetime, reason: str = ""
) -> TripApprovalVersion | SealingVersion:
    """The version a record is now in (after its `version` was counted), to add beside it."""
    return VERSION_MODELS[type(record)].of(record, change, actor, at, reason)
