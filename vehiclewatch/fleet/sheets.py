"""Printable PDF sheets of stickers on A4 label stock, written one page at a time."""

import functools
import math
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from flask_babel import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfdoc import PDFDictionary, PDFName, PDFStream
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from ..fonts import CjkFont, cjk_font
from ..publictext import EIGHT_RULES, HOTLINE_NATIONAL, RULES_TITLE, SLOGAN, TITLE
from .qr import QUIET_ZONE, dark_runs

RULE_NUMBERS = "一二三四五六七八"


class InvalidSheet(ValueError):
    """A layout or start position the label stock does not have (the message says which)."""


MM = 72 / 25.4
# The printed code (modules only) is 45-60 mm wide, readable from a phone at arm's length;
# beyond 55 mm the text
# beside it would no longer fit a 99.1 × 67.7 mm label.
MIN_CODE_MM = 45.0
MAX_CODE_MM = 55.0
RED = (0.75, 0.0, 0.0)


@dataclass(frozen=True)
class StickerFace:
    plate: str
    unit_name: str
    short_code: str
    url: str
    matrix: list[list[bool]]  # QR modules without the quiet zone, True = dark


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


@dataclass(frozen=True)
class SheetResult:
    pages: int  # front pages; a back page follows each of them when back=True
    stickers: int
    font: CjkFont


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
class _Frame:
    """Where the parts of one label go, in mm from the label's top-left corner (y down).
    The QR sits bottom-centred in a square box with the plate right under it."""

    stacked: bool  # tall label: title above the code, text below; else text beside it
    box_x: float
    box_y: float
    box: float  # side of the square that holds the code and its quiet zone
    plate_y: float  # baseline
    text_x: float  # the text column (side) or the margin (stacked)
    text_w: float
    unit_y: float  # baseline of the unit name's first line
    unit_lines: int
    unit_pitch: float
    code_y: float  # baseline of the short code


SIDE_INSET = 1.5  # text keeps clear of the die cut, which printers miss by up to a mm
CODE_INSET = 0.8  # the quiet zone is white anyway; only misregistration matters there
PLATE_BAND = 7.0  # from the bottom of the quiet zone to the label's lower edge
TEXT_COLUMN = 36.0  # the title at 13 pt needs 32 mm


@functools.cache
def _frame(layout: Layout) -> _Frame:
    w, h = layout.label_w_mm, layout.label_h_mm
    if h >= 85:
        # Tall label: measured up from the lower edge (slogan; short code and hotline; two
        # lines of unit; plate), and the code takes what is left under the title.
        slogan_y = h - 2.5
        code_y = slogan_y - 4.3
        unit_y = code_y - 8.3
        plate_y = unit_y - 4.6
        box = plate_y - 5.0 - 7.2
        return _Frame(
            stacked=True, box_x=(w - box) / 2, box_y=7.2, box=box, plate_y=plate_y,
            text_x=3.0, text_w=w - 6.0, unit_y=unit_y, unit_lines=2, unit_pitch=4.0,
            code_y=code_y,
        )  # fmt: skip
    box = min(h - CODE_INSET - PLATE_BAND, w - CODE_INSET - TEXT_COLUMN - SIDE_INSET)
    text_x = CODE_INSET + box + 0.8
    return _Frame(
        stacked=False, box_x=CODE_INSET, box_y=CODE_INSET, box=box,
        plate_y=CODE_INSET + box + 5.0, text_x=text_x, text_w=w - text_x - SIDE_INSET,
        unit_y=13.5, unit_lines=3, unit_pitch=4.3, code_y=31.0,
    )  # fmt: skip


# Modules of whole 1/200 inch: on 600 and 1200 dpi printers every module is the same
# number of dots, and a 200 dpi render (how sheets are checked) has no grey module edges;
# with modules straddling pixels zbarimg missed 1-5 % of the codes on a full page.
# 1/600 inch is the fallback for small codes that would drop under 45 mm.
GRIDS_MM = (25.4 / 200, 25.4 / 600)


