"""Spreadsheets in and out: reading an uploaded table (CSV as Excel writes it, or .xlsx) with
per-row errors, and writing exports with formula-like cells neutralised."""

import csv
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from flask import Response
from flask_babel import gettext as _

from .inputs import strip_controls

XLSX_MAGIC = b"PK\x03\x04"
# Caps on an uploaded table, checked before parsing (size, unpacked size) and while reading
# (rows, cells), so a crafted file is refused in bounded time and memory. 50,000 rows is more
# than any unit's list; bench/bench_table_caps.py times the slowest table they let through.
MAX_TABLE_BYTES = 16 * 1024 * 1024
MAX_TABLE_ROWS = 50_000
MAX_CELL_CHARS = 2000
# An .xlsx is a zip: what it unpacks to, and its table of shared strings (which openpyxl
# holds in memory whole), are capped by the sizes the archive declares (zipfile enforces them).
# Reading time grows with the unpacked XML (about 3 s per 10 MB here), so 48 MB keeps the
# slowest accepted file well inside a worker's timeout; 50,000 real rows unpack to ~10 MB.
MAX_XLSX_UNPACKED = 48 * 1024 * 1024
MAX_XLSX_SHARED_STRINGS = 8 * 1024 * 1024
# A cell starting with one of these is a formula to a spreadsheet program.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class UnreadableFile(ValueError):
    """The upload is neither a CSV in a known encoding nor an .xlsx workbook."""


class TableTooLarge(ValueError):
    """The upload passes one of the caps; `message` says which, for the uploader."""

    def __init__(self, message: str, line: int = 0):
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


class ImportRejected(ValueError):
    """At least one row is bad; nothing was imported."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} bad rows")
        self.errors = errors


YES = frozenset({"是", "1", "y", "yes", "true"})
NO = frozenset({"否", "0", "n", "no", "false"})


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]

    def fields(self, columns: dict[str, str]) -> dict[str, str]:
        """The row's cells under the names a validator uses (`columns`: header → name)."""
        return {columns[k]: v for k, v in self.values.items() if k in columns}


def check_rows(
    rows: Iterable[Row], check: Callable[[Row, list[str]], dict | None], empty: str
) -> list[dict]:
    """Check every row of an import, all or nothing: `check` appends a message to `problems`
    for each thing wrong with a row and otherwise returns what to insert. Raise ImportRejected
    naming every bad row (or saying `empty` when there is no row), else return the rows."""
    errors: list[RowError] = []
    good: list[dict] = []
    for row in rows:
        problems: list[str] = []
        checked = check(row, problems)
        if problems:
            errors.append(RowError(row.line, "；".join(problems)))
        else:
            good.append(checked)
    if errors:
        raise ImportRejected(errors)
    if not good:
        raise ImportRejected([RowError(0, empty)])
    return good


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("encoding")


def _cell_text(value, line: int) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = strip_controls(str(value)).strip()
    if len(text) > MAX_CELL_CHARS:
        raise TableTooLarge(_("单元格过长（每格不超过 %(n)d 字）。", n=MAX_CELL_CHARS), line=line)
    return text


def _texts(cells: Iterable, line: int) -> list[str]:
    return [_cell_text(v, line) for v in cells]


def _check_xlsx(data: bytes) -> None:
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise UnreadableFile("xlsx") from exc
    unpacked = sum(m.file_size for m in members)
    strings = sum(m.file_size for m in members if m.filename.lower().endswith("sharedstrings.xml"))
    if unpacked > MAX_XLSX_UNPACKED or strings > MAX_XLSX_SHARED_STRINGS:
        raise TableTooLarge(_("表格内容过多，请分成几个文件导入（每个文件不超过 5 万行）。"))


def _capped(rows: Iterable[tuple[int, list[str]]], header: list[str]) -> Iterator[Row]:
    """Rows with their line numbers, blank ones skipped; stops at the row cap."""
    for count, (line, texts) in enumerate(rows, start=1):
        if count > MAX_TABLE_ROWS:
            raise TableTooLarge(
                _("行数过多（每个文件不超过 %(n)d 行），请分成几个文件导入。", n=MAX_TABLE_ROWS),
                line=line,
            )
        if any(texts):
            yield Row(line, dict(zip(header, texts, strict=False)))


