"""Inline SVG charts: well-formed, escaped, proportional, and free of inline styles."""

import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup

from vehiclewatch.review.charts import bar_chart, column_chart, nice_ticks, text_width

NS = "{http://www.w3.org/2000/svg}"
UNITS = [("市公安局", 12), ("交通运输局", 6), ("财政局", 3), ("区政府办公室", 9)]
WEEKS = [(f"2026-W{week:02d}", (week * 7) % 23 + 1) for week in range(1, 31)]


def parse(svg: Markup) -> ET.Element:
    assert isinstance(svg, Markup)
    root = ET.fromstring(str(svg))
    assert root.tag == f"{NS}svg"
    return root


def by_class(root: ET.Element, tag: str, css_class: str) -> list[ET.Element]:
    return [el for el in root.iter(f"{NS}{tag}") if el.get("class") == css_class]


def texts(root: ET.Element) -> list[str]:
    return ["".join(el.itertext()) for el in root.iter(f"{NS}text")]


def assert_no_inline_style(svg: Markup, root: ET.Element) -> None:
    assert "style=" not in str(svg)
    assert all("style" not in el.attrib for el in root.iter())
    assert not list(root.iter(f"{NS}style"))


def test_bar_chart_one_proportional_bar_per_item():
    svg = bar_chart(UNITS, title="各单位举报数")
    root = parse(svg)
    bars = by_class(root, "rect", "bar")
    assert len(bars) == len(UNITS)
    widths = [float(bar.get("width")) for bar in bars]
    for width, (_, value) in zip(widths, UNITS, strict=True):
        assert width / widths[0] == pytest.approx(value / UNITS[0][1], rel=0.01)
    # Bars start at the same x, right of the label column.
    assert len({bar.get("x") for bar in bars}) == 1
    assert [t for t in texts(root) if t in {label for label, _ in UNITS}] == [
        label for label, _ in UNITS
    ]
    values = ["".join(el.itertext()) for el in by_class(root, "text", "value")]
    assert values == ["12", "6", "3", "9"]
    assert_no_inline_style(svg, root)


def test_bar_chart_accessibility_and_fonts():
    root = parse(bar_chart(UNITS, title="各单位举报数"))
    assert root.get("role") == "img"
    assert root.get("aria-label") == "各单位举报数"
    assert root.find(f"{NS}title").text == "各单位举报数"
    assert "WenQuanYi Micro Hei" in root.get("font-family")


def test_bar_chart_label_column_fits_the_widest_chinese_label():
    root = parse(bar_chart(UNITS, title="t"))
    bar_x = float(by_class(root, "rect", "bar")[0].get("x"))
    # "区政府办公室" is 6 CJK characters at 13px, so roughly 78px of label column.
    assert bar_x >= text_width("区政府办公室", 13)
    assert bar_x < text_width("区政府办公室", 13) + 40


def test_bar_chart_escapes_labels_and_title():
    evil = "<script>alert(1)</script>"
    svg = bar_chart([(evil, 3), ("a & b", 1)], title='x" onload="alert(1)')
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "<script" not in svg
    assert 'onload="' not in svg
    root = parse(svg)
    assert not list(root.iter(f"{NS}script"))
    assert not [el for el in root.iter() if el.tag.endswith("script")]
    assert evil in texts(root)
    assert "a & b" in texts(root)
    assert root.get("aria-label") == 'x" onload="alert(1)'


def test_bar_chart_all_zero_shows_rows_without_bars():
    svg = bar_chart([("甲单位", 0), ("乙单位", 0)], title="t")
    root = parse(svg)
    assert by_class(root, "rect", "bar") == []
    assert len(by_class(root, "g", "row")) == 2
    assert ["".join(el.itertext()) for el in by_class(root, "text", "value")] == ["0", "0"]
    assert {"甲单位", "乙单位"} <= set(texts(root))
    assert_no_inline_style(svg, root)


def test_bar_chart_empty_says_no_data():
    svg = bar_chart([], title="t")
    root = parse(svg)
    assert "无数据" in texts(root)
    assert not list(root.iter(f"{NS}rect"))
    assert_no_inline_style(svg, root)


def test_bar_chart_is_deterministic_and_rejects_negatives():
    assert bar_chart(UNITS, title="t") == bar_chart(list(UNITS), title="t")
    with pytest.raises(ValueError):
        bar_chart([("a", -1)], title="t")


