"""Absolute links in API answers: the service's public address (VEHICLEWATCH_PUBLIC_BASE_URL)
and a route's path, so a case system can hand a link to a person."""

from flask import current_app, url_for


def absolute(endpoint: str, **values) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(endpoint, **values)