@functools.cache
def _module_mm(layout: Layout, size: int) -> tuple[float, float | None]:
    """The module side for a code of size × size modules, as large as the box allows with
    the quiet zone inside the label and at most MAX_CODE_MM across, and the grid it (and
    the code's corner) is snapped to, if any."""
    largest = min(_frame(layout).box / (size + 2 * QUIET_ZONE), MAX_CODE_MM / size)
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


def _fit_size(text: str, font: str, width_mm: float, size: float, min_size: float) -> float:
    """The largest size from `size` down to `min_size` at which text fits the width."""
    natural = stringWidth(text, font, size) / MM
    return max(min_size, min(size, size * width_mm / natural)) if natural else size


@functools.lru_cache(maxsize=512)
def _wrap(
    text: str, font: str, width_mm: float, size: float, min_size: float, max_lines: int
) -> tuple[float, tuple[str, ...]]:
    """Shrink, then break between characters (Chinese has no spaces to break at), to fit
    max_lines of width_mm. Cached: a sheet is sorted by unit, so names repeat."""
    text = " ".join(text.split())
    step = 0.5
    current = size
    while True:
        lines: list[str] = []
        line = ""
        for char in text:
            if line and stringWidth(line + char, font, current) / MM > width_mm:
                lines.append(line.rstrip())
                line = char.lstrip()
            else:
                line += char
        lines.append(line)
        if len(lines) <= max_lines or current - step < min_size:
            break
        current -= step
    if len(lines) > max_lines:
        # Even the smallest size does not hold it: keep the start, which names the unit.
        lines = lines[:max_lines]
        last = lines[-1]
        while last and stringWidth(last + "…", font, current) / MM > width_mm:
            last = last[:-1]
        lines[-1] = last + "…"
    return current, tuple(lines)


