"""/healthz, /readyz and /metrics: no login, no rate limit, no personal data, and not in the
request log; /metrics only for the addresses in VEHICLEWATCH_METRICS_ALLOW."""

import ipaddress
import logging

from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlalchemy import text

from .. import logs, metrics
from ..auth.access import public
from ..extensions import db, limiter
from ..reports.photostore import counting_errors, photo_store
from .gauges import database_gauges

bp = Blueprint("ops", __name__)
# Probes and scrapes come every few seconds: the request log leaves them out.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


@bp.get("/healthz")
@public
@limiter.exempt
def healthz():
    """The process answers."""
    return jsonify(status="ok")


def _database() -> None:
    db.session.execute(text("SELECT 1"))


def _rate_limit_store() -> None:
    storage = limiter.storage
    if storage is None or not storage.check():
        raise ConnectionError("the rate-limit store does not answer")


def _photo_store() -> None:
    with counting_errors("check"):
        photo_store().check()


CHECKS = {"database": _database, "rate_limit_store": _rate_limit_store, "photo_store": _photo_store}


@bp.get("/readyz")
@public
@limiter.exempt
def readyz():
    """The database, the rate-limit store and the photo store all answer; 503 if not."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:
            db.session.rollback()
            logs.event(
                "readiness_check_failed", logging.WARNING, check=name, error=type(exc).__name__
            )
            results[name] = "unavailable"
    ready = all(value == "ok" for value in results.values())
    return jsonify(status="ok" if ready else "unavailable", checks=results), 200 if ready else 503


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    configured = str(current_app.config["METRICS_ALLOW"] or "")
    return [ipaddress.ip_network(part.strip()) for part in configured.split(",") if part.strip()]


@bp.get("/metrics")
@public
@limiter.exempt
def scrape():
    """Prometheus text format, for the allowed addresses only (404 for anyone else)."""
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        abort(404)
    if not any(address in network for network in allowed_networks()):
        abort(404)
    body, content_type = metrics.exposition(database_gauges)
    return Response(body, content_type=content_type)
