"""Signing secrets and signatures. A subscription's secret is derived from a random salt it
stores and VEHICLEWATCH_SECRET_KEY, so a copy of the database holds no secret (changing the
key changes every secret, as it voids every API token). A body is signed with HMAC-SHA256
over "<unix time>.<body>"."""

import base64
import hashlib
import hmac
import secrets
import time

from flask import current_app

SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "VehicleWatch-Signature"
EVENT_ID_HEADER = "VehicleWatch-Event-Id"
EVENT_TYPE_HEADER = "VehicleWatch-Event-Type"
# What receivers are told to accept (README "Webhooks"): older signatures are replays.
REPLAY_WINDOW_SECONDS = 300


def new_salt() -> str:
    return secrets.token_hex(32)


def secret_for(salt: str) -> str:
    """The subscription's signing secret (shown once at creation, recomputed to sign)."""
    key = hmac.new(
        str(current_app.config["SECRET_KEY"]).encode(), b"vehiclewatch webhook", hashlib.sha256
    ).digest()
    digest = hmac.new(key, salt.encode(), hashlib.sha256).digest()
    return SECRET_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """`t=<unix>,v1=<hex>`: the time of sending, and the HMAC of that time and the body."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *, now: float | None = None) -> bool:
    """What a receiver does (README): the signature matches and is not older than the
    replay window (nor from the future by more)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > REPLAY_WINDOW_SECONDS:
        return False
    return hmac.compare_digest(parts.get("v1", ""), signature(secret, timestamp, body))
