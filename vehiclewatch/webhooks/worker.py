"""The delivery worker: fan new events out to the subscriptions that may hear of them, claim
the deliveries that are due, POST each signed, log every attempt, retry with exponential
backoff up to a cap. Several workers share the work: a claim locks with SKIP LOCKED on
PostgreSQL (SQLite's write transaction admits one claimer at a time) and moves the
delivery's next attempt past the request's timeout, so no other worker takes it meanwhile."""

import http.client
import json
import signal
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from .. import logs
from ..auth.models import Unit, UnitKind
from ..auth.scope import officers_case_unit_ids
from ..auth.tokens import ApiToken
from ..extensions import db
from ..timeutil import utcnow
from ..transaction import atomic
from . import signing
from .models import (
    REPORT_EVENTS,
    Attempt,
    Delivery,
    DeliveryStatus,
    Event,
    Subscription,
)
from .services import REPORTS_SCOPE

USER_AGENT = "vehiclewatch-webhooks/1"
# A claimed delivery is another worker's again this long after its request's timeout (the
# claimer died mid-request): the receiver may then see it twice, with the same event id.
LEASE_MARGIN_SECONDS = 60
BATCH = 20


@dataclass(frozen=True)
class Job:
    """One POST to make, read in the claim's transaction."""

    delivery_id: int
    number: int
    url: str
    body: bytes
    secret: str
    event_id: str
    event_type: str


