"""Per request: an id (answered in X-Request-ID and carried by every log line), the
metrics, and one log line — with the route template, never the path, which may hold a
sticker token."""

import logging
import re
import secrets
import time

from flask import Flask, g, request

from .. import logs, metrics
from .views import QUIET_PATHS

# nginx's $request_id, passed on by the site file as X-Request-ID.
PROXY_REQUEST_ID = re.compile(r"[0-9a-f]{32}")


def _route() -> str:
    return request.url_rule.rule if request.url_rule is not None else "<unmatched>"


def init_app(app: Flask) -> None:
    trust_proxy_id = int(app.config["TRUSTED_PROXIES"]) > 0

    @app.before_request
    def start():
        incoming = request.headers.get("X-Request-ID", "") if trust_proxy_id else ""
        g.request_id = incoming if PROXY_REQUEST_ID.fullmatch(incoming) else secrets.token_hex(16)
        g.request_started = time.perf_counter()

    @app.after_request
    def finish(response):
        started = g.get("request_started")
        seconds = time.perf_counter() - started if started is not None else 0.0
        route = _route()
        metrics.observe_request(route, request.method, response.status_code, seconds)
        if "request_id" in g:
            response.headers["X-Request-ID"] = g.request_id
        if request.path not in QUIET_PATHS:
            logs.event(
                "request",
                method=request.method,
                route=route,
                status=response.status_code,
                ms=round(seconds * 1000, 1),
            )
        return response

    def log_exception(exc_info) -> None:
        # Flask's own line names the request path (which may hold a sticker token).
        logs.event(
            "unhandled_exception",
            logging.ERROR,
            exc_info=exc_info,
            method=request.method,
            route=_route(),
        )

    app.log_exception = log_exception
