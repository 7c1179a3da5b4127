"""Handing a stored photo to nginx (X-Accel-Redirect) after the application checked scope."""

from flask import Response, current_app

from .photos import NAME_PATTERN


def accel_redirect(name: str, download_name: str) -> Response:
    """An empty answer that tells nginx to send the file itself from its internal location
    (PHOTO_ACCEL_PREFIX), so no worker is held streaming it."""
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"not a stored photo name: {name!r}")
    response = Response(mimetype="image/jpeg")
    prefix = current_app.config["PHOTO_ACCEL_PREFIX"].rstrip("/")
    response.headers["X-Accel-Redirect"] = f"{prefix}/{name}"
    response.headers["Content-Disposition"] = f'inline; filename="{download_name}"'
    return response
