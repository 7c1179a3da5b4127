"""Spot checks nobody can steer: a committed, verifiable random draw per round.

At the draw, the seed's hash, the candidate list's hash and the public draw to be used (a
named national lottery draw) are published. Once that draw has taken place, a second
officer enters its winning numbers (the public value), and only then are the lists made,
from the mixed seed SHA-256(seed ‖ public value): the operator fixed the seed without
knowing the value, and nobody knew the value when the seed was committed to. The draw ranks
each jurisdiction's candidate plates by SHA-256(mixed ‖ plate) and takes the first N; the
team pairing (each list checked by another jurisdiction's team) also comes from the mixed
seed. After the round the seed is published, and anyone holding the seed, the public value
and the candidate list can re-run `draw_lists` and `team_pairing` and get the same answer
(static/verify-draw.js does it in the browser).
"""

import hashlib
import json
import re


class DrawImpossible(ValueError):
    """Cross checks need at least two jurisdictions with candidates."""


def canonical_candidates(candidates: dict[str, list[str]]) -> str:
    """The candidate list as canonical JSON (jurisdiction code → sorted plates)."""
    return json.dumps(
        {code: sorted(plates) for code, plates in candidates.items()},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def normalise_public_value(text: str) -> str:
    """The public value as it is mixed in: trimmed, inner whitespace one space each."""
    return re.sub(r"\s+", " ", text).strip()


def mixed_seed(seed: bytes, public_value: str | None) -> bytes:
    """SHA-256(seed ‖ UTF-8 public value); the seed alone for draws made before values."""
    if public_value is None:
        return seed
    return hashlib.sha256(seed + public_value.encode()).digest()


def rank_key(seed: bytes, plate: str) -> str:
    return sha256_hex(seed + plate.encode())


def draw_lists(seed: bytes, candidates: dict[str, list[str]], per_jurisdiction: int):
    """Each jurisdiction's first N plates by SHA-256(seed ‖ plate)."""
    return {
        code: sorted(plates, key=lambda plate: rank_key(seed, plate))[:per_jurisdiction]
        for code, plates in sorted(candidates.items())
    }


def team_pairing(seed: bytes, codes: list[str]) -> dict[str, str]:
    """checked jurisdiction → checking team: a seed-ordered ring, so nobody checks itself."""
    if len(codes) < 2:
        raise DrawImpossible()
    ring = sorted(codes, key=lambda code: sha256_hex(seed + b"team:" + code.encode()))
    return {code: ring[(i + 1) % len(ring)] for i, code in enumerate(ring)}
