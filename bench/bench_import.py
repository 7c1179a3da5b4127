"""Vehicle import of a 50,000-row CSV (target ≤ 10 s, all or nothing), against a reference:
the same rows written by a bare SQLAlchemy executemany in the same process."""

import resource
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import insert

from vehiclewatch import audit, create_app
from vehiclewatch.auth.models import UnitKind
from vehiclewatch.auth.services import create_unit
from vehiclewatch.extensions import db
from vehiclewatch.fleet.models import Vehicle
from vehiclewatch.fleet.vehicle_files import import_vehicles
from vehiclewatch.timeutil import utcnow

ROWS = 50_000
LETTERS = "ABCDEFGHJ"


def _csv(units: list[str]) -> bytes:
    lines = ["车牌号,单位编码,编制类别,品牌型号,颜色,状态,公开标识"]
    for i in range(ROWS):
        plate = f"藏{LETTERS[i // 100_000 % 9]}·{i % 100_000:05d}"
        lines.append(f"{plate},{units[i % len(units)]},执法执勤用车,红旗 H5,黑色,在用,是")
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def _fresh_app(folder: Path, name: str):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/{name}.sqlite3"})
    ctx = app.app_context()
    ctx.push()
    upgrade(directory=app.extensions["migrate"].directory)
    city = create_unit("city", "示例市", UnitKind.CITY, None, actor=audit.SYSTEM)
    units = [city.code]
    for n in range(20):
        units.append(create_unit(f"c{n}", f"县{n}", UnitKind.COUNTY, city, actor=audit.SYSTEM).code)
    return ctx, units


def run() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ctx, units = _fresh_app(folder, "reference")
        data = _csv(units)
        rows = [
            {
                "plate": f"藏A·{i:05d}",
                "unit_id": 1,
                "category": "law_enforcement",
                "brand_model": "红旗 H5",
                "colour": "黑色",
                "status": "in_use",
                "publicly_marked": True,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
            for i in range(ROWS)
        ]
        start = time.perf_counter()
        db.session.execute(insert(Vehicle), rows)
        db.session.commit()
        reference = time.perf_counter() - start
        ctx.pop()

        ctx, _ = _fresh_app(folder, "import")
        start = time.perf_counter()
        count = import_vehicles(data, actor=audit.SYSTEM, filename="bench.csv")
        elapsed = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        ctx.pop()
    assert count == ROWS
    return "\n".join(
        [
            "## Vehicle import, 50,000-row CSV (SQLite)",
            "",
            "| what | figure |",
            "| --- | --- |",
            f"| reference: bare executemany of {ROWS:,} rows | {reference:.2f} s |",
            f"| `import_vehicles` (parse, validate every row, insert, audit) | {elapsed:.2f} s |",
            f"| ratio import / reference | {elapsed / reference:.2f} |",
            f"| process peak RSS (reference and import) | {peak:.0f} MB |",
            f"| target | ≤ 10 s: {'met' if elapsed <= 10 else 'NOT met'} |",
            "",
        ]
    )
