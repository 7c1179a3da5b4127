"""The fonts for stickers and bulletins: a Chinese TrueType file shared by the PDF sheets and
the PNG, and for bilingual stickers a Tibetan one."""

import functools
import logging
import os
from dataclasses import dataclass

from PIL import ImageFont
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

log = logging.getLogger(__name__)

# TrueType outlines only: reportlab cannot embed CFF-flavoured OpenType, which is what
# fonts-noto-cjk ships, so a Noto entry that fails to load is skipped, not fatal.
SYSTEM_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
)
BUILTIN_FONT = "STSong-Light"
# Debian's fonts-noto-core and fonts-tibetan-machine; both shape through HarfBuzz.
TIBETAN_FONTS = (
    "/usr/share/fonts/truetype/noto/NotoSerifTibetan-Regular.ttf",
    "/usr/share/fonts/truetype/tibetan-machine/TibetanMachineUni.ttf",
)
TIBETAN_KA = 0x0F40  # ཀ: a font without it has no Tibetan


@dataclass(frozen=True)
class Font:
    """A font registered with reportlab."""

    name: str  # the reportlab font name
    path: str | None  # the TrueType file, or None for reportlab's built-in CID font
    description: str


@functools.cache
def _register_truetype(path: str) -> Font:
    """Parse and register a font file once per process: parsing a 5 MB collection takes
    a noticeable fraction of a second and every sheet and PNG asks for it."""
    stem = os.path.splitext(os.path.basename(path))[0]
    name = "TTF-" + "".join(c if c.isalnum() else "-" for c in stem)
    # subfontIndex=0 picks the first face of a .ttc collection; harmless for a .ttf.
    pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0))
    return Font(name, path, f"embedded TrueType {path}")


@functools.cache
def _register_builtin() -> Font:
    pdfmetrics.registerFont(UnicodeCIDFont(BUILTIN_FONT))
    # Every PDF reader has this font, but a PNG cannot be drawn with it.
    return Font(BUILTIN_FONT, None, f"built-in {BUILTIN_FONT} (not embedded)")


def _try_truetype(path: str) -> Font | None:
    if not os.path.isfile(path):
        return None
    try:
        return _register_truetype(os.path.realpath(path))
    except (TTFError, OSError) as exc:
        log.warning("font %s cannot be embedded: %s", path, exc)
        return None


def cjk_font(configured_path: str | None = None, *, search_system: bool = True) -> Font:
    """The configured font file if it exists, else the first installed system CJK font,
    else reportlab's built-in STSong-Light. search_system=False skips the system fonts,
    so the built-in fallback can be used (and tested) on a machine that has them."""
    candidates = [configured_path] if configured_path else []
    if search_system:
        candidates.extend(SYSTEM_FONTS)
    for path in candidates:
        font = _try_truetype(path)
        if font is not None:
            return font
    return _register_builtin()


def tibetan_font(configured_path: str | None = None, *, search_system: bool = True) -> Font | None:
    """The configured Tibetan font if it exists and has Tibetan letters, else the first
    installed system one, else None: there is no built-in Tibetan font to fall back on."""
    candidates = [configured_path] if configured_path else []
    if search_system:
        candidates.extend(TIBETAN_FONTS)
    for path in candidates:
        font = _try_truetype(path)
        if font is None:
            continue
        if TIBETAN_KA in pdfmetrics.getFont(font.name).face.charToGlyph:
            return font
        log.warning("font %s has no Tibetan letters", path)
    return None


def pil_font(font: Font, size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The same face for Pillow at size_px pixels; Pillow's own default font when the sheet
    font is the built-in one, which exists only inside PDF readers."""
    if font.path is None:
        return ImageFont.load_default(size_px)
    return _pil_truetype(font.path, size_px)


@functools.lru_cache(maxsize=32)
def _pil_truetype(path: str, size_px: int) -> ImageFont.FreeTypeFont:
    # Pillow shapes with libraqm when it has it (its wheels do): Tibetan stacks need it.
    return ImageFont.truetype(path, size_px, index=0)
