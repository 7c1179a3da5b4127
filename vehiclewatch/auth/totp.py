"""The second factor: TOTP (RFC 6238) with an encrypted secret, and one-time recovery codes."""

import secrets
from io import BytesIO

import pyotp
import qrcode
import qrcode.image.svg
from sqlalchemy import delete, select

from .. import audit, encryption
from ..extensions import db
from ..timeutil import utcnow
from ..transaction import atomic
from .models import RecoveryCode, User
from .passwords import hash_password, verify_hash

ISSUER = "vehiclewatch"
STEP_SECONDS = 30
RECOVERY_CODES = 10
# Codes of the step before and after the current one are accepted (clock drift).
DRIFT_STEPS = 1
# Recovery codes: ten characters (50 bits) without look-alikes (0/O, 1/I/L).
RECOVERY_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The otpauth address as an inline SVG (the CSP forbids data: images)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    out = BytesIO()
    image.save(out)
    text = out.getvalue().decode()
    return text[text.index("<svg") :]


def _matching_step(secret: str, code: str, after: int | None) -> int | None:
    """The time step whose code this is (within the drift), if later than `after`."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = int(utcnow().timestamp()) // STEP_SECONDS
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if (after is None or step > after) and secrets.compare_digest(
            totp.at(step * STEP_SECONDS), code
        ):
            return step
    return None


def _normalise_recovery(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=hash_password(raw)))
    return codes


def _use_recovery_code(user: User, code: str) -> bool:
    raw = _normalise_recovery(code)
    if len(raw) != 10:
        return False
    unused = db.session.execute(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).scalars()
    for row in unused:
        if verify_hash(row.code_hash, raw):
            row.used_at = utcnow()
            return True
    return False


@atomic()
def check_code(user: User, code: str) -> str | None:
    """Accept a TOTP code (never one of a step already used) or an unused recovery code;
    returns which ("totp" or "recovery"), or None. The caller counts the attempt."""
    secret = encryption.decrypt(user.totp_secret_enc)
    if secret is None:
        return None
    step = _matching_step(secret, code, user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        return "totp"
    if _use_recovery_code(user, code):
        audit.record("recovery_code_used", user, actor=user)
        return "recovery"
    return None


@atomic()
def enrol(user: User, secret: str, code: str) -> list[str] | None:
    """Store a new secret once the user proves their app has it (a code from it); returns
    the ten recovery codes to show once, or None if the code is wrong."""
    step = _matching_step(secret, code, None)
    if step is None:
        return None
    user.totp_secret_enc = encryption.encrypt(secret)
    user.totp_last_step = step
    codes = _new_recovery_codes(user)
    audit.record("totp_enrolled", user, actor=user)
    return codes


def clear(user: User) -> None:
    """Forget the secret and the recovery codes (inside the caller's transaction): the
    account enrols again at its next login."""
    user.totp_secret_enc = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def unused_recovery_codes(user: User) -> int:
    return len(
        db.session.execute(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )
