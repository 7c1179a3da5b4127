"""Spreadsheets in and out: reading an uploaded table (CSV as Excel writes it, or .xlsx) with
per-row errors, and writing exports with formula-like cells neutralised."""

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flask import Response
from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook

XLSX_MAGIC = b"PK\x03\x04"
# A cell starting with one of these is a formula to a spreadsheet program.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class UnreadableFile(ValueError):
    """The upload is neither a CSV in a known encoding nor an .xlsx workbook."""


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


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("encoding")


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_rows(data: bytes) -> tuple[list[str], Iterator[Row]]:
    """The header and the data rows of an uploaded table, with their line numbers."""
    if data.startswith(XLSX_MAGIC):
        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise UnreadableFile("xlsx") from exc
        rows = sheet.iter_rows(values_only=True)
        header = [_cell_text(v) for v in next(rows, ())]

        def xlsx_rows() -> Iterator[Row]:
            for number, cells in enumerate(rows, start=2):
                texts = [_cell_text(v) for v in cells]
                if any(texts):
                    yield Row(number, dict(zip(header, texts, strict=False)))

        return header, xlsx_rows()
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    header = [h.strip() for h in next(reader, [])]

    def csv_rows() -> Iterator[Row]:
        for cells in reader:
            texts = [c.strip() for c in cells]
            if any(texts):
                yield Row(reader.line_num, dict(zip(header, texts, strict=False)))

    return header, csv_rows()


def read_table(data: bytes, required: tuple[str, ...]) -> Iterator[Row]:
    """The rows of an uploaded table; ImportRejected if it is unreadable or lacks a column."""
    try:
        header, rows = read_rows(data)
    except UnreadableFile:
        raise ImportRejected(
            [RowError(0, _("无法读取文件：请上传 CSV（UTF-8 或 GB18030）或 .xlsx 文件。"))]
        ) from None
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportRejected([RowError(1, _("缺少列：%(cols)s", cols="、".join(missing)))])
    return rows


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
    """Make a cell inert: a leading formula character is escaped with an apostrophe."""
    text = "" if value is None else str(value)
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
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(header)
    for row in rows:
        sheet.append([neutralise(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
