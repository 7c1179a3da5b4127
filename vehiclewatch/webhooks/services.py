"""The system admin's writes: subscribe a token to events at a URL, disable a subscription,
deliver an event again. Each one transaction, audited."""

import ipaddress
from urllib.parse import urlsplit

from sqlalchemy import select

from .. import audit
from ..auth.tokens import ApiToken
from ..extensions import db
from ..timeutil import utcnow
from ..transaction import atomic
from . import signing
from .models import EVENT_TYPES, REPORT_EVENTS, Delivery, DeliveryStatus, Subscription

MAX_URL_LENGTH = 500
# Report events carry case data: only a token that reads reports (confirmed by a leader).
REPORTS_SCOPE = "reports:read"


class InvalidTarget(ValueError):
    """The URL is not https (plain http only to this machine), has no host, or carries a
    user name or password."""


class UnknownEvent(ValueError):
    """An event type that does not exist, or none at all."""


class ScopeMissing(ValueError):
    """Report events need a token with the reports:read scope."""


class TokenRevoked(ValueError):
    """A revoked token gets no new subscription."""


class NotRedeliverable(Exception):
    """The delivery's subscription is disabled, or its token revoked."""


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_target(url: str) -> str:
    """HTTPS, or HTTP to this machine (a receiver on the same host, a test): a payload and its
    signature never cross a network in clear."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise InvalidTarget(url) from None
    if len(url) > MAX_URL_LENGTH or not host or parts.username or parts.password:
        raise InvalidTarget(url)
    if parts.scheme == "https" or (parts.scheme == "http" and _loopback(host)):
        return url
    raise InvalidTarget(url)


@atomic()
def create_subscription(
    token: ApiToken, url: str, events: list[str], *, actor: audit.Actor
) -> tuple[Subscription, str]:
    """Subscribe a token to events at a URL; returns it with its signing secret, which is
    shown this once."""
    url = check_target(url)
    if not events or not set(events) <= set(EVENT_TYPES):
        raise UnknownEvent(", ".join(sorted(set(events) - set(EVENT_TYPES))))
    if token.revoked_at is not None:
        raise TokenRevoked(token.name)
    if REPORT_EVENTS & set(events) and REPORTS_SCOPE not in token.scopes:
        raise ScopeMissing(REPORTS_SCOPE)
    subscription = Subscription(
        token=token,
        url=url,
        events=sorted(set(events)),
        secret_salt=signing.new_salt(),
        created_by_id=actor.id,
    )
    db.session.add(subscription)
    db.session.flush()
    audit.record("webhook_subscribed", subscription, after=subscription.snapshot(), actor=actor)
    return subscription, signing.secret_for(subscription.secret_salt)


@atomic()
def disable_subscription(subscription: Subscription, *, actor: audit.Actor) -> None:
    """Stop a subscription: nothing more is sent to it, pending deliveries included."""
    if subscription.disabled_at is not None:
        return
    subscription.disabled_at = utcnow()
    audit.record("webhook_disabled", subscription, before=subscription.snapshot(), actor=actor)


@atomic()
def redeliver(delivery: Delivery, *, actor: audit.Actor) -> None:
    """Send an event again, with the same event id and body, from a fresh count of attempts
    (a receiver that lost it, or one that failed every attempt)."""
    subscription = delivery.subscription
    if not subscription.active or subscription.token.revoked_at is not None:
        raise NotRedeliverable()
    before = {"status": delivery.status, "attempts": delivery.attempts}
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.delivered_at = None
    audit.record(
        "webhook_redelivered",
        delivery,
        before=before,
        after={"event": delivery.event.event_id, "subscription": subscription.id},
        actor=actor,
    )


def subscriptions_of(token: ApiToken) -> list[Subscription]:
    return list(
        db.session.execute(
            select(Subscription).where(Subscription.token_id == token.id).order_by(Subscription.id)
        ).scalars()
    )


def recent_deliveries(subscription: Subscription, limit: int = 100) -> list[Delivery]:
    """The delivery log's page: the newest deliveries with their attempts."""
    return list(
        db.session.execute(
            select(Delivery)
            .where(Delivery.subscription_id == subscription.id)
            .order_by(Delivery.id.desc())
            .limit(limit)
        ).scalars()
    )
