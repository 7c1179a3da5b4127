"""Encryption at rest with the contact keys (VEHICLEWATCH_CONTACT_KEYS, newest first):
reporters' contacts, sealed spot-check seeds and TOTP secrets."""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class Undecryptable(RuntimeError):
    """A stored value that no configured contact key opens (a key was removed too soon)."""


def _keys() -> list[str]:
    return [k.strip() for k in str(current_app.config["CONTACT_KEYS"]).split(",") if k.strip()]


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(k) for k in _keys()])


def encrypt(text: str | None) -> str | None:
    """Encrypt with the newest key (the first in VEHICLEWATCH_CONTACT_KEYS)."""
    if not text:
        return None
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str | None) -> str | None:
    """The clear text; None only when nothing is stored. A token no configured key opens
    raises Undecryptable: a missing key must never look like an empty value."""
    if not token:
        return None
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise Undecryptable(
            "a stored value cannot be decrypted with any key in VEHICLEWATCH_CONTACT_KEYS: "
            'put back the key it was encrypted with (see README "Keys")'
        ) from None


def under_newest_key(token: str) -> bool:
    """Whether a token is already encrypted with the newest contact key."""
    try:
        Fernet(_keys()[0]).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def rotate(token: str | None) -> str | None:
    """Re-encrypt under the newest key, so an old key can be retired."""
    if not token:
        return None
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        decrypt(token)  # raises the explanation
        raise
