"""Units (the organisation tree) and staff accounts."""

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import UTCDateTime, utcnow


class UnitKind(StrEnum):
    CITY = "city"
    COUNTY = "county"
    DEPARTMENT = "department"


UNIT_KIND_LABELS = {
    UnitKind.CITY: _l("市"),
    UnitKind.COUNTY: _l("县（区）"),
    UnitKind.DEPARTMENT: _l("部门"),
}


class Unit(db.Model):
    """A node of the unit tree (市 → 市直单位 / 县区 → 部门)."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    # Materialised path of codes ("/city/cg/cg-ga/") for subtree queries.
    path: Mapped[str] = mapped_column(String(500), index=True)
    # Nearest county ancestor (itself included), or the city for 市直 units.
    jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    # Whose officers review reports on this unit's cars: the jurisdiction, or the
    # level above for escalated units (回避).
    oversight_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)

    parent: Mapped["Unit | None"] = relationship(
        remote_side="Unit.id", foreign_keys=[parent_id], lazy="joined", join_depth=1
    )
    jurisdiction: Mapped["Unit | None"] = relationship(
        remote_side="Unit.id", foreign_keys=[jurisdiction_id], viewonly=True
    )

    @property
    def kind_label(self) -> str:
        return str(UNIT_KIND_LABELS[UnitKind(self.kind)])

    def __repr__(self) -> str:
        return f"<Unit {self.code}>"


class Role(StrEnum):
    SYSADMIN = "sysadmin"
    FLEET_ADMIN = "fleet_admin"
    OFFICER = "officer"
    LEADER = "leader"


ROLE_LABELS = {
    Role.SYSADMIN: _l("系统管理员"),
    Role.FLEET_ADMIN: _l("车管员"),
    Role.OFFICER: _l("纪检监察干部"),
    Role.LEADER: _l("分管领导"),
}


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    can_reveal_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The TOTP secret, encrypted with the contact keys; the last time step accepted (a code
    # is never accepted twice).
    totp_secret_enc: Mapped[str | None] = mapped_column(String(255))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship(lazy="joined")
    # The server-side session this request runs in (set by the session loader).
    staff_session = None

    def get_id(self) -> str | None:
        return self.staff_session.token if self.staff_session else None

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def role_label(self) -> str:
        return str(ROLE_LABELS[Role(self.role)])

    @property
    def sees_cases(self) -> bool:
        return self.role in CASE_ROLES

    @property
    def totp_enrolled(self) -> bool:
        return self.totp_secret_enc is not None


CASE_ROLES = frozenset({Role.OFFICER, Role.LEADER})


class LoginThrottle(db.Model):
    """Login attempts per typed username within the current window, kept in the database so
    every worker sees them; an attempt is counted (atomically) before it is checked."""

    __tablename__ = "login_throttle"

    username: Mapped[str] = mapped_column(String(60), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffSession(db.Model):
    """One login: ended by logout, by a change to the account, by its owner, by the idle
    timeout or by its absolute lifetime. Keeps a coarse device label, never an address."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The cookie carries the token; the table only its SHA-256.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    device: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(40))

    user: Mapped[User] = relationship()
    # The plain token, known only in the request that created the session.
    token = None


class RecoveryCode(db.Model):
    """A one-time code that stands in for a TOTP code; only its hash is kept."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AccountChange(db.Model):
    """A change by the system admin that opens case content (a case-seeing role, the reveal
    right, a unit that moves case scope, a password or TOTP reset of a case-seeing account;
    a unit moved or (un)escalated): it waits here until a leader of the affected unit
    confirms it. Its subject is an account or a unit."""

    __tablename__ = "account_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    subject_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    # The jurisdiction whose leader confirms.
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    # What takes effect: {"role", "unit_id", "can_reveal_contact", "active",
    # "password_hash", "reset_totp"}, or for a unit {"parent_id", "escalated"} (only the
    # keys that change).
    changes: Mapped[dict] = mapped_column(JSON)
    summary: Mapped[list] = mapped_column(JSON)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed: Mapped[bool | None] = mapped_column(Boolean)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    subject_unit: Mapped[Unit | None] = relationship(foreign_keys=[subject_unit_id])
    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])

    @property
    def subject(self) -> str:
        return self.user.username if self.user else self.subject_unit.name

    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
