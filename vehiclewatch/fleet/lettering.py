"""Text on a label: Chinese drawn as plain strings, Tibetan shaped through HarfBuzz.

Tibetan letters stack (བསྒྲུབས is seven code points drawn as four glyphs), and only a
shaping engine knows how: reportlab shapes a Paragraph whose style asks for it, never a
plain drawString. Stacked Tibetan does not extract as text from the PDF, so the Chinese
lines stay the searchable layer."""

import functools
import re
from xml.sax.saxutils import escape

from reportlab.lib.colors import Color
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import getFont, stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.textobject import bidiShapedText
from reportlab.platypus import Paragraph

from ..fonts import Font
from ..stickertext import StickerTextError
from .layouts import MM

RED = (0.75, 0.0, 0.0)
# A Tibetan line breaks after a syllable's tsheg (་) or a shad (།), never inside a stack.
TIBETAN_UNIT = re.compile(r"[^་།\s]*[་།\s]*")


def text_width(text: str, font: str, size: float, shaped: bool = False) -> float:
    """The width in mm, of the shaped glyph run where `shaped`."""
    if shaped:
        return bidiShapedText(text, None, fontName=font, fontSize=size, shaping=True)[1] / MM
    return stringWidth(text, font, size) / MM


def _units(text: str, shaped: bool) -> list[str]:
    if shaped:
        return [unit for unit in TIBETAN_UNIT.findall(text) if unit]
    return list(text)  # Chinese has no spaces to break at: between any two characters


def _break(text: str, font: str, width_mm: float, size: float, shaped: bool) -> list[str]:
    """Greedy line breaking: as many units on each line as fit the width."""
    lines: list[str] = []
    line = ""
    for unit in _units(text, shaped):
        if line and text_width(line + unit, font, size, shaped) > width_mm:
            lines.append(line.rstrip())
            line = unit.lstrip()
        else:
            line += unit
    lines.append(line.rstrip())
    return lines


@functools.lru_cache(maxsize=512)
def wrap(
    text: str,
    font: str,
    width_mm: float,
    size: float,
    min_size: float,
    max_lines: int,
    shaped: bool = False,
) -> tuple[float, tuple[str, ...]]:
    """Shrink, then break, to fit max_lines of width_mm. Cached: a sheet is sorted by unit,
    so names repeat, and the fixed texts are the same on every sheet."""
    text = " ".join(text.split())
    step = 0.5
    current = size
    while True:
        lines = _break(text, font, width_mm, current, shaped)
        if len(lines) <= max_lines or current - step < min_size:
            break
        current -= step
    if shaped:
        too_wide = any(text_width(line, font, current, True) > width_mm for line in lines)
        if len(lines) > max_lines or too_wide:
            # A fixed text is never cut short: a truncated rule would say something else.
            raise StickerTextError(
                f"“{text}”在 {width_mm:.1f} 毫米宽、{max_lines} 行内放不下（最小 {min_size:g} 磅）"
            )
        return current, tuple(_balanced(text, font, width_mm, current, lines))
    if len(lines) > max_lines:
        # Even the smallest size does not hold it: keep the start, which names the unit.
        lines = lines[:max_lines]
        last = lines[-1]
        while last and text_width(last + "…", font, current) > width_mm:
            last = last[:-1]
        lines[-1] = last + "…"
    return current, tuple(lines)


def _balanced(text: str, font: str, width_mm: float, size: float, lines: list[str]) -> list[str]:
    """The same number of lines, as even as they go: a title does not end on a lone word."""
    target = text_width(text, font, size, True) / len(lines)
    while len(lines) > 1 and target < width_mm:
        even = _break(text, font, target, size, True)
        if len(even) <= len(lines):
            return even
        target += 0.5
    return lines


def fit(text: str, font: str, width_mm: float, size: float, min_size: float = 6) -> float:
    """The largest size from `size` down to `min_size` at which text fits the width."""
    natural = stringWidth(text, font, size) / MM
    return max(min_size, min(size, size * width_mm / natural)) if natural else size


class MissingGlyphs(StickerTextError):
    """A fixed text has a character the Tibetan font cannot draw."""


class Pen:
    """Draws text on a canvas whose origin is a label's top-left corner, in label mm (y
    down): Chinese in the CJK font, Tibetan in the Tibetan font, shaped."""

    def __init__(self, canvas: Canvas, cjk: Font, tibetan: Font | None = None):
        self.c = canvas
        self.font = cjk.name
        self.tibetan_font = tibetan.name if tibetan else None

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

    def tibetan(
        self,
        x: float,
        y: float,
        text: str,
        size: float,
        *,
        align: str = "left",
        color: tuple[float, float, float] | None = None,
    ) -> None:
        """One line of Tibetan with its baseline at y, placed by its shaped width."""
        missing = sorted({ch for ch in text if not ch.isspace()} - _covered(self.tibetan_font))
        if missing:
            # A box in place of a letter on ten thousand stickers: refuse instead.
            raise MissingGlyphs(f"藏文字体缺少“{text}”中的字符 {' '.join(missing)}")
        width = text_width(text, self.tibetan_font, size, shaped=True)
        left = {"left": x, "centre": x - width / 2, "right": x - width}[align]
        style = _tibetan_style(self.tibetan_font, size, color or (0, 0, 0))
        paragraph = Paragraph(escape(text), style)
        # Wider than the line by a little, so that rounding never breaks it in two.
        paragraph.wrap((width + 1) * MM, size * 4)
        # One line with leading == size: the paragraph's bottom edge is its baseline.
        paragraph.drawOn(self.c, left * MM, -y * MM)


@functools.cache
def _covered(font: str) -> set[str]:
    return {chr(code) for code in getFont(font).face.charToGlyph}


@functools.cache
def _tibetan_style(font: str, size: float, color: tuple[float, float, float]) -> ParagraphStyle:
    return ParagraphStyle(
        f"bo-{size}", fontName=font, fontSize=size, leading=size, shaping=1, textColor=Color(*color)
    )
