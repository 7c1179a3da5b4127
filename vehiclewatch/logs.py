"""The service's log: one line per event, as text or JSON (VEHICLEWATCH_LOG_FORMAT=json),
each carrying the request id of the request it belongs to. Callers log fixed event names and
values such as route templates and statuses: never a client address, receipt, token or
contact."""

import json
import logging
import sys
import time

from flask import Flask, g, has_request_context

LOGGER_NAME = "vehiclewatch"


def request_id() -> str:
    return g.get("request_id", "-") if has_request_context() else "-"


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id()
        return True


def _timestamp(record: logging.LogRecord) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + (
        f".{int(record.msecs):03d}Z"
    )


class TextFormatter(logging.Formatter):
    """`TIME LEVEL request=ID message key=value …` on one line (tracebacks indented)."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in getattr(record, "fields", {}).items())
        line = f"{_timestamp(record)} {record.levelname} request={record.request_id} "
        line += record.getMessage() + (f" {fields}" if fields else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info).replace("\n", "\n    ")
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": _timestamp(record),
            "level": record.levelname,
            "request_id": record.request_id,
            "event": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(app: Flask) -> None:
    """Send the application's log to standard error in the configured format."""
    fmt = app.config["LOG_FORMAT"]
    if fmt not in ("text", "json"):
        raise ValueError(f"VEHICLEWATCH_LOG_FORMAT must be text or json, not {fmt!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(_RequestId())
    logger = logging.getLogger(LOGGER_NAME)
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)


def event(name: str, level: int = logging.INFO, exc_info=None, **fields) -> None:
    """Log one event with its fields (values the caller knows to hold no personal data)."""
    logging.getLogger(LOGGER_NAME).log(level, name, exc_info=exc_info, extra={"fields": fields})
