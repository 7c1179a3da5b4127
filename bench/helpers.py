"""What several benchmarks share: generated vehicle rows, and a measurement run in a fresh
interpreter (so that its peak memory is its own)."""

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def vehicle_rows(count: int, unit_ids: list[int], per_letter: int) -> list[dict]:
    """count publicly marked cars in use, spread over the units, with distinct plates."""
    from vehiclewatch.timeutil import utcnow

    now = utcnow()
    return [
        {
            "plate": f"藏{'ABCDEFGHJK'[i // per_letter]}·{i % per_letter:05d}",
            "unit_id": unit_ids[i % len(unit_ids)],
            "category": "other",
            "brand_model": "",
            "colour": "",
            "status": "in_use",
            "publicly_marked": True,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(count)
    ]


def in_fresh_process(module: str, call: str, out: Path) -> dict:
    """Run `module.call` in a new interpreter; the JSON figures its last line prints, plus
    the size in MB of the file it wrote to out."""
    code = f"import sys; sys.path.insert(0, {str(HERE)!r}); import {module}; {module}.{call}"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=HERE.parent, capture_output=True, text=True, check=True
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["mb"] = out.stat().st_size / 1e6
    return figures
