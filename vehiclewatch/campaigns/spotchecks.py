"""Spot checks nobody can steer: a committed, verifiable random draw per round.

The draw ranks each jurisdiction's candidate plates by SHA-256(seed ‖ plate) and takes the
first N; the team pairing (each list checked by another jurisdiction's team) also comes
from the seed. Before anyone sees a list, the seed's hash and the candidate list are
recorded; the seed is revealed only after the round, and then anyone holding the seed and
the candidate list can re-run `draw_lists` and `team_pairing` and get the same answer.
"""

import hashlib
import json


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
