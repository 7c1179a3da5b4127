"""One sticker as an image, SVG or PNG, for a print shop or a single replacement."""

import io
import math
from dataclasses import dataclass
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageOps, features

from ..fonts import Font, cjk_font, pil_font
from ..publictext import HOTLINE_NATIONAL, SLOGAN, TITLE
from ..stickertext import DRAFT_MARK, HOTLINE_LABEL, StickerTextError, Wording
from .layouts import MM
from .lettering import text_width
from .qr import QUIET_ZONE, dark_runs
from .sheets import StickerFace

# The design in mm, portrait. Printed at 100 %, a code of 29 modules or more (every
# sticker URL) spans at least 45 mm. A bilingual sticker is taller: Tibetan lines above
# the Chinese ones.
WIDTH, HEIGHT, HEIGHT_BILINGUAL = 70.0, 100.0, 121.0
BLOCK_X, BLOCK = 6.0, 58.0  # the code with its quiet zone
MARGIN = 3.0
FONT_FAMILY = "WenQuanYi Micro Hei, Noto Sans CJK SC, sans-serif"
TIBETAN_FAMILY = "Noto Serif Tibetan, Tibetan Machine Uni, Microsoft Himalaya, serif"
BLACK, RED, DRAFT = "#000000", "#bf0000", "#ffc7c7"
DRAFT_ANGLE = 25


@dataclass(frozen=True)
class _Line:
    y: float  # baseline, mm
    size: float  # em, mm
    text: str
    bold: bool = False
    colour: str = BLACK
    tibetan: bool = False


@dataclass(frozen=True)
class _Design:
    height: float
    block_y: float
    lines: list[_Line]


def _design(face: StickerFace, hotline_local: str, wording: Wording) -> _Design:
    hotline = f"{HOTLINE_LABEL} {HOTLINE_NATIONAL}  {hotline_local}"
    if not wording.bilingual:
        return _Design(HEIGHT, 11.5, [
            _Line(9.0, 5.5, TITLE, bold=True, colour=RED),
            _Line(76.0, 7.0, face.plate, bold=True),
            _Line(82.0, 3.8, face.unit_name),
            _Line(87.0, 3.6, f"短码 {face.short_code}", bold=True),
            _Line(91.8, 3.4, hotline),
            _Line(97.0, 3.4, f"{SLOGAN[0]} · {SLOGAN[1]}", colour=RED),
        ])  # fmt: skip
    bo = wording.bo
    return _Design(HEIGHT_BILINGUAL, 16.5, [
        _Line(7.8, 4.0, bo(TITLE), colour=RED, tibetan=True),
        _Line(14.2, 5.5, TITLE, bold=True, colour=RED),
        _Line(81.0, 7.0, face.plate, bold=True),
        _Line(87.0, 3.8, face.unit_name),
        _Line(92.0, 3.6, f"短码 {face.short_code}", bold=True),
        _Line(97.4, 3.4, bo(HOTLINE_LABEL), tibetan=True),
        _Line(102.0, 3.4, hotline),
        _Line(107.6, 3.2, bo(SLOGAN[0]), colour=RED, tibetan=True),
        _Line(112.6, 3.2, bo(SLOGAN[1]), colour=RED, tibetan=True),
        _Line(117.6, 3.4, f"{SLOGAN[0]} · {SLOGAN[1]}", colour=RED),
    ])  # fmt: skip


def _svg_size(line: _Line, room: float, tibetan_font: Font | None) -> float:
    """A font size at which the text fits the room: Tibetan measured shaped in the font the
    PDF uses, Chinese from an estimate made without the font (CJK glyphs are square, Latin
    ones at most 0.6 wide). Not textLength: librsvg ignores it."""
    if line.tibetan and tibetan_font is not None:
        width = text_width(line.text, tibetan_font.name, line.size * MM, shaped=True)
        return min(line.size, line.size * room / width) if width else line.size
    width = sum(1.0 if ord(c) >= 0x2E80 else 0.6 for c in line.text)
    return min(line.size, room / width) if width else line.size


def _draft_size(length: float, room_w: float, room_h: float) -> float:
    """The em of the draft mark, `length` ems long, as large as fits the room at its angle."""
    cos, sin = math.cos(math.radians(DRAFT_ANGLE)), math.sin(math.radians(DRAFT_ANGLE))
    return min(room_w / (length * cos + sin), room_h / (length * sin + cos))


