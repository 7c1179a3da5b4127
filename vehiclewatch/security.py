"""Headers every response carries."""

from flask import request

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


# Files that are the same for everyone; every other answer may show a report or a receipt.
CACHEABLE = frozenset({"static", "main.icon"})


def set_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    # A referrer would leak the sticker token of the page the person came from.
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    if request.endpoint not in CACHEABLE:
        headers["Cache-Control"] = "no-store"
    return response
