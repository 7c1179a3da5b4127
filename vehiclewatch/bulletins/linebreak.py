"""Chinese line breaking for the printed bulletin: a line never starts with closing
punctuation (，。、；：？！」）》…) nor ends with opening punctuation (「（《…), and a run of
Latin letters and digits (a plate, a year) is not split. reportlab's CJK wrapping breaks
between any two characters, so the PDF lays its paragraphs out with `break_lines()`."""

from collections.abc import Callable

CANNOT_START = frozenset("，。、；：？！」』）》〉〕】’”．,.;:?!)]}%")
CANNOT_END = frozenset("「『（《〈〔【‘“([{")


def _unbreakable(before: str, after: str) -> bool:
    if after in CANNOT_START or before in CANNOT_END:
        return True
    return before.isascii() and after.isascii() and before.isalnum() and after.isalnum()


def break_lines(
    text: str, width_of: Callable[[str], float], width: float, first_width: float | None = None
) -> list[str]:
    """Lines of `text` no wider than `width` (the first no wider than `first_width`), each
    break moved back until it falls where Chinese typesetting allows one. A newline in the
    text starts a new line."""
    lines: list[str] = []
    limit = width if first_width is None else first_width
    for segment in text.split("\n"):
        start = 0
        while True:
            used, end = 0.0, start
            while end < len(segment) and used + width_of(segment[end]) <= limit:
                used += width_of(segment[end])
                end += 1
            if end >= len(segment):
                lines.append(segment[start:])
                break
            end = max(end, start + 1)  # a character wider than the line still goes out
            cut = end
            while cut > start + 1 and _unbreakable(segment[cut - 1], segment[cut]):
                cut -= 1
            if cut == start + 1 and _unbreakable(segment[cut - 1], segment[cut]):
                cut = end  # nowhere allowed: keep the full line rather than one character
            lines.append(segment[start:cut])
            start, limit = cut, width
        limit = width
    return lines