def read_rows(data: bytes) -> tuple[list[str], Iterator[Row]]:
    """The header and the data rows of an uploaded table, with their line numbers. Raises
    UnreadableFile, and TableTooLarge (also while the rows are read) past a cap."""
    if len(data) > MAX_TABLE_BYTES:
        mb = MAX_TABLE_BYTES // (1024 * 1024)
        raise TableTooLarge(_("文件过大（不超过 %(mb)d MB），请分成几个文件导入。", mb=mb))
    if data.startswith(XLSX_MAGIC):
        _check_xlsx(data)
        # openpyxl (and numpy, which it loads) is imported when a spreadsheet is read or
        # written, not in every worker: about 30 MB of memory each.
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise UnreadableFile("xlsx") from exc
        rows = sheet.iter_rows(values_only=True)
        header = _texts(next(rows, ()), 1)
        numbered = ((line, _texts(cells, line)) for line, cells in enumerate(rows, start=2))
        return header, _capped(numbered, header)
    reader = csv.reader(io.StringIO(_decode(data), newline=""))

    def lines() -> Iterator[tuple[int, list[str]]]:
        try:
            for cells in reader:
                yield reader.line_num, _texts(cells, reader.line_num)
        except csv.Error:
            # The csv module's own limit (131,072 characters in a field), or a stray quote.
            raise TableTooLarge(
                _("无法读取这一行：单元格过长或引号不成对。"), line=reader.line_num
            ) from None

    numbered = lines()
    header = next(numbered, (1, []))[1]
    return header, _capped(numbered, header)


def read_table(data: bytes, required: tuple[str, ...]) -> Iterator[Row]:
    """The rows of an uploaded table; ImportRejected if it is unreadable, lacks a column or
    passes a cap (which may happen while the rows are read)."""
    try:
        header, rows = read_rows(data)
    except UnreadableFile:
        raise ImportRejected(
            [RowError(0, _("无法读取文件：请上传 CSV（UTF-8 或 GB18030）或 .xlsx 文件。"))]
        ) from None
    except TableTooLarge as exc:
        raise ImportRejected([RowError(exc.line, exc.message)]) from None
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportRejected([RowError(1, _("缺少列：%(cols)s", cols="、".join(missing)))])
    return _rejecting(rows)


def _rejecting(rows: Iterator[Row]) -> Iterator[Row]:
    try:
        yield from rows
    except TableTooLarge as exc:
        raise ImportRejected([RowError(exc.line, exc.message)]) from None


def yes_no(text: str, blank: bool) -> bool | None:
    """是/否 (or 1/0, yes/no, true/false) as typed in a cell; None if it is neither."""
    lowered = (text or "").strip().lower()
    if not lowered:
        return blank
    if lowered in YES:
        return True
    if lowered in NO:
        return False
    return None


def neutralise(value) -> str:
    """Make a cell inert and writable: control characters (which no spreadsheet accepts) are
    dropped, then a leading formula character is escaped with an apostrophe."""
    text = "" if value is None else strip_controls(str(value))
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def write_csv(header: list[str], rows: Iterable[list]) -> bytes:
    """UTF-8 with BOM, so Excel opens the Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def write(fmt: str, header: list[str], rows: Iterable[list]) -> bytes:
    return (write_xlsx if fmt == "xlsx" else write_csv)(header, rows)


def attachment(data: bytes, fmt: str, basename: str) -> Response:
    """A download of a written table."""
    return Response(
        data,
        mimetype=MIMETYPES[fmt],
        headers={"Content-Disposition": f"attachment; filename={basename}.{fmt}"},
    )


def write_xlsx(header: list[str], rows: Iterable[list]) -> bytes:
    from openpyxl import Workbook  # imported when needed, as in read_rows

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(header)
    for row in rows:
        sheet.append([neutralise(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
