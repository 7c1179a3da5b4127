"""Passwords: which are refused (short, trivial, common) and how they are hashed (Argon2id)."""

import re
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

MIN_LENGTH = 12
LIST_FILE = Path(__file__).with_name("common_passwords.txt")
# Rows a hand runs along: a password that is a stretch of one of them is trivial.
SEQUENCES = (
    "0123456789012345678901234567890",
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
    "qwertyuiopasdfghjklzxcvbnmqwertyuiop",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
)


class WeakPassword(ValueError):
    """The password is refused; the message says why, in the user's language."""


@cache
def common_passwords() -> frozenset[str]:
    lines = LIST_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _is_sequence(text: str) -> bool:
    return any(text in row or text in row[::-1] for row in SEQUENCES)


def _is_repetition(text: str) -> bool:
    """aaaa…, abab…, 123123…: a short piece repeated."""
    return re.fullmatch(r"(.{1,4}?)\1+", text) is not None or len(set(text)) < 4


def _is_common(text: str) -> bool:
    """On the list, or a listed word (or pinyin name) padded with digits and punctuation,
    such as woaini1314!, zhangwei19900101 or 1314woaini."""
    words = common_passwords()
    if text in words:
        return True
    letters = re.sub(r"[^a-z]", "", text)
    rest = re.sub(r"[a-z]", "", text)
    if letters in words and (not rest or rest.isascii()):
        return True
    # A name in pinyin (a listed surname, then the given name), then digits such as a
    # birthday: zhangxiaoming880808.
    match = re.fullmatch(r"([a-z]{2,14})(\d{2,8})", letters + rest) if text.isascii() else None
    return bool(match and any(match.group(1).startswith(w) for w in _surnames(words)))


def _surnames(words: frozenset[str]) -> list[str]:
    return [w for w in words if w.isalpha() and len(w) <= 5]


def check(password: str, username: str = "") -> None:
    """Raise WeakPassword if the password may not be used."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(_("密码至少 %(n)d 个字符。", n=MIN_LENGTH))
    text = password.lower()
    squeezed = re.sub(r"[\s\W_]", "", text)
    if squeezed.isdigit():
        raise WeakPassword(_("密码不能只有数字（如电话号码、生日、证件号），请加入字母。"))
    if _is_repetition(squeezed) or _is_sequence(squeezed):
        raise WeakPassword(_("密码过于简单（重复或连续的字符），请换一个。"))
    if _is_common(text) or _is_common(squeezed):
        raise WeakPassword(_("这是常见密码，容易被猜中，请换一个。"))
    if username and len(username) >= 4 and username.lower() in text:
        raise WeakPassword(_("密码不能包含用户名。"))


def hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg.get("ARGON2_TIME_COST", 3),
        memory_cost=cfg.get("ARGON2_MEMORY_COST", 65536),
        parallelism=cfg.get("ARGON2_PARALLELISM", 4),
    )


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_hash(stored_hash: str, password: str) -> bool:
    try:
        return hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
