"""Chinese licence plates: one canonical form however they are typed."""

import re

from ..inputs import nfkc

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_SEPARATORS = re.compile(r"[\s·•・.．\-_]+")
_ALNUM = "A-HJ-NP-Z0-9"  # no I or O on Chinese plates
_PLATE = re.compile(rf"^([{PROVINCES}])([A-Z])([{_ALNUM}]{{5}}|[{_ALNUM}]{{6}}|[{_ALNUM}]{{4}}警)$")


class InvalidPlate(ValueError):
    """The text is not a plate this service recognises."""


def normalise_plate(text: str) -> str:
    """'藏a 12345', '藏A12345', '藏A·12345' and full-width '藏Ａ·１２３４５' (a Chinese input
    method's) all give '藏A·12345'; raises InvalidPlate."""
    compact = _SEPARATORS.sub("", nfkc(text)).upper()
    match = _PLATE.match(compact)
    if not match:
        raise InvalidPlate(text)
    province, letter, rest = match.groups()
    return f"{province}{letter}·{rest}"


_WITHOUT_PROVINCE = re.compile(rf"^[A-Z]([{_ALNUM}]{{5}}|[{_ALNUM}]{{6}}|[{_ALNUM}]{{4}}警)$")


def plate_without_province(text: str) -> str | None:
    """'F56464' or 'f 5646 4' as typed without the province character: 'F56464' (the plate
    without province or dot), or None when it is not such a plate."""
    compact = _SEPARATORS.sub("", nfkc(text)).upper()
    return compact if _WITHOUT_PROVINCE.match(compact) else None


def plate_search_key(text: str) -> str:
    """A partial plate as typed into a search box, without separators and upper-cased."""
    return _SEPARATORS.sub("", nfkc(text)).upper()
