"""Encryption at rest with the contact keys (VEHICLEWATCH_CONTACT_KEYS, newest first)."""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


def _fernet() -> MultiFernet:
    keys = [k.strip() for k in str(current_app.config["CONTACT_KEYS"]).split(",") if k.strip()]
    return MultiFernet([Fernet(k) for k in keys])


def encrypt(text: str | None) -> str | None:
    """Encrypt with the newest key (the first in VEHICLEWATCH_CONTACT_KEYS)."""
    if not text:
        return None
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def rotate(token: str | None) -> str | None:
    """Re-encrypt under the newest key, so an old key can be retired."""
    return _fernet().rotate(token.encode()).decode() if token else None
