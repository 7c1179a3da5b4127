"""Hostile input made harmless before any view reads it: control characters, oversized ids."""

import re
import unicodedata

from flask import Request, abort
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter
from werkzeug.utils import cached_property

# C0 controls except tab, newline and carriage return (a textarea sends CRLF), and DEL. NUL
# cannot be stored in PostgreSQL text, and openpyxl refuses the rest in a cell.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Ids are INTEGER columns (32 bits on PostgreSQL); a larger number names nothing, and
# PostgreSQL would refuse to compare it.
MAX_ID = 2**31 - 1
# Far past any list's last page, and small enough that its offset fits the database's integers.
MAX_PAGE = 10**9


def strip_controls(text: str) -> str:
    return CONTROL_CHARACTERS.sub("", text)


def nfkc(text: str | None) -> str:
    """Full-width letters, digits and dashes (a Chinese input method's) as their ASCII forms."""
    return unicodedata.normalize("NFKC", text or "")


def _cleaned(values: ImmutableMultiDict) -> ImmutableMultiDict:
    return ImmutableMultiDict(
        (strip_controls(key), strip_controls(value)) for key, value in values.items(multi=True)
    )


class CleanRequest(Request):
    """Every query and form value, and every uploaded file's name, reaches the views without
    control characters: stripped, so the rest of what was typed is kept (file contents are
    left as sent)."""

    @cached_property
    def args(self) -> ImmutableMultiDict:
        return _cleaned(super().args)

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        super()._load_form_data()
        self.__dict__["form"] = _cleaned(self.__dict__["form"])
        for upload in self.__dict__["files"].values():
            if upload.filename:
                upload.filename = strip_controls(upload.filename)


class IdConverter(IntegerConverter):
    """`<int:…>` that matches only numbers a database id can hold, so a longer one is a 404."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def query_id(text: str) -> int:
    """`type=` for request.args.get: text that is no number counts as absent (ValueError), a
    number no database id can be is a 400."""
    value = int(text)
    if not 0 <= value <= MAX_ID:
        abort(400)
    return value


def query_page(text: str) -> int:
    """`type=` for a page number: no number counts as absent, one past MAX_PAGE is a 400."""
    value = int(text)
    if value > MAX_PAGE:
        abort(400)
    return value
