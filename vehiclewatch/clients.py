"""Who the client is behind a reverse proxy: trusted forwarded headers and the limiter's key."""

import ipaddress

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix


def trust_proxies(app: Flask) -> None:
    """Believe X-Forwarded-For/-Proto/-Host from the configured number of proxy hops.
    With none (the default) the headers are ignored, so a client cannot pick its address."""
    hops = int(app.config["TRUSTED_PROXIES"])
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def client_key() -> str:
    """The limiter's key for this client: its IPv4 address, or its IPv6 /64 (one household
    or phone holds a whole /64, and could otherwise pick a fresh address per request)."""
    text = request.remote_addr or ""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network((address, 64), strict=False))
    return str(address)