def test_bar_chart_truncates_very_long_labels_within_the_width():
    long_label = "很长的单位名称" * 20
    root = parse(bar_chart([(long_label, 5)], title="t", width=400))
    bar = by_class(root, "rect", "bar")[0]
    assert float(bar.get("x")) + float(bar.get("width")) <= 400
    # The full name survives as a tooltip.
    assert long_label in {el.text for el in root.iter(f"{NS}title")}


def test_column_chart_thirty_weeks():
    svg = column_chart(WEEKS, title="每周举报数")
    root = parse(svg)
    columns = by_class(root, "rect", "column")
    assert len(columns) == 30
    xs = [float(col.get("x")) for col in columns]
    assert xs == sorted(xs)
    ticks = [int("".join(el.itertext())) for el in by_class(root, "text", "tick")]
    assert 3 <= len(ticks) <= 5
    assert ticks[0] == 0
    assert all(a < b for a, b in zip(ticks, ticks[1:], strict=False))
    assert ticks[-1] >= max(value for _, value in WEEKS)
    # The tallest column belongs to the largest value and stays inside the viewBox.
    heights = [float(col.get("height")) for col in columns]
    assert heights.index(max(heights)) == [v for _, v in WEEKS].index(max(v for _, v in WEEKS))
    assert all(float(col.get("y")) >= 0 for col in columns)
    # Too many labels to lie flat in their slots: rotated (thinned if need be), with the
    # latest week always labelled.
    labels = by_class(root, "text", "x-label")
    assert 1 < len(labels) <= 30
    assert all(el.get("transform", "").startswith("rotate(-45") for el in labels)
    assert "".join(labels[-1].itertext()) == "2026-W30"
    assert root.get("role") == "img"
    assert root.get("aria-label") == "每周举报数"
    assert_no_inline_style(svg, root)


def test_column_chart_thins_labels_when_crowded():
    items = [(f"2025-W{week:02d}", week) for week in range(1, 53)]
    root = parse(column_chart(items, title="t", width=400))
    assert len(by_class(root, "rect", "column")) == 52
    labels = ["".join(el.itertext()) for el in by_class(root, "text", "x-label")]
    assert 1 < len(labels) < 52
    assert labels[-1] == "2025-W52"
    # Every k-th label, counted back from the last one.
    indexes = [int(label[-2:]) for label in labels]
    steps = {b - a for a, b in zip(indexes, indexes[1:], strict=False)}
    assert len(steps) == 1 and steps.pop() > 1


def test_column_chart_few_items_label_every_column_horizontally():
    items = WEEKS[:4]
    root = parse(column_chart(items, title="t"))
    labels = by_class(root, "text", "x-label")
    assert ["".join(el.itertext()) for el in labels] == [label for label, _ in items]
    assert all(el.get("transform") is None for el in labels)


def test_column_chart_escapes_and_handles_zero_and_empty():
    svg = column_chart([("<script>x</script>", 0), ("b", 0)], title="<b>")
    root = parse(svg)
    assert "<script" not in svg and "<b>" not in svg
    assert by_class(root, "rect", "column") == []
    ticks = [int("".join(el.itertext())) for el in by_class(root, "text", "tick")]
    assert ticks == [0, 1, 2]
    empty = column_chart([], title="t")
    assert "无数据" in texts(parse(empty))
    assert "style=" not in empty


@pytest.mark.parametrize(
    ("maximum", "expected"),
    [
        (0, [0, 1, 2]),
        (1, [0, 1, 2]),
        (3, [0, 1, 2, 3]),
        (5, [0, 2, 4, 6]),
        (9, [0, 5, 10]),
        (10, [0, 5, 10]),
        (23, [0, 10, 20, 30]),
        (41, [0, 20, 40, 60]),
        (999, [0, 500, 1000]),
        (1234, [0, 500, 1000, 1500]),
    ],
)
def test_nice_ticks(maximum, expected):
    assert nice_ticks(maximum) == expected


def test_nice_ticks_bounds():
    for maximum in range(0, 5000, 7):
        ticks = nice_ticks(maximum)
        assert 3 <= len(ticks) <= 5
        assert ticks[0] == 0 and ticks[-1] >= maximum
        assert all(a < b for a, b in zip(ticks, ticks[1:], strict=False))
