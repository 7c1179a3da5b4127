"""Run every benchmark in bench/ and write the figures to bench/RESULTS.md."""

import datetime
import platform
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    "bench_import",
    "bench_table_caps",
    "bench_sheets",
    "bench_first_print",
    "bench_photos",
    "bench_http",
    "bench_queue",
]


def main() -> None:
    sections = []
    for name in BENCHMARKS:
        print(f"== {name}", flush=True)
        # A fresh interpreter per benchmark: memory figures must not inherit another's heap.
        code = f"import sys; sys.path.insert(0, {str(HERE)!r}); import {name}; print({name}.run())"
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        sections.append(result.stdout.strip() + "\n")
    header = [
        "# Benchmark results",
        "",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {platform.machine()}, {Path('/proc/cpuinfo').read_text().count('processor')}"
        f" cores, Python {platform.python_version()}",
        f"- versions: Flask {version('flask')}, SQLAlchemy {version('sqlalchemy')}",
        "",
    ]
    (HERE / "RESULTS.md").write_text("\n".join(header + sections) + "\n", encoding="utf-8")
    print((HERE / "RESULTS.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
