"""Units (the organisation tree) and staff accounts."""

import secrets
from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
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


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


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
    # Flask-Login's id; replaced at logout-everywhere and password change, which
    # ends every session that carried the old one.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship(lazy="joined")

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def role_label(self) -> str:
        return str(ROLE_LABELS[Role(self.role)])


class LoginFailure(db.Model):
    """Failed logins per account, kept in the database so every worker sees them."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(60))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
