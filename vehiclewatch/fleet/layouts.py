"""The label stocks stickers print on, and where each part of a label goes on them."""

import functools
import math
from dataclasses import dataclass

from .qr import QUIET_ZONE

MM = 72 / 25.4
# The printed code (modules only) is 45-60 mm wide, readable from a phone at arm's length;
# beyond 55 mm the text beside it would no longer fit a 99.1 × 67.7 mm label.
MIN_CODE_MM = 45.0
MAX_CODE_MM = 55.0
# No ink nearer the die cut than this: label printers miss the cut by up to a millimetre,
# and a line cut through is a sticker thrown away.
SAFE_MM = 2.0


class InvalidSheet(ValueError):
    """A layout or start position the label stock does not have (the message says which)."""


@dataclass(frozen=True)
class Layout:
    name: str
    label: str
    label_w_mm: float
    label_h_mm: float
    cols: int
    rows: int
    left_mm: float
    top_mm: float
    h_pitch_mm: float
    v_pitch_mm: float

    @property
    def per_sheet(self) -> int:
        return self.cols * self.rows


LAYOUTS = {
    layout.name: layout
    for layout in (
        Layout("a4-8", "A4 每张 8 枚（99.1 × 67.7 毫米，2 列 × 4 行，如 Avery L7165）",
               99.1, 67.7, 2, 4, 4.65, 13.1, 101.6, 67.7),
        Layout("a4-6", "A4 每张 6 枚（99.1 × 93.1 毫米，2 列 × 3 行，如 Avery L7166）",
               99.1, 93.1, 2, 3, 4.65, 8.85, 101.6, 93.1),
    )
}  # fmt: skip
DEFAULT_LAYOUT = "a4-8"


@dataclass(frozen=True)
class Slot:
    """A fixed text's place on the label: `key` names the text (title, hotline label,
    hotline, local hotline, slogan lines), `lang` its language; y is the first baseline."""

    key: str
    lang: str
    x: float
    y: float
    width: float
    size: float
    min_size: float = 6.0
    align: str = "left"
    bold: bool = False
    red: bool = False
    lines: int = 1  # Tibetan may wrap (between syllables) onto this many lines
    pitch: float = 0.0


@dataclass(frozen=True)
class Frame:
    """Where the parts of one label go, in mm from the label's top-left corner (y down).
    The QR sits at the bottom of a square box with the plate right under it."""

    box_x: float
    box_y: float
    box: float  # side of the square that holds the code and its quiet zone
    plate_y: float  # baseline
    plate_size: float
    text_x: float  # where the unit and the short code go
    text_w: float
    unit_y: float  # baseline of the unit name's first line
    unit_lines: int
    unit_pitch: float
    unit_centred: bool
    code_y: float  # baseline of the short code
    code_w: float
    code_bold: bool
    slots: tuple[Slot, ...]  # the fixed texts, drawn once per sheet
    rule_y: float | None = None  # a red line under the title


CODE_INSET = 0.8  # the quiet zone is white anyway; only misregistration matters there
PLATE_BAND = 7.0  # from the bottom of the quiet zone to the label's lower edge
TEXT_COLUMN = 36.0  # the title at 13 pt needs 32 mm


def _side(w: float, h: float, top: float, bottom: float) -> tuple[float, float, float]:
    """The code box beside a text column, from `top` down to the plate band and a `bottom`
    band under it (mm): its side, the column's left edge and width."""
    box = min(h - top - bottom - PLATE_BAND, w - CODE_INSET - TEXT_COLUMN - SAFE_MM)
    text_x = CODE_INSET + box + 0.8
    return box, text_x, w - text_x - SAFE_MM


def _eight_up(w: float, h: float, bilingual: bool) -> Frame:
    """Text beside the code: title, unit, short code, hotlines and slogan in one column."""
    box, x, tw = _side(w, h, CODE_INSET, 0)
    mid = x + tw / 2
    column = {"x": x, "width": tw}
    centred = {"x": mid, "width": tw, "align": "centre"}
    # The plate's top stays out of the quiet zone and its foot 2 mm above the cut.
    plate = {"box_x": CODE_INSET, "box_y": CODE_INSET, "box": box, "plate_size": 14.0}
    plate["plate_y"] = CODE_INSET + box + 4.2
    if not bilingual:
        return Frame(
            **plate, text_x=x, text_w=tw, unit_y=13.5, unit_lines=3, unit_pitch=4.3,
            unit_centred=False, code_y=31.0, code_w=tw, code_bold=True, rule_y=8.6,
            slots=(
                Slot("title", "zh", **centred, y=6.7, size=13, min_size=8, bold=True, red=True),
                Slot("hotline", "zh", **column, y=38.5, size=10.5),
                Slot("local", "zh", **column, y=43.3, size=10.5),
                Slot("slogan0", "zh", **centred, y=60.4, size=10, red=True),
                Slot("slogan1", "zh", **centred, y=64.7, size=10, red=True),
            ),
        )  # fmt: skip
    return Frame(
        **plate, text_x=x, text_w=tw, unit_y=22.2, unit_lines=2, unit_pitch=3.9,
        unit_centred=False, code_y=30.9, code_w=tw, code_bold=True, rule_y=17.6,
        slots=(
            Slot("title", "bo", **centred, y=6.2, size=9.5, min_size=7, red=True, lines=2,
                 pitch=4.6),
            Slot("title", "zh", **centred, y=16.0, size=12, min_size=8, bold=True, red=True),
            Slot("hotline_label", "bo", **column, y=35.6, size=8.5),
            Slot("hotline", "zh", **column, y=40.2, size=10.5),
            Slot("local", "zh", **column, y=44.8, size=10.5),
            Slot("slogan0", "bo", **centred, y=49.3, size=8.5, red=True),
            Slot("slogan0", "zh", **centred, y=53.9, size=9, red=True),
            Slot("slogan1", "bo", **centred, y=58.4, size=8.5, red=True),
            Slot("slogan1", "zh", **centred, y=63.3, size=9, red=True),
        ),
    )  # fmt: skip