class _Sheet:
    """One label layout on a reportlab canvas; coordinates handed in are label mm, y down."""

    def __init__(self, canvas: Canvas, layout: Layout, font: CjkFont):
        self.c = canvas
        self.layout = layout
        self.frame = _frame(layout)
        self.font = font.name
        self.page_h = A4[1]

    def label_origin(self, position: int, mirrored: bool = False) -> tuple[float, float]:
        """The top-left corner of a label position (0-based), in mm from the page's
        top-left corner."""
        row, col = divmod(position, self.layout.cols)
        x = self.layout.left_mm + col * self.layout.h_pitch_mm
        if mirrored:
            # A long-edge duplex flip puts the back of a label at the mirrored x on the page.
            x = A4[0] / MM - x - self.layout.label_w_mm
        return x, self.layout.top_mm + row * self.layout.v_pitch_mm

    def move_to_label(self, x_mm: float, y_mm: float) -> None:
        self.c.translate(x_mm * MM, self.page_h - y_mm * MM)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: float,
        *,
        align: str = "left",
        bold: bool = False,
        color: tuple[float, float, float] | None = None,
    ) -> None:
        c = self.c
        c.setFont(self.font, size)
        if color:
            c.setFillColorRGB(*color)
            c.setStrokeColorRGB(*color)
        mode = None
        if bold:
            # The Chinese fonts have no bold face; a thin outline stroke thickens the fill.
            c.setLineWidth(size / 30)
            mode = 2
        draw = {"left": c.drawString, "centre": c.drawCentredString, "right": c.drawRightString}
        draw[align](x * MM, -y * MM, text, mode=mode)
        if color:
            c.setFillColorRGB(0, 0, 0)
            c.setStrokeColorRGB(0, 0, 0)

    def fit(self, text: str, width_mm: float, size: float, min_size: float = 6) -> float:
        return _fit_size(text, self.font, width_mm, size, min_size)

    def front_template(self, hotline_local: str) -> None:
        """The text every label shares, drawn once as a form and placed on each label."""
        f = self.frame
        w, h = self.layout.label_w_mm, self.layout.label_h_mm
        c = self.c
        c.beginForm("front", 0, -h * MM, w * MM, 0)
        if f.stacked:
            size = self.fit(TITLE, w - 6, 14, 9)
            self.text(w / 2, 6.0, TITLE, size, align="centre", bold=True, color=RED)
            hotline = f"举报电话 {HOTLINE_NATIONAL}  {hotline_local}"
            size = self.fit(hotline, f.text_w * 0.62, 9.5)
            self.text(w - f.text_x, f.code_y, hotline, size, align="right")
            slogan = f"{SLOGAN[0]} · {SLOGAN[1]}"
            size = self.fit(slogan, f.text_w, 9.5)
            self.text(w / 2, h - 2.5, slogan, size, align="centre", color=RED)
        else:
            mid = f.text_x + f.text_w / 2
            size = self.fit(TITLE, f.text_w, 13, 8)
            self.text(mid, 6.5, TITLE, size, align="centre", bold=True, color=RED)
            c.setStrokeColorRGB(*RED)
            c.setLineWidth(0.6)
            c.line(f.text_x * MM, -8.6 * MM, (f.text_x + f.text_w) * MM, -8.6 * MM)
            c.setStrokeColorRGB(0, 0, 0)
            national = f"举报电话 {HOTLINE_NATIONAL}"
            self.text(f.text_x, 38.5, national, self.fit(national, f.text_w, 10.5))
            self.text(f.text_x, 43.3, hotline_local, self.fit(hotline_local, f.text_w, 10.5))
            for line, y in zip(SLOGAN, (h - 6.9, h - 2.6), strict=True):
                self.text(mid, y, line, self.fit(line, f.text_w, 10), align="centre", color=RED)
        c.endForm()

    def back_template(self) -> None:
        fn = self.font
        w, h = self.layout.label_w_mm, self.layout.label_h_mm
        c = self.c
        c.beginForm("back", 0, -h * MM, w * MM, 0)
        size = self.fit(RULES_TITLE, w - 6, 13, 8)
        self.text(w / 2, 7.5, RULES_TITLE, size, align="centre", bold=True, color=RED)
        lines = [f"{n}、{rule}" for n, rule in zip(RULE_NUMBERS, EIGHT_RULES, strict=True)]
        room = h - 15.0 - 3.5  # between the first and the last baseline
        pitch = min(9.5, room / (len(lines) - 1))
        first = 15.0 + (room - pitch * (len(lines) - 1)) / 2
        size = min(self.fit(line, w - 12, 12) for line in lines)
        size = min(size, pitch * MM * 0.6)  # keep a gap between lines on short labels
        x = (w - max(stringWidth(line, fn, size) for line in lines) / MM) / 2
        for i, line in enumerate(lines):
            self.text(x, first + i * pitch, line, size)
        c.endForm()

    def draw_front(self, position: int, face: StickerFace) -> None:
        c, f = self.c, self.frame
        x0, y0 = self.label_origin(position)
        c.saveState()
        self.move_to_label(x0, y0)
        c.doForm("front")
        size = len(face.matrix)
        module, grid = _module_mm(self.layout, size)
        block = module * (size + 2 * QUIET_ZONE)
        left = f.box_x + (f.box - block) / 2 + QUIET_ZONE * module
        # At the bottom of the box, so that the plate stays right under the code.
        top = f.box_y + f.box - block + QUIET_ZONE * module
        if grid:
            # The grid counts from the page's top-left corner, as printers and renderers do.
            left = round((x0 + left) / grid) * grid - x0
            top = round((y0 + top) / grid) * grid - y0
        self._draw_code(face.matrix, left * MM, -top * MM, module * MM)
        # Large and heavy: a sticker moved to another car shows the wrong plate at a glance.
        size = self.fit(face.plate, f.box - 2, 17, 10)
        self.text(f.box_x + f.box / 2, f.plate_y, face.plate, size, align="centre", bold=True)
        size, lines = _wrap(face.unit_name, self.font, f.text_w, 10.5, 7.5, f.unit_lines)
        x, align = (self.layout.label_w_mm / 2, "centre") if f.stacked else (f.text_x, "left")
        if f.stacked and len(lines) == 1:
            self.text(x, f.unit_y + f.unit_pitch / 2, lines[0], size, align=align)
        else:
            for i, line in enumerate(lines):
                self.text(x, f.unit_y + i * f.unit_pitch, line, size, align=align)
        code = f"短码 {face.short_code}"
        if f.stacked:
            self.text(f.text_x, f.code_y, code, self.fit(code, f.text_w * 0.36, 9.5))
        else:
            self.text(f.text_x, f.code_y, code, self.fit(code, f.text_w, 11), bold=True)
        c.restoreState()

    def _draw_code(self, matrix: list[list[bool]], x: float, y: float, module: float) -> None:
        """The code as one filled rectangle per horizontal run, in module units: integer
        operands keep the page stream small (a 10,000-sticker sheet holds 2.5 M of them)."""
        parts = [f"q {module:.6f} 0 0 {-module:.6f} {x:.4f} {y:.4f} cm 0 g"]
        parts.extend(f"{col} {row} {length} 1 re" for row, col, length in dark_runs(matrix))
        parts.append("f Q")
        self.c.addLiteral("\n".join(parts))

    def show_page(self) -> None:
        self.c.showPage()
        # reportlab keeps each page's content as text until save() and compresses it only
        # then: 10,000 stickers would hold ~30 MB of it. Compressing each page as it closes
        # keeps memory nearly flat; a stream that already names its Filter is left as is.
        page = self.c._doc.Pages.pages[-1]
        if page.stream:
            content = zlib.compress(page.stream.encode("utf-8"))
            filters = PDFDictionary({"Filter": PDFName("FlateDecode")})
            page.Contents = PDFStream(filters, content)
            page.stream = None

    def draw_back(self, position: int) -> None:
        self.c.saveState()
        self.move_to_label(*self.label_origin(position, mirrored=True))
        self.c.doForm("back")
        self.c.restoreState()


