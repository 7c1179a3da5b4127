"""Server-rendered inline SVG charts for the officers' dashboards."""

import math
import unicodedata
from collections.abc import Sequence

from markupsafe import Markup, escape

__all__ = ["bar_chart", "column_chart", "nice_ticks", "text_width"]

SVG_NS = "http://www.w3.org/2000/svg"
# CJK faces first: the labels are mostly unit names in Chinese, and the estimates in
# text_width() assume a full-width glyph for them.
FONT_FAMILY = "WenQuanYi Micro Hei, Noto Sans CJK SC, sans-serif"
DEFAULT_COLOUR = "#b3261e"
TEXT_COLOUR = "#1f1f1f"
MUTED_COLOUR = "#5f6368"
GRID_COLOUR = "#e0e0e0"
AXIS_COLOUR = "#9e9e9e"
EMPTY_TEXT = "无数据"
ELLIPSIS = "…"

PAD = 8
BAR_FONT = 13
BAR_GAP = 8
BAR_LABEL_SHARE = 0.4  # the label column never takes more than this share of the width
COLUMN_FONT = 11
COLUMN_FILL_SHARE = 0.7  # column width as a share of its slot, the rest is the gap
COLUMN_BOTTOM_SHARE = 0.35  # rotated x labels never take more than this share of the height
SIN45 = math.sqrt(0.5)
# A baseline this far below the vertical centre of a row puts the glyphs visually centred,
# without relying on dominant-baseline, which some renderers ignore.
BASELINE_SHIFT = 0.35


def text_width(text: str, font_size: float) -> float:
    """Estimated rendered width: ~1 em per wide (CJK) character, ~0.6 em for the rest."""
    ems = sum(1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.6 for ch in text)
    return ems * font_size