def _timestamp(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _body(event: Event) -> str:
    """The JSON every delivery of the event sends: the facts recorded with it, the unit's
    code and links (the API's and the page's)."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    unit_code = db.session.get(Unit, event.unit_id).code
    if event.type in REPORT_EVENTS:
        subject = "report"
        facts = event.data | {
            "unit": unit_code,
            "url": f"{base}/api/v1/reports/{event.subject_id}",
            "page_url": f"{base}/review/reports/{event.subject_id}",
        }
    else:
        subject = "bulletin"
        facts = event.data | {
            "jurisdiction": unit_code,
            "url": f"{base}/api/v1/bulletins/{event.subject_id}",
            "page_url": f"{base}/bulletins/{event.subject_id}",
        }
    payload = {
        "id": event.event_id,
        "type": event.type,
        "occurred_at": _timestamp(event.occurred_at),
        subject: facts,
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class _Audience:
    """Who may hear of an event: the report's unit in the token unit's case scope (the rule
    of that unit's officers' queue) for report events; for a bulletin, tokens of its issuing
    jurisdiction, and every token for the city's (a city token hears of every bulletin)."""

    def __init__(self):
        self._case_units: dict[int, set[int]] = {}

    def _case_scope(self, token: ApiToken) -> set[int]:
        if token.id not in self._case_units:
            ids = db.session.execute(officers_case_unit_ids(token.unit))
            self._case_units[token.id] = set(ids.scalars())
        return self._case_units[token.id]

    def hears(self, subscription: Subscription, event: Event) -> bool:
        token = subscription.token
        if event.type not in subscription.events or subscription.created_at > event.occurred_at:
            return False
        if event.type in REPORT_EVENTS:
            return REPORTS_SCOPE in token.scopes and event.unit_id in self._case_scope(token)
        issuing = db.session.get(Unit, event.unit_id)
        jurisdiction = token.unit.jurisdiction
        return UnitKind.CITY in (issuing.kind, jurisdiction.kind) or issuing.id == jurisdiction.id


def _working_subscriptions() -> list[Subscription]:
    return list(
        db.session.execute(
            select(Subscription)
            .join(ApiToken, Subscription.token_id == ApiToken.id)
            .where(
                Subscription.disabled_at.is_(None),
                ApiToken.revoked_at.is_(None),
                ApiToken.confirmed_at.is_not(None),
            )
        ).scalars()
    )


def fan_out(limit: int = 100) -> int:
    """Turn events not yet fanned out into deliveries; returns how many events it took."""
    with atomic():
        events = (
            db.session.execute(
                select(Event)
                .where(Event.fanned_out_at.is_(None))
                .order_by(Event.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            .scalars()
            .all()
        )
        if not events:
            return 0
        subscriptions, audience, now = _working_subscriptions(), _Audience(), utcnow()
        for event in events:
            for subscription in subscriptions:
                if audience.hears(subscription, event):
                    db.session.add(
                        Delivery(event_id=event.id, subscription=subscription, next_attempt_at=now)
                    )
            event.body = _body(event)
            event.fanned_out_at = now
    return len(events)


def _still_wanted(delivery: Delivery) -> bool:
    subscription = delivery.subscription
    token = subscription.token
    return subscription.active and token.revoked_at is None and token.confirmed_at is not None


def claim(limit: int = BATCH) -> list[Job]:
    """Take the due deliveries no other worker holds; each counts an attempt now and is held
    (its next attempt moved past the timeout) until its result is recorded."""
    config = current_app.config
    now = utcnow()
    lease = timedelta(seconds=config["WEBHOOK_TIMEOUT_SECONDS"] + LEASE_MARGIN_SECONDS)
    jobs = []
    with atomic():
        ids = (
            db.session.execute(
                select(Delivery.id)
                .where(Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now)
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            .scalars()
            .all()
        )
        for delivery_id in ids:
            delivery = db.session.get(Delivery, delivery_id)
            if not _still_wanted(delivery):
                delivery.status = DeliveryStatus.CANCELLED
                continue
            delivery.attempts += 1
            delivery.next_attempt_at = now + lease
            jobs.append(
                Job(
                    delivery.id,
                    delivery.attempts,
                    delivery.subscription.url,
                    delivery.event.body.encode(),
                    signing.secret_for(delivery.subscription.secret_salt),
                    delivery.event.event_id,
                    delivery.event.type,
                )
            )
    return jobs


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer like any other non-2xx: the body goes nowhere else."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post(job: Job, timeout: float) -> tuple[int | None, str | None]:
    """POST the body signed now; returns the status code (None without an answer) and an
    error for anything but a 2xx."""
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        signing.EVENT_ID_HEADER: job.event_id,
        signing.EVENT_TYPE_HEADER: job.event_type,
        signing.SIGNATURE_HEADER: signing.signature_header(job.secret, job.body),
    }
    request = urllib.request.Request(job.url, data=job.body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(4096)
            return response.status, None
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code, f"HTTP {exc.code}"
    except urllib.error.URLError as exc:
        return None, str(exc.reason)[:300]
    except (OSError, http.client.HTTPException) as exc:
        return None, (str(exc) or type(exc).__name__)[:300]


def backoff(attempts: int) -> timedelta:
    """The wait after the given number of failed attempts: doubling, up to the cap."""
    config = current_app.config
    seconds = config["WEBHOOK_RETRY_SECONDS"] * 2 ** (attempts - 1)
    return timedelta(seconds=min(seconds, config["WEBHOOK_RETRY_MAX_SECONDS"]))


@atomic()
def record(job: Job, status_code: int | None, error: str | None, duration_ms: int) -> None:
    """Log the attempt and settle the delivery: delivered, retried later, or failed."""
    db.session.execute(select(Delivery.id).where(Delivery.id == job.delivery_id).with_for_update())
    delivery = db.session.get(Delivery, job.delivery_id, populate_existing=True)
    db.session.add(
        Attempt(
            delivery_id=delivery.id,
            number=job.number,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
        )
    )
    delivery.last_status_code, delivery.last_error = status_code, error
    if error is None:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = utcnow()
    elif delivery.attempts >= current_app.config["WEBHOOK_MAX_ATTEMPTS"]:
        delivery.status = DeliveryStatus.FAILED
    else:
        delivery.next_attempt_at = utcnow() + backoff(delivery.attempts)


@atomic()
def release(jobs: list[Job]) -> None:
    """Give back claimed deliveries not tried (the worker is stopping): due again at once."""
    for job in jobs:
        db.session.execute(
            update(Delivery)
            .where(Delivery.id == job.delivery_id, Delivery.attempts == job.number)
            .values(attempts=job.number - 1, next_attempt_at=utcnow())
        )


def deliver_due(stopping: threading.Event | None = None) -> int:
    """Claim one batch and send it; returns how many were claimed."""
    jobs = claim()
    timeout = current_app.config["WEBHOOK_TIMEOUT_SECONDS"]
    for index, job in enumerate(jobs):
        if stopping is not None and stopping.is_set():
            release(jobs[index:])
            break
        started = time.monotonic()
        status_code, error = post(job, timeout)
        duration_ms = int((time.monotonic() - started) * 1000)
        record(job, status_code, error, duration_ms)
        logs.event(
            "webhook_attempt",
            delivery=job.delivery_id,
            event=job.event_id,
            attempt=job.number,
            status=status_code if status_code is not None else "-",
            ok=error is None,
            ms=duration_ms,
        )
    return len(jobs)


def run(*, once: bool, interval: float) -> None:
    """Fan out and deliver until SIGTERM or SIGINT (the request in flight is finished and
    logged first); with `once`, until nothing is due."""
    stopping = threading.Event()

    def stop(signum, frame):
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    logs.event("webhooks_worker_started", once=once)
    try:
        while not stopping.is_set():
            busy = fan_out() + deliver_due(stopping)
            db.session.remove()
            if not busy:
                if once:
                    break
                stopping.wait(interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        logs.event("webhooks_worker_stopped")
