"""Bulletins (通报) and their typical cases (典型问题)."""

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Unit, User
from ..extensions import db
from ..timeutil import UTCDateTime, utcnow


class BulletinStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    PUBLISHED = "published"


STATUS_LABELS = {
    BulletinStatus.DRAFT: _l("草稿"),
    BulletinStatus.APPROVED: _l("已审定，待发布"),
    BulletinStatus.PUBLISHED: _l("已发布"),
}


class Bulletin(db.Model):
    """One commission's bulletin for one round: a city leader issues the city-wide one, a
    county leader their county's."""

    __tablename__ = "bulletin"
    __table_args__ = (UniqueConstraint("round_start", "jurisdiction_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_start: Mapped[date] = mapped_column(Date)
    # Kept, so the printed dates stay put if the holiday data is edited later.
    round_end: Mapped[date] = mapped_column(Date)
    # The issuing commission's jurisdiction (the city or a county); figures use its scope.
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=BulletinStatus.DRAFT, index=True)
    # None while a draft (figures are computed live); the frozen copy from approval on.
    figures_json: Mapped[str | None] = mapped_column(Text)
    drafted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    drafted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # The audit log at approval (its entry count and head hash): an anchor printed on the
    # bulletin, so anyone who kept a copy can check the log was not rewritten since.
    audit_count: Mapped[int | None] = mapped_column(BigInteger)
    audit_head: Mapped[str | None] = mapped_column(String(64))
    # Optimistic lock: two officers editing one draft cannot silently overwrite each other.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    jurisdiction: Mapped[Unit] = relationship()
    drafted_by: Mapped[User] = relationship(foreign_keys=[drafted_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    cases: Mapped[list["BulletinCase"]] = relationship(
        back_populates="bulletin",
        order_by="BulletinCase.position",
        cascade="all, delete-orphan",
    )

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[BulletinStatus(self.status)])

    @property
    def is_draft(self) -> bool:
        return self.status == BulletinStatus.DRAFT

    @property
    def issuer(self) -> str:
        """The deciding and issuing body: the jurisdiction's 纪委监委."""
        return commission_name(self.jurisdiction)

    @property
    def audit_anchor(self) -> str | None:
        """`COUNT:HASH` as `vehiclewatch audit verify --anchor` takes it."""
        return f"{self.audit_count}:{self.audit_head}" if self.audit_head else None

    def snapshot(self) -> dict:
        return {
            "round_start": self.round_start.isoformat(),
            "jurisdiction": self.jurisdiction_id,
            "title": self.title,
            "status": self.status,
            "cases": [case.snapshot() for case in self.cases],
            "version": self.version,
        }


class BulletinCase(db.Model):
    """A typical case (典型问题) as printed: drafted from a report, then edited as text."""

    __tablename__ = "bulletin_case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletin.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    unit_name: Mapped[str] = mapped_column(String(120))
    # The person's post (职务), typed by the officer; reports never record it.
    person_position: Mapped[str] = mapped_column(String(120), default="")
    occurred_on: Mapped[date] = mapped_column(Date)
    plate: Mapped[str] = mapped_column(String(20), default="")
    what_happened: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(120))
    deciding_body: Mapped[str] = mapped_column(String(120))
    source_report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"))

    bulletin: Mapped[Bulletin] = relationship(back_populates="cases")

    def snapshot(self) -> dict:
        return {
            "unit_name": self.unit_name,
            "person_position": self.person_position,
            "occurred_on": self.occurred_on.isoformat(),
            "plate": self.plate,
            "what_happened": self.what_happened,
            "outcome": self.outcome,
            "deciding_body": self.deciding_body,
            "source_report": self.source_report_id,
        }


def commission_name(jurisdiction: Unit) -> str:
    return f"{jurisdiction.name}纪委监委"
