"""Sending a stored photo after the application checked scope: handed to nginx
(X-Accel-Redirect) when PHOTO_ACCEL_PREFIX is set, else streamed by the application."""

from urllib.parse import urlsplit

from flask import Response, current_app, send_file, stream_with_context

from .photostore import S3Store, counting_errors, photo_store

# A presigned URL handed to nginx lives this long: long enough for nginx to fetch it at
# once, too short to be worth copying.
PRESIGNED_SECONDS = 60


def send_photo(name: str, download_name: str) -> Response:
    """The photo `name` (already checked against the viewer's scope)."""
    store = photo_store()
    prefix = (current_app.config["PHOTO_ACCEL_PREFIX"] or "").rstrip("/")
    if isinstance(store, S3Store):
        if prefix:
            return _accel(prefix + _presigned_path(store, name, download_name), download_name)
        return _stream(store, name, download_name)
    if prefix:
        store.path(name)  # refuses anything but a stored photo's name
        return _accel(f"{prefix}/{name}", download_name)
    return send_file(
        store.path(name),
        mimetype="image/jpeg",
        as_attachment=False,
        download_name=download_name,
        max_age=0,
    )


def _accel(target: str, download_name: str) -> Response:
    """An empty answer that tells nginx to send the photo itself from its internal location,
    so no worker is held streaming it."""
    response = Response(mimetype="image/jpeg")
    response.headers["X-Accel-Redirect"] = target
    response.headers["Content-Disposition"] = f'inline; filename="{download_name}"'
    return response


def _presigned_path(store: S3Store, name: str, download_name: str) -> str:
    """The path and query of a short-lived presigned URL (path-style: /bucket/key?…): nginx's
    internal location proxies it to the store's endpoint. Never a public bucket URL."""
    with counting_errors("presign"):
        url = urlsplit(store.presigned_url(name, download_name, PRESIGNED_SECONDS))
    return f"{url.path}?{url.query}"


def _stream(store: S3Store, name: str, download_name: str) -> Response:
    with counting_errors("read"):
        size, body = store.stream(name)

    def chunks():
        try:
            while chunk := body.read(64 * 1024):
                yield chunk
        finally:
            body.close()

    response = Response(stream_with_context(chunks()), mimetype="image/jpeg")
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = f'inline; filename="{download_name}"'
    response.headers["Cache-Control"] = "no-cache"
    return response
