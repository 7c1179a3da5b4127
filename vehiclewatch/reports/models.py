"""Reports, their photos and their timeline."""

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Unit, User
from ..extensions import db
from ..fleet.models import Sticker, Vehicle
from ..timeutil import UTCDateTime, utcnow
from .states import WORKING_STATES


class Category(StrEnum):
    PRIVATE_USE = "private_use"
    WEDDING_FUNERAL = "wedding_funeral"
    TOURISM = "tourism"
    ENTERTAINMENT = "entertainment"
    HOLIDAY_UNSEALED = "holiday_unsealed"
    IMPROPER_DRIVING = "improper_driving"
    LENDING = "lending"
    NO_DISPATCH = "no_dispatch"
    MARKING = "marking"
    TRAFFIC = "traffic"
    OTHER = "other"


CATEGORY_LABELS = {
    Category.PRIVATE_USE: _l("公车私用（办私事、接送家人）"),
    Category.WEDDING_FUNERAL: _l("婚丧喜庆用车"),
    Category.TOURISM: _l("公车旅游/出入景区"),
    Category.ENTERTAINMENT: _l("出入娱乐场所/高档餐饮/农家乐"),
    Category.HOLIDAY_UNSEALED: _l("节假日未封存/违规出车"),
    Category.IMPROPER_DRIVING: _l("违规驾驶（酒驾、非指定驾驶员）"),
    Category.LENDING: _l("公车外借"),
    Category.NO_DISPATCH: _l("无派车单/超范围用车"),
    Category.MARKING: _l("标识问题（遮挡、损毁、码与车牌不符）"),
    Category.TRAFFIC: _l("交通违法（转交警）"),
    Category.OTHER: _l("其他"),
}


class Source(StrEnum):
    SCAN = "scan"
    MANUAL = "manual"
    CALL_LETTER = "call_letter"
    INSPECTION = "inspection"


SOURCE_LABELS = {
    Source.SCAN: _l("扫码"),
    Source.MANUAL: _l("手工录入"),
    Source.CALL_LETTER: _l("来电来信"),
    Source.INSPECTION: _l("检查发现"),
}


class Report(db.Model):
    __tablename__ = "report"
    __table_args__ = (
        # The officers' queue: scope by unit, filter by state, rank by stored score.
        Index("ix_report_vehicle_seen", "vehicle_id", "seen_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle.id"))
    sticker_id: Mapped[int | None] = mapped_column(ForeignKey("sticker.id"))
    # The plate as typed when there was no sticker, normalised when possible.
    typed_plate: Mapped[str | None] = mapped_column(String(20))
    # Whose officers see it: the car's unit, or the city when the car is unknown.
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    # A cross-check team that filed it (检查发现) keeps reading it, though it is not theirs.
    reader_jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The campaign round (每周一督) seen_at falls in, named by its first day; None outside.
    round_start: Mapped[date | None] = mapped_column(Date, index=True)
    place: Mapped[str] = mapped_column(String(200), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    category: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text, default="")
    # None: not asked (no sticker was scanned).
    plate_matches: Mapped[bool | None] = mapped_column(Boolean)
    real_name: Mapped[bool] = mapped_column(Boolean, default=False)
    # Fernet tokens (MultiFernet keys from configuration); never stored in clear.
    reporter_name_enc: Mapped[str | None] = mapped_column(Text)
    reporter_phone_enc: Mapped[str | None] = mapped_column(Text)
    # Keyed hashes only: the receipt itself is shown once and never stored.
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Which receipt key made receipt_hash (protection.receipt_key_id): old keys can be
    # retired once no report names them (`vehiclewatch keys receipt-status`).
    receipt_key: Mapped[str] = mapped_column(String(16), index=True)
    submission_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(20), default=Source.SCAN)
    state: Mapped[str] = mapped_column(String(20), index=True)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    score: Mapped[int] = mapped_column(Integer, default=0)
    score_details: Mapped[str] = mapped_column(Text, default="{}")
    # Any hard evidence of misuse (plate mismatch, sealed car, no covering dispatch, 补录).
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    # Filed while the car had many reports within the hour (reports.bursts): kept and shown
    # as a group, without corroboration either way.
    burst: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Officer-side facts, set only through reports.workflow.transition().
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    method: Mapped[str | None] = mapped_column(String(30))
    finding: Mapped[str | None] = mapped_column(String(30))
    outcome: Mapped[str | None] = mapped_column(String(30))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    transferred_to: Mapped[str | None] = mapped_column(String(120))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"))
    public_reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    objected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a real-name reporter was told whether the report was accepted (15 working days).
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Retention (reports.retention): a leader's hold suspends purging; the purge dates say
    # what was deleted, so pages show 已按保存期限删除 where it was.
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    contacts_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    photos_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optimistic lock: two officers acting at once cannot silently overwrite each other.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    vehicle: Mapped[Vehicle | None] = relationship()
    sticker: Mapped[Sticker | None] = relationship()
    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    assigned_to: Mapped[User | None] = relationship()
    photos: Mapped[list["ReportPhoto"]] = relationship(
        back_populates="report", order_by="ReportPhoto.id"
    )
    events: Mapped[list["ReportEvent"]] = relationship(
        back_populates="report", order_by="ReportEvent.id"
    )

    @property
    def plate(self) -> str:
        return self.vehicle.plate if self.vehicle else (self.typed_plate or "")

    @property
    def category_label(self) -> str:
        return str(CATEGORY_LABELS[Category(self.category)])


# The queue's order (score high first, then oldest) so the first page needs no sort.
Index(
    "ix_report_unit_state_queue",
    Report.unit_id,
    Report.state,
    Report.score.desc(),
    Report.created_at,
)
Index("ix_report_state_queue", Report.state, Report.score.desc(), Report.created_at)
# The queue's default view, the reports still being worked on, in the queue's order. The
# condition is literal SQL, so a query spelling the same text can use the partial index on
# SQLite too (bound parameters would not match); migration 0018 spells the same list.
WORKING_CONDITION = "state IN ({})".format(
    ", ".join(f"'{s.value}'" for s in sorted(WORKING_STATES))
)
Index(
    "ix_report_working_queue",
    Report.score.desc(),
    Report.created_at,
    Report.id,
    sqlite_where=text(WORKING_CONDITION),
    postgresql_where=text(WORKING_CONDITION),
)
# The dashboard's counts by category within a scope read this index alone.
Index("ix_report_unit_category", Report.unit_id, Report.category)


class ReportPhoto(db.Model):
    __tablename__ = "report_photo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    # Random file names under the instance's photo folder, never under static/.
    evidence_name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), unique=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    source_format: Mapped[str] = mapped_column(String(10))
    # Evidence only officers see; removed from every served copy.
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="photos")


class ReportEvent(db.Model):
    """The timeline: every state change, addition, objection and reply."""

    __tablename__ = "report_event"
    # Reports changed since a moment (the integration API's updated-since) read this alone.
    __table_args__ = (Index("ix_report_event_at", "at", "report_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Shown to the reporter on /track (a reply, a rejection reason); None for internal steps.
    public_text: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)

    report: Mapped[Report] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