def nice_ticks(maximum: int) -> list[int]:
    """3–5 increasing y ticks from 0, on a 1-2-5 step, the last one at or above maximum."""
    maximum = max(0, maximum)
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            # At most 4 intervals (5 ticks); at least 2 so an all-zero or tiny series still
            # gets a readable axis rather than a single line.
            intervals = -(-maximum // step)
            if intervals <= 4:
                return [i * step for i in range(max(intervals, 2) + 1)]
        magnitude *= 10


def bar_chart(
    items: Sequence[tuple[str, int]],
    *,
    title: str,
    width: int = 640,
    bar_height: int = 22,
    colour: str = DEFAULT_COLOUR,
) -> Markup:
    """Horizontal bars, one row per (label, value), scaled to the largest value.

    Zero values get their row, label and "0" but no <rect>; an empty sequence renders the
    frame with a 无数据 notice. Raises ValueError for negative values or too small a width.
    """
    rows = [(_clean(label), _count(value)) for label, value in items]
    row_height = bar_height + BAR_GAP
    if not rows:
        height = row_height + 2 * PAD
        body = [_empty_text(width / 2, height / 2, BAR_FONT)]
        return _svg("chart chart-bar", width, height, title, BAR_FONT, body)

    max_label = width * BAR_LABEL_SHARE
    labels = [_truncate(label, max_label, BAR_FONT) for label, _ in rows]
    label_width = max(text_width(label, BAR_FONT) for label in labels)
    label_x = PAD + label_width
    bar_x = label_x + PAD
    value_width = max(text_width(str(value), BAR_FONT) for _, value in rows) + PAD
    bar_span = width - bar_x - value_width - PAD
    if bar_span < 10:
        raise ValueError(f"width {width} leaves no room for the bars")
    top = max(value for _, value in rows)

    body: list[str] = []
    for index, ((label, value), shown) in enumerate(zip(rows, labels, strict=True)):
        y = PAD + index * row_height + BAR_GAP / 2
        baseline = y + bar_height / 2 + BAR_FONT * BASELINE_SHIFT
        # The full label goes into a tooltip when the visible one had to be shortened.
        tip = f"<title>{_e(label)}</title>" if shown != label else ""
        body.append('<g class="row">')
        body.append(
            f'<text class="label" x="{_n(label_x)}" y="{_n(baseline)}" text-anchor="end"'
            f' fill="{TEXT_COLOUR}">{tip}{_e(shown)}</text>'
        )
        bar_width = 0.0
        if value > 0:
            # Never thinner than a pixel, so a small non-zero count stays visible next to 0.
            bar_width = max(1.0, bar_span * value / top)
            body.append(
                f'<rect class="bar" x="{_n(bar_x)}" y="{_n(y)}" width="{_n(bar_width)}"'
                f' height="{_n(bar_height)}" fill="{_e(colour)}">'
                f"<title>{_e(label)}: {value}</title></rect>"
            )
        body.append(
            f'<text class="value" x="{_n(bar_x + bar_width + 4)}" y="{_n(baseline)}"'
            f' fill="{MUTED_COLOUR}">{value}</text>'
        )
        body.append("</g>")
    height = 2 * PAD + len(rows) * row_height
    return _svg("chart chart-bar", width, height, title, BAR_FONT, body)


def column_chart(
    items: Sequence[tuple[str, int]],
    *,
    title: str,
    width: int = 640,
    height: int = 220,
    colour: str = DEFAULT_COLOUR,
) -> Markup:
    """Vertical columns for a series in the given order, with a y axis of 3–5 round ticks.

    X labels stay horizontal when they fit their slot; otherwise they are rotated 45° and
    thinned to every k-th, counted back from the last (most recent) one, which is always
    shown. Every column carries a "label: value" tooltip. Zero values get no <rect>.
    Raises ValueError for negative values or a size too small to draw in.
    """
    rows = [(_clean(label), _count(value)) for label, value in items]
    if not rows:
        body = [_empty_text(width / 2, height / 2, COLUMN_FONT)]
        return _svg("chart chart-column", width, height, title, COLUMN_FONT, body)

    ticks = nice_ticks(max(value for _, value in rows))
    tick_width = max(text_width(str(tick), COLUMN_FONT) for tick in ticks)
    left = PAD + tick_width + 6
    right = width - PAD
    count = len(rows)
    slot = (right - left) / count
    widest = max(text_width(label, COLUMN_FONT) for label, _ in rows)

    rotated = widest + 4 > slot
    step = 1
    labels = [label for label, _ in rows]
    if rotated:
        # Keep the rotated labels within the bottom share of the height, shortening the
        # longest ones; their horizontal reach past the first slot needs room on the left.
        max_bottom = height * COLUMN_BOTTOM_SHARE
        max_label = max((max_bottom - PAD) / SIN45 - COLUMN_FONT / 2, COLUMN_FONT)
        labels = [_truncate(label, max_label, COLUMN_FONT) for label in labels]
        reach = max(_rotated_reach(label) for label in labels)
        left = max(left, PAD + reach)
        slot = (right - left) / count
        bottom = reach + PAD
        # Adjacent rotated baselines are slot·sin45 apart; they need about a line height.
        step = max(1, math.ceil(COLUMN_FONT * 1.2 / (slot * SIN45))) if slot > 0 else count
    else:
        bottom = COLUMN_FONT + 2 * PAD
    plot_top = PAD
    plot_bottom = height - bottom
    plot_height = plot_bottom - plot_top
    if plot_height < 20 or slot <= 0:
        raise ValueError(f"a {width}×{height} chart leaves no room for {count} columns")

    def y_of(value: int) -> float:
        return plot_bottom - plot_height * value / ticks[-1]

    body: list[str] = ['<g class="y-axis">']
    for tick in ticks:
        y = y_of(tick)
        line_colour = AXIS_COLOUR if tick == 0 else GRID_COLOUR
        body.append(
            f'<line x1="{_n(left)}" y1="{_n(y)}" x2="{_n(right)}" y2="{_n(y)}"'
            f' stroke="{line_colour}" stroke-width="1" shape-rendering="crispEdges"/>'
        )
        body.append(
            f'<text class="tick" x="{_n(left - 6)}" y="{_n(y + COLUMN_FONT * BASELINE_SHIFT)}"'
            f' text-anchor="end" fill="{MUTED_COLOUR}">{tick}</text>'
        )
    body.append("</g>")

    column_width = max(slot * COLUMN_FILL_SHARE, min(1.0, slot))
    body.append('<g class="columns">')
    for index, (label, value) in enumerate(rows):
        if value <= 0:
            continue
        x = left + index * slot + (slot - column_width) / 2
        # Never shorter than a pixel, so a small non-zero count stays visible next to 0.
        column_height = max(1.0, plot_bottom - y_of(value))
        body.append(
            f'<rect class="column" x="{_n(x)}" y="{_n(plot_bottom - column_height)}"'
            f' width="{_n(column_width)}" height="{_n(column_height)}" fill="{_e(colour)}">'
            f"<title>{_e(label)}: {value}</title></rect>"
        )
    body.append("</g>")

    body.append('<g class="x-axis">')
    for index, label in enumerate(labels):
        if (count - 1 - index) % step:
            continue
        x = left + (index + 0.5) * slot
        if rotated:
            y = plot_bottom + PAD
            body.append(
                f'<text class="x-label" x="{_n(x)}" y="{_n(y)}" text-anchor="end"'
                f' transform="rotate(-45 {_n(x)} {_n(y)})" fill="{MUTED_COLOUR}">'
                f"{_e(label)}</text>"
            )
        else:
            y = plot_bottom + PAD + COLUMN_FONT * 0.8
            body.append(
                f'<text class="x-label" x="{_n(x)}" y="{_n(y)}" text-anchor="middle"'
                f' fill="{MUTED_COLOUR}">{_e(label)}</text>'
            )
    body.append("</g>")
    return _svg("chart chart-column", width, height, title, COLUMN_FONT, body)


def _svg(
    css_class: str, width: int, height: float, title: str, font: int, body: list[str]
) -> Markup:
    """The outer element: role="img" plus <title> so screen readers announce the chart."""
    height_text = _n(math.ceil(height))
    title_text = _e(_clean(title))
    head = (
        f'<svg xmlns="{SVG_NS}" class="{css_class}" width="{_n(width)}" height="{height_text}"'
        f' viewBox="0 0 {_n(width)} {height_text}" role="img" aria-label="{title_text}"'
        f' font-family="{FONT_FAMILY}" font-size="{font}">'
    )
    return Markup("\n".join([head, f"<title>{title_text}</title>", *body, "</svg>"]))


def _empty_text(x: float, y: float, font: int) -> str:
    return (
        f'<text class="empty" x="{_n(x)}" y="{_n(y + font * BASELINE_SHIFT)}"'
        f' text-anchor="middle" fill="{MUTED_COLOUR}">{EMPTY_TEXT}</text>'
    )


def _rotated_reach(label: str) -> float:
    """How far a -45° label reaches left of (and below) its anchor."""
    return (text_width(label, COLUMN_FONT) + COLUMN_FONT / 2) * SIN45


def _count(value: int) -> int:
    """Counts are drawn as integers; a negative one is a caller bug, not something to plot."""
    number = round(value)
    if number < 0:
        raise ValueError(f"chart values must not be negative, got {value!r}")
    return number


def _clean(text: str) -> str:
    """Drop control characters: XML 1.0 forbids most of them, and they never render anyway."""
    text = str(text).replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cs"))


def _truncate(text: str, max_width: float, font_size: float) -> str:
    if text_width(text, font_size) <= max_width:
        return text
    budget = max_width - text_width(ELLIPSIS, font_size)
    kept: list[str] = []
    for ch in text:
        budget -= text_width(ch, font_size)
        if budget < 0:
            break
        kept.append(ch)
    return "".join(kept) + ELLIPSIS


def _e(text: str) -> str:
    return str(escape(text))


def _n(number: float) -> str:
    """Coordinates rounded to 2 places without trailing zeros, so output is stable and small."""
    text = f"{number:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