def _six_up(w: float, h: float, bilingual: bool) -> Frame:
    mid = w / 2
    across = {"x": mid, "width": w - 2 * 3.0, "align": "centre"}
    if not bilingual:
        # Stacked: the title above the code, measured up from the lower edge the slogan,
        # short code and hotline, two lines of unit and the plate; the code takes the rest.
        slogan_y = h - 2.8
        code_y = slogan_y - 4.3
        unit_y = code_y - 8.3
        plate_y = unit_y - 4.6
        box = plate_y - 5.0 - 7.2
        return Frame(
            box_x=(w - box) / 2, box_y=7.2, box=box, plate_y=plate_y, plate_size=15.0,
            text_x=3.0, text_w=w - 6.0, unit_y=unit_y, unit_lines=2, unit_pitch=4.0,
            unit_centred=True, code_y=code_y, code_w=(w - 6.0) * 0.36, code_bold=False,
            slots=(
                Slot("title", "zh", **across, y=6.3, size=13, min_size=9, bold=True, red=True),
                Slot("hotline", "zh", x=w - 3.0, y=code_y, width=(w - 6.0) * 0.62, size=9.5,
                     align="right"),
                Slot("slogan", "zh", **across, y=slogan_y, size=9.5, red=True),
            ),
        )  # fmt: skip
    # Bilingual: both titles across the top, both slogans across the bottom, and between
    # them the code beside a column as on the 8-up label.
    top, bottom = 13.4, 13.1
    box, x, tw = _side(w, h, top, bottom)
    column = {"x": x, "width": tw}
    return Frame(
        box_x=CODE_INSET, box_y=top, box=box, plate_y=top + box + 4.6, plate_size=15.0,
        text_x=x, text_w=tw, unit_y=top + 6.0, unit_lines=3, unit_pitch=4.3,
        unit_centred=False, code_y=top + 22.0, code_w=tw, code_bold=True,
        slots=(
            Slot("title", "bo", **across, y=6.6, size=11, min_size=8, red=True),
            Slot("title", "zh", **across, y=12.6, size=13, min_size=9, bold=True, red=True),
            Slot("hotline_label", "bo", **column, y=top + 31.0, size=9.5),
            Slot("hotline", "zh", **column, y=top + 36.0, size=10.5),
            Slot("local", "zh", **column, y=top + 41.0, size=10.5),
            Slot("slogan", "bo", **across, y=h - 8.6, size=9.5, red=True),
            Slot("slogan", "zh", **across, y=h - 2.6, size=10, red=True),
        ),
    )  # fmt: skip


@functools.cache
def frame(layout: Layout, bilingual: bool = False) -> Frame:
    w, h = layout.label_w_mm, layout.label_h_mm
    return _six_up(w, h, bilingual) if h >= 85 else _eight_up(w, h, bilingual)


# Modules of whole 1/200 inch: on 600 and 1200 dpi printers every module is the same
# number of dots, and a 200 dpi render (how sheets are checked) has no grey module edges;
# with modules straddling pixels zbarimg missed 1-5 % of the codes on a full page.
# 1/600 inch is the fallback for small codes that would drop under 45 mm.
GRIDS_MM = (25.4 / 200, 25.4 / 600)


@functools.cache
def module_mm(layout: Layout, size: int, bilingual: bool = False) -> tuple[float, float | None]:
    """The module side for a code of size × size modules, as large as the box allows with
    the quiet zone inside the label and at most MAX_CODE_MM across, and the grid it (and
    the code's corner) is snapped to, if any."""
    box = frame(layout, bilingual).box
    largest = min(box / (size + 2 * QUIET_ZONE), MAX_CODE_MM / size)
    for grid in GRIDS_MM:
        module = math.floor(largest / grid + 1e-9) * grid
        if module * size >= MIN_CODE_MM:
            return module, grid
    if largest * size < MIN_CODE_MM - 1e-6:
        raise ValueError(
            f"版式 {layout.name} 放不下 {size}×{size} 模块的二维码："
            f"印刷尺寸将小于 {MIN_CODE_MM:g} 毫米"
        )
    return largest, None
