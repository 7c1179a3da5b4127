"""Protecting reporters: receipt codes kept only as keyed hashes, contacts encrypted at rest."""

import base64
import hashlib
import hmac
import re
import secrets

from flask import current_app

from .. import encryption
from ..inputs import nfkc

RECEIPT_CHARS = 20  # base32 characters: 100 bits


UndecryptableContact = encryption.Undecryptable


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
    return re.sub(r"[^A-Z2-7]", "", nfkc(text).upper())


def receipt_hash(receipt: str, key: str | None = None) -> str:
    """What the database keeps to find a report by its receipt (newest key unless given)."""
    return _mac("lookup", normalise_receipt(receipt), key).hex()


def receipt_hashes(receipt: str) -> dict[str, str]:
    """The receipt's hash under every configured key, newest first: hash → key id."""
    return {receipt_hash(receipt, key): receipt_key_id(key) for key in receipt_keys()}


def submission_hash(submission_id: str) -> str:
    return _mac("submission", submission_id).hex()


encrypt_contact = encryption.encrypt
decrypt_contact = encryption.decrypt
rotate_contact = encryption.rotate
under_newest_contact_key = encryption.under_newest_key
