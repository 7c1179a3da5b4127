"""Printable PDF sheets of stickers on A4 label stock, written one page at a time."""

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from flask_babel import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfdoc import PDFDictionary, PDFName, PDFStream
from reportlab.pdfgen.canvas import Canvas

from ..fonts import Font, cjk_font
from ..publictext import TITLE
from ..stickertext import StickerTextError, Wording
from .labeltext import back_template, front_template
from .layouts import DEFAULT_LAYOUT, LAYOUTS, MM, InvalidSheet, Layout, frame, module_mm
from .lettering import Pen, fit, wrap
from .qr import QUIET_ZONE, dark_runs


class NoTibetanFont(StickerTextError):
    """Tibetan was asked for and no Tibetan font is installed or configured."""


NO_TIBETAN_FONT = (  # translated where raised
    "藏文监督码需要藏文字体：请安装 fonts-noto-core（或 fonts-tibetan-machine），"
    "或以 VEHICLEWATCH_TIBETAN_FONT_PATH 指定字体文件"
)


@dataclass(frozen=True)
class StickerFace:
    plate: str
    unit_name: str
    short_code: str
    url: str
    matrix: list[list[bool]]  # QR modules without the quiet zone, True = dark


@dataclass(frozen=True)
class SheetResult:
    pages: int  # front pages; a back page follows each of them when back=True
    stickers: int
    font: Font
    tibetan_font: Font | None = None
    draft: bool = False


class _Sheet:
    """One label layout on a reportlab canvas; coordinates handed in are label mm, y down."""

    def __init__(self, canvas: Canvas, layout: Layout, pen: Pen, wording: Wording):
        self.c = canvas
        self.layout = layout
        self.wording = wording
        self.bilingual = wording.bilingual
        self.frame = frame(layout, self.bilingual)
        self.pen = pen
        self.font = pen.font
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

    def draw_front(self, position: int, face: StickerFace) -> None:
        c, f, pen = self.c, self.frame, self.pen
        x0, y0 = self.label_origin(position)
        c.saveState()
        self.move_to_label(x0, y0)
        c.doForm("front")
        size = len(face.matrix)
        module, grid = module_mm(self.layout, size, self.bilingual)
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
        size = fit(face.plate, self.font, f.box - 2, f.plate_size, 10)
        pen.text(f.box_x + f.box / 2, f.plate_y, face.plate, size, align="centre", bold=True)
        size, lines = wrap(face.unit_name, self.font, f.text_w, 10.5, 7.5, f.unit_lines)
        x, align = (f.text_x + f.text_w / 2, "centre") if f.unit_centred else (f.text_x, "left")
        if f.unit_centred and len(lines) == 1:
            pen.text(x, f.unit_y + f.unit_pitch / 2, lines[0], size, align=align)
        else:
            for i, line in enumerate(lines):
                pen.text(x, f.unit_y + i * f.unit_pitch, line, size, align=align)
        code = f"短码 {face.short_code}"
        size = fit(code, self.font, f.code_w, 11 if f.code_bold else 9.5)
        pen.text(f.text_x, f.code_y, code, size, bold=f.code_bold)
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
    font: Font | None = None,
    wording: Wording | None = None,
    tibetan_font: Font | None = None,
) -> SheetResult:
    """Write the faces as a PDF of label sheets. `start` is the first free position
    (1-based, across then down) on the first sheet, for a partly used sheet fed again.
    Faces are read lazily and each page is closed before the next face is read. A
    bilingual wording needs the Tibetan font."""
    chosen = LAYOUTS.get(layout)
    if chosen is None:
        raise InvalidSheet(
            _("未知的版式：%(layout)s（可选：%(known)s）", layout=layout, known="、".join(LAYOUTS))
        )
    if not 1 <= start <= chosen.per_sheet:
        raise InvalidSheet(
            _("起始位置须在 1 到 %(last)d 之间，收到 %(start)d", last=chosen.per_sheet, start=start)
        )
    wording = wording or Wording()
    if wording.bilingual and tibetan_font is None:
        raise NoTibetanFont(_(NO_TIBETAN_FONT))
    font = font or cjk_font()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(TITLE)
    canvas.setCreator("vehiclewatch")
    pen = Pen(canvas, font, tibetan_font if wording.bilingual else None)
    sheet = _Sheet(canvas, chosen, pen, wording)
    front_template(pen, chosen, sheet.frame, wording, hotline_local)
    if back:
        back_template(pen, chosen, wording)

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
    return SheetResult(
        pages=pages,
        stickers=stickers,
        font=font,
        tibetan_font=tibetan_font if wording.bilingual else None,
        draft=wording.draft,
    )
