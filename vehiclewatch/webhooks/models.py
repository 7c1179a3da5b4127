"""Subscriptions, the outbox of events, one delivery per event and subscription, and the log
of every attempt."""

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..auth.tokens import ApiToken
from ..extensions import db
from ..timeutil import UTCDateTime, utcnow

REPORT_FILED = "report.filed"
REPORT_STATE_CHANGED = "report.state_changed"
BULLETIN_PUBLISHED = "bulletin.published"
EVENT_TYPES = (REPORT_FILED, REPORT_STATE_CHANGED, BULLETIN_PUBLISHED)
# Events about a report carry case data: the token must read reports, and the report must be
# in its unit's case scope.
REPORT_EVENTS = frozenset({REPORT_FILED, REPORT_STATE_CHANGED})


class DeliveryStatus:
    PENDING = "pending"
    DELIVERED = "delivered"
    # Given up after the last attempt; a redeliver starts again.
    FAILED = "failed"
    # Not sent: the subscription was disabled or its token revoked before its turn.
    CANCELLED = "cancelled"


class Subscription(db.Model):
    """A token's wish to be told of some events at a URL, signed with its own secret."""

    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[list] = mapped_column(JSON)
    # The signing secret is derived from this salt and VEHICLEWATCH_SECRET_KEY (signing.py):
    # shown once, never stored.
    secret_salt: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    token: Mapped[ApiToken] = relationship(lazy="joined")
    created_by: Mapped[User | None] = relationship()

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    def snapshot(self) -> dict:
        return {"token": self.token.name, "url": self.url, "events": sorted(self.events)}


class Event(db.Model):
    """The outbox: one row per event, inserted in the transaction of the change it tells of.
    The worker fans it out to the subscriptions (deliveries) and fixes its body then."""

    __tablename__ = "webhook_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The report or bulletin it is about, and the unit that decides who may hear of it: the
    # report's unit, the bulletin's issuing jurisdiction.
    subject_id: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    # The facts known in the transaction; no personal data is ever put here.
    data: Mapped[dict] = mapped_column(JSON)
    # The JSON every delivery sends (the same bytes each time), fixed at fan-out.
    body: Mapped[str | None] = mapped_column(Text)
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The worker's fan-out reads the events not yet fanned out, oldest first.
Index(
    "ix_webhook_event_unfanned",
    Event.id,
    sqlite_where=text("fanned_out_at IS NULL"),
    postgresql_where=text("fanned_out_at IS NULL"),
)


class Delivery(db.Model):
    """One event to one subscription: pending until delivered, or failed after the last
    attempt. Claimed by a worker by moving `next_attempt_at` past the request's timeout."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("event_id", "subscription_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_event.id"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscription.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(300))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event] = relationship(lazy="joined")
    subscription: Mapped[Subscription] = relationship()
    attempt_log: Mapped[list["Attempt"]] = relationship(
        back_populates="delivery", order_by="Attempt.id"
    )


# The worker's claim: pending deliveries whose time has come, earliest first.
Index(
    "ix_webhook_delivery_due",
    Delivery.next_attempt_at,
    sqlite_where=text("status = 'pending'"),
    postgresql_where=text("status = 'pending'"),
)


class Attempt(db.Model):
    """The delivery log: each POST, its answer (or the error) and how long it took."""

    __tablename__ = "webhook_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_delivery.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(300))
    duration_ms: Mapped[int] = mapped_column(Integer)

    delivery: Mapped[Delivery] = relationship(back_populates="attempt_log")
