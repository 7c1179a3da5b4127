"""One sticker as an image, SVG or PNG, for a print shop or a single replacement."""

import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw

from ..fonts import CjkFont, cjk_font, pil_font
from ..publictext import HOTLINE_NATIONAL, SLOGAN, TITLE
from .qr import QUIET_ZONE, dark_runs
from .sheets import StickerFace

# The design in mm, portrait. Printed at 100 %, a code of 29 modules or more (every
# sticker URL) spans at least 45 mm.
WIDTH, HEIGHT = 70.0, 100.0
BLOCK_X, BLOCK_Y, BLOCK = 6.0, 11.5, 58.0  # the code with its quiet zone
MARGIN = 3.0
FONT_FAMILY = "WenQuanYi Micro Hei, Noto Sans CJK SC, sans-serif"
BLACK, RED = "#000000", "#bf0000"


@dataclass(frozen=True)
class _Line:
    y: float  # baseline, mm
    size: float  # em, mm
    text: str
    bold: bool = False
    colour: str = BLACK


def _lines(face: StickerFace, hotline_local: str) -> list[_Line]:
    return [
        _Line(9.0, 5.5, TITLE, bold=True, colour=RED),
        _Line(76.0, 7.0, face.plate, bold=True),
        _Line(82.0, 3.8, face.unit_name),
        _Line(87.0, 3.6, f"短码 {face.short_code}", bold=True),
        _Line(91.8, 3.4, f"举报电话 {HOTLINE_NATIONAL}  {hotline_local}"),
        _Line(97.0, 3.4, f"{SLOGAN[0]} · {SLOGAN[1]}", colour=RED),
    ]


def _svg_size(text: str, size: float, room: float) -> float:
    """A font size at which the text fits the room, from an estimate made without the
    font (CJK glyphs are square, Latin ones at most 0.6 wide). Not textLength: librsvg
    ignores it."""
    width = sum(1.0 if ord(c) >= 0x2E80 else 0.6 for c in text)
    return min(size, room / width) if width else size


def sticker_svg(face: StickerFace, hotline_local: str) -> str:
    """A self-contained SVG document in mm (no scripts, fonts or links to fetch)."""
    size = len(face.matrix)
    module = BLOCK / (size + 2 * QUIET_ZONE)
    # Module units inside the group: whole numbers, and crispEdges keeps them sharp.
    path = "".join(
        f"M{x + QUIET_ZONE} {y + QUIET_ZONE}h{n}v1h-{n}z" for y, x, n in dark_runs(face.matrix)
    )
    side = size + 2 * QUIET_ZONE
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:g}mm" height="{HEIGHT:g}mm"'
        f' viewBox="0 0 {WIDTH:g} {HEIGHT:g}">',
        f"<title>{escape(TITLE)} {escape(face.plate)}</title>",
        f'<rect width="{WIDTH:g}" height="{HEIGHT:g}" fill="#ffffff"/>',
        f'<g transform="translate({BLOCK_X:g} {BLOCK_Y:g}) scale({module:.6f})"'
        ' shape-rendering="crispEdges">',
        f'<rect width="{side}" height="{side}" fill="#ffffff"/>',
        f'<path fill="#000000" d="{path}"/>',
        "</g>",
        f'<g font-family="{FONT_FAMILY}" text-anchor="middle">',
    ]
    room = WIDTH - 2 * MARGIN
    for line in _lines(face, hotline_local):
        size = _svg_size(line.text, line.size, room)
        attrs = f'x="{WIDTH / 2:g}" y="{line.y:g}" font-size="{size:.2f}" fill="{line.colour}"'
        if line.bold:
            attrs += ' font-weight="bold"'
        parts.append(f"<text {attrs}>{escape(line.text)}</text>")
    parts += ["</g>", "</svg>", ""]
    return "\n".join(parts)


def _qr_image(matrix: list[list[bool]], module_px: int) -> Image.Image:
    """The modules, quiet zone included, as pure black and white at whole pixels each."""
    size = len(matrix)
    side = size + 2 * QUIET_ZONE
    small = Image.new("L", (size, size))
    small.putdata([0 if dark else 255 for row in matrix for dark in row])
    framed = Image.new("L", (side, side), 255)
    framed.paste(small, (QUIET_ZONE, QUIET_ZONE))
    # Nearest-neighbour scaling by a whole factor: no grey edges for a scanner to guess at.
    return framed.resize((side * module_px, side * module_px), Image.Resampling.NEAREST)


def sticker_png(
    face: StickerFace, hotline_local: str, font: CjkFont | None = None, module_px: int = 12
) -> bytes:
    """The SVG's design drawn with Pillow, scaled so that a module is module_px pixels."""
    font = font or cjk_font()
    code = _qr_image(face.matrix, module_px)
    px_per_mm = code.width / BLOCK
    image = Image.new("RGB", (round(WIDTH * px_per_mm), round(HEIGHT * px_per_mm)), "white")
    image.paste(code, (round(BLOCK_X * px_per_mm), round(BLOCK_Y * px_per_mm)))
    draw = ImageDraw.Draw(image)
    room = (WIDTH - 2 * MARGIN) * px_per_mm
    for line in _lines(face, hotline_local):
        size = max(6, round(line.size * px_per_mm))
        face_font = pil_font(font, size)
        while size > 6 and draw.textlength(line.text, font=face_font) > room:
            size -= 1
            face_font = pil_font(font, size)
        # No bold face in the Chinese fonts: a one-pixel outline in the text colour.
        stroke = max(1, size // 45) if line.bold else 0
        draw.text(
            (image.width / 2, line.y * px_per_mm),
            line.text,
            fill=line.colour,
            font=face_font,
            anchor="ms",
            stroke_width=stroke,
            stroke_fill=line.colour,
        )
    out = io.BytesIO()
    # The resolution in the file makes "print at 100 %" come out at the design's 70 mm.
    dpi = px_per_mm * 25.4
    image.save(out, "PNG", dpi=(dpi, dpi))
    return out.getvalue()
