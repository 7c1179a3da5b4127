"""Uploaded tables at the caps: how long the slowest accepted file takes to read (target
under 30 s, half of gunicorn's 60 s timeout), and how soon crafted files are refused."""

import io
import resource
import time
import zipfile

from vehiclewatch import create_app, tables

HEADER = ["车牌号", "单位编码", "编制类别", "品牌型号", "颜色", "状态", "公开标识"]
LETTERS = "ABCDEFGHJ"


def _rows(count: int, width: int):
    """`count` vehicles whose two free-text cells are `width` characters, each one different
    (so that no shared string stands for many cells)."""
    for i in range(count):
        plate = f"藏{LETTERS[i // 100_000 % 9]}·{i % 100_000:05d}"
        cell = f"{i:06d}".ljust(width, "车")
        yield [plate, "city", "执法执勤用车", cell, cell, "在用", "是"]


def _accepted(data: bytes) -> bool:
    try:
        header, rows = tables.read_rows(data)
        for _ in rows:
            pass
    except (tables.TableTooLarge, tables.UnreadableFile):
        return False
    return True


def _unpacked(data: bytes) -> int:
    return sum(m.file_size for m in zipfile.ZipFile(io.BytesIO(data)).infolist())


def _table(width: int) -> bytes:
    return tables.write_xlsx(HEADER, _rows(tables.MAX_TABLE_ROWS, width))


def _widest() -> tuple[bytes, int]:
    """The widest 50,000-row table the unpacked cap accepts: the unpacked size grows
    linearly with the cell width, so two tables give the width, then step down until it fits."""
    small, large = _unpacked(_table(10)), _unpacked(_table(20))
    width = 10 + int((tables.MAX_XLSX_UNPACKED - small) / ((large - small) / 10))
    while True:
        data = _table(width)
        if _unpacked(data) <= tables.MAX_XLSX_UNPACKED:
            return data, width
        width -= 1


def _row_bomb(rows: int) -> bytes:
    """A sheet of `rows` empty rows: a few hundred KB compressed."""
    out = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(tables.write_xlsx(HEADER, [])))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                body = "".join(
                    f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>x</t></is></c></row>'
                    for n in range(2, rows)
                )
                xml = source.read(info).decode().replace("</sheetData>", body + "</sheetData>")
                target.writestr(info, xml)
            else:
                target.writestr(info, source.read(info))
    return out.getvalue()


def _timed(data: bytes) -> tuple[float, bool]:
    start = time.perf_counter()
    accepted = _accepted(data)
    return time.perf_counter() - start, accepted


def run() -> str:
    with create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).app_context():
        plain = tables.write_xlsx(HEADER, _rows(tables.MAX_TABLE_ROWS, 8))
        widest, width = _widest()
        bomb = _row_bomb(3_000_000)
        lines = [
            "## Uploaded tables at the caps (read and check, before any row is validated)",
            "",
            f"Caps: {tables.MAX_TABLE_BYTES // 2**20} MB a file, "
            f"{tables.MAX_TABLE_ROWS:,} rows, {tables.MAX_CELL_CHARS:,} characters "
            f"a cell, {tables.MAX_XLSX_UNPACKED // 2**20} MB unpacked and "
            f"{tables.MAX_XLSX_SHARED_STRINGS // 2**20} MB of shared strings for .xlsx.",
            "",
            "| file | size | read | answer |",
            "| --- | --- | --- | --- |",
        ]
        slowest = 0.0
        for label, data in (
            ("50,000 rows, short cells", plain),
            (f"50,000 rows of two {width}-character cells (just under the unpacked cap)", widest),
            ("3,000,000 rows (a row bomb)", bomb),
        ):
            elapsed, accepted = _timed(data)
            if accepted:
                slowest = max(slowest, elapsed)
            answer = "accepted" if accepted else "refused"
            lines.append(f"| {label} | {len(data) / 2**20:.1f} MB | {elapsed:.2f} s | {answer} |")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        lines += [
            "",
            f"Slowest accepted: {slowest:.2f} s (target < 30 s: "
            f"{'met' if slowest < 30 else 'NOT met'}); process peak RSS {peak:.0f} MB.",
            "",
        ]
        return "\n".join(lines)


if __name__ == "__main__":
    print(run())