def sticker_svg(
    face: StickerFace,
    hotline_local: str,
    wording: Wording | None = None,
    tibetan_font: Font | None = None,
) -> str:
    """A self-contained SVG document in mm (no scripts, fonts or links to fetch). Tibetan
    is text in a Tibetan font family: SVG renderers (browsers, librsvg, Inkscape) shape it
    with HarfBuzz, so the machine that prints needs a Tibetan font."""
    wording = wording or Wording()
    design = _design(face, hotline_local, wording)
    size = len(face.matrix)
    module = BLOCK / (size + 2 * QUIET_ZONE)
    # Module units inside the group: whole numbers, and crispEdges keeps them sharp.
    path = "".join(
        f"M{x + QUIET_ZONE} {y + QUIET_ZONE}h{n}v1h-{n}z" for y, x, n in dark_runs(face.matrix)
    )
    height = design.height
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:g}mm" height="{height:g}mm"'
        f' viewBox="0 0 {WIDTH:g} {height:g}">',
        f"<title>{escape(TITLE)} {escape(face.plate)}</title>",
        f'<rect width="{WIDTH:g}" height="{height:g}" fill="#ffffff"/>',
    ]
    room = WIDTH - 2 * MARGIN
    if wording.draft:
        em = _draft_size(len(DRAFT_MARK), room, height - 2 * MARGIN)
        parts.append(
            f'<text x="{WIDTH / 2:g}" y="{height / 2 + 0.35 * em:.2f}" font-size="{em:.2f}"'
            f' font-family="{FONT_FAMILY}" text-anchor="middle" fill="{DRAFT}"'
            f' transform="rotate(-{DRAFT_ANGLE} {WIDTH / 2:g} {height / 2:g})">{DRAFT_MARK}</text>'
        )
    parts += [
        f'<g transform="translate({BLOCK_X:g} {design.block_y:g}) scale({module:.6f})"'
        ' shape-rendering="crispEdges">',
        f'<path fill="#000000" d="{path}"/>',
        "</g>",
        f'<g font-family="{FONT_FAMILY}" text-anchor="middle">',
    ]
    for line in design.lines:
        size = _svg_size(line, room, tibetan_font)
        attrs = f'x="{WIDTH / 2:g}" y="{line.y:g}" font-size="{size:.2f}" fill="{line.colour}"'
        if line.bold:
            attrs += ' font-weight="bold"'
        if line.tibetan:
            attrs += f' lang="bo" font-family="{TIBETAN_FAMILY}"'
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


def _draft_layer(size: tuple[int, int], font: Font, px_per_mm: float) -> Image.Image:
    """翻译未审核 across the sticker, on a transparent layer of the sticker's size."""
    room = (WIDTH - 2 * MARGIN) * px_per_mm
    em = round(_draft_size(len(DRAFT_MARK), room, size[1] - 2 * MARGIN * px_per_mm))
    face_font = pil_font(font, em)
    box = face_font.getbbox(DRAFT_MARK)
    text = Image.new("RGBA", (box[2] + 2, box[3] + 2), (255, 255, 255, 0))
    ImageDraw.Draw(text).text((1, 1), DRAFT_MARK, fill=DRAFT, font=face_font)
    text = text.rotate(DRAFT_ANGLE, expand=True, resample=Image.Resampling.BICUBIC)
    layer = Image.new("RGBA", size, (255, 255, 255, 0))
    layer.paste(text, ((size[0] - text.width) // 2, (size[1] - text.height) // 2))
    return layer


def sticker_png(
    face: StickerFace,
    hotline_local: str,
    font: Font | None = None,
    module_px: int = 12,
    wording: Wording | None = None,
    tibetan_font: Font | None = None,
) -> bytes:
    """The SVG's design drawn with Pillow, scaled so that a module is module_px pixels.
    Tibetan is shaped by Pillow's libraqm layout, which its wheels carry."""
    font = font or cjk_font()
    wording = wording or Wording()
    if wording.bilingual and not features.check_feature("raqm"):
        raise StickerTextError("Pillow 缺少 libraqm，无法排版藏文（请安装 Pillow 官方发行包）")
    design = _design(face, hotline_local, wording)
    code = _qr_image(face.matrix, module_px)
    px_per_mm = code.width / BLOCK
    image = Image.new("RGB", (round(WIDTH * px_per_mm), round(design.height * px_per_mm)), "white")
    if wording.draft:
        layer = _draft_layer(image.size, font, px_per_mm)
        image.paste(layer, (0, 0), layer)
    # Only the dark modules are painted: a draft mark shows through the light ones.
    dark = ImageOps.invert(code)
    image.paste((0, 0, 0), (round(BLOCK_X * px_per_mm), round(design.block_y * px_per_mm)), dark)
    draw = ImageDraw.Draw(image)
    room = (WIDTH - 2 * MARGIN) * px_per_mm
    for line in design.lines:
        line_font = tibetan_font if line.tibetan else font
        size = max(6, round(line.size * px_per_mm))
        face_font = pil_font(line_font, size)
        while size > 6 and draw.textlength(line.text, font=face_font) > room:
            size -= 1
            face_font = pil_font(line_font, size)
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
