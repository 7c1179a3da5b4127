"""Protecting reporters: receipt codes kept only as keyed hashes, contacts encrypted at rest."""

import base64
import hashlib
import hmac
import re
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

RECEIPT_CHARS = 20  # base32 characters: 100 bits


class UndecryptableContact(RuntimeError):
    """A stored contact or seed that no configured contact key can decrypt."""


def _key_list(setting: str) -> list[str]:
    """A key setting as a list, newest first (one key, or several separated by commas)."""
    return [k.strip() for k in str(current_app.config.get(setting) or "").split(",") if k.strip()]


def receipt_keys() -> list[str]:
    """VEHICLEWATCH_RECEIPT_KEY as a list, newest first."""
    return _key_list("RECEIPT_KEY")


def receipt_key_id(key: str) -> str:
    """A short fingerprint naming a receipt key in the database (never the key itself)."""
    return hmac.new(key.encode(), b"vehiclewatch receipt key id", hashlib.sha256).hexdigest()[:16]


def _mac(purpose: str, value: str, key: str | None = None) -> bytes:
    key = key or receipt_keys()[0]
    return hmac.new(key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()


def new_submission_id() -> str:
    """The one-time token a report form carries; a double submit repeats it."""
    return secrets.token_urlsafe(16)


def receipt_for(submission_id: str) -> str:
    """The receipt (查询码) for a submission: derived, so a repeated submit shows the same
    one again, and never stored."""
    raw = base64.b32encode(_mac("receipt", submission_id)).decode()[:RECEIPT_CHARS]
    return "-".join(raw[i : i + 4] for i in range(0, RECEIPT_CHARS, 4))


def normalise_receipt(text: str) -> str:
    return re.sub(r"[^A-Z2-7]", "", (text or "").upper())


def receipt_hash(receipt: str, key: str | None = None) -> str:
    """What the database keeps to find a report by its receipt (newest key unless given)."""
    return _mac("lookup", normalise_receipt(receipt), key).hex()


def receipt_hashes(receipt: str) -> dict[str, str]:
    """The receipt's hash under every configured key, newest first: hash → key id."""
    return {receipt_hash(receipt, key): receipt_key_id(key) for key in receipt_keys()}


def submission_hash(submission_id: str) -> str:
    return _mac("submission", submission_id).hex()


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(k) for k in _key_list("CONTACT_KEYS")])


def under_newest_contact_key(token: str) -> bool:
    """Whether a token is already encrypted with the newest contact key."""
    try:
        Fernet(_key_list("CONTACT_KEYS")[0]).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def encrypt_contact(text: str | None) -> str | None:
    """Encrypt with the newest key (the first in VEHICLEWATCH_CONTACT_KEYS)."""
    if not text:
        return None
    return _fernet().encrypt(text.encode()).decode()


def decrypt_contact(token: str | None) -> str | None:
    """The clear text; None only when nothing is stored. A token no configured key opens
    raises UndecryptableContact: a missing key must never look like an empty contact."""
    if not token:
        return None
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise UndecryptableContact(
            "a stored value cannot be decrypted with any key in VEHICLEWATCH_CONTACT_KEYS: "
            'put back the key it was encrypted with (see README "Keys")'
        ) from None


def rotate_contact(token: str | None) -> str | None:
    """Re-encrypt under the newest key, so an old key can be retired."""
    if not token:
        return None
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        decrypt_contact(token)  # raises the explanation
        raise
