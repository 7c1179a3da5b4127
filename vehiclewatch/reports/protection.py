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


def _mac(purpose: str, value: str) -> bytes:
    key = str(current_app.config["RECEIPT_KEY"]).encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).digest()


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


def receipt_hash(receipt: str) -> str:
    """What the database keeps to find a report by its receipt."""
    return _mac("lookup", normalise_receipt(receipt)).hex()


def submission_hash(submission_id: str) -> str:
    return _mac("submission", submission_id).hex()


encrypt_contact = encryption.encrypt
decrypt_contact = encryption.decrypt
rotate_contact = encryption.rotate