def write_sheet(
    out: BinaryIO | str,
    faces: Iterable[StickerFace],
    *,
    layout: str = DEFAULT_LAYOUT,
    start: int = 1,
    hotline_local: str,
    back: bool = False,
    font: CjkFont | None = None,
) -> SheetResult:
    """Write the faces as a PDF of label sheets. `start` is the first free position
    (1-based, across then down) on the first sheet, for a partly used sheet fed again.
    Faces are read lazily and each page is closed before the next face is read."""
    chosen = LAYOUTS.get(layout)
    if chosen is None:
        raise InvalidSheet(
            _("未知的版式：%(layout)s（可选：%(known)s）", layout=layout, known="、".join(LAYOUTS))
        )
    if not 1 <= start <= chosen.per_sheet:
        raise InvalidSheet(
            _("起始位置须在 1 到 %(last)d 之间，收到 %(start)d", last=chosen.per_sheet, start=start)
        )
    font = font or cjk_font()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(TITLE)
    canvas.setCreator("vehiclewatch")
    sheet = _Sheet(canvas, chosen, font)
    sheet.front_template(hotline_local)
    if back:
        sheet.back_template()

    stickers = pages = 0
    position = start - 1
    printed: list[int] = []  # positions used on the current page, for its back

    def close_page() -> None:
        nonlocal pages
        sheet.show_page()
        pages += 1
        if back:
            for used in printed:
                sheet.draw_back(used)
            sheet.show_page()
        printed.clear()

    for face in faces:
        if position == chosen.per_sheet:
            close_page()
            position = 0
        sheet.draw_front(position, face)
        printed.append(position)
        position += 1
        stickers += 1
    if printed:
        close_page()
    canvas.save()
    return SheetResult(pages=pages, stickers=stickers, font=font)
