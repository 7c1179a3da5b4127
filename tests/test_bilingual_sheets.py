"""Bilingual sticker sheets: Tibetan above Chinese, shaped, in the Tibetan font; every code
still decodes, the Chinese stays searchable, no ink comes near the cut, and a rendering of
one label matches the reference image."""

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pypdf
import pytest
from PIL import Image, ImageChops
from pypdf.generic import ContentStream

from tests.test_sheets import HOTLINE, label_crops, make_face, zbar_labels
from vehiclewatch.fleet.layouts import LAYOUTS, SAFE_MM, frame, module_mm
from vehiclewatch.fleet.lettering import MissingGlyphs
from vehiclewatch.fleet.qr import QUIET_ZONE
from vehiclewatch.fleet.sheets import NoTibetanFont, StickerFace, write_sheet
from vehiclewatch.fonts import cjk_font, tibetan_font
from vehiclewatch.publictext import EIGHT_RULES, RULES_TITLE, SLOGAN, TITLE
from vehiclewatch.stickertext import STICKER_TEXTS, Wording, wording

POPPLER = pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("pdffonts") and shutil.which("pdftotext")),
    reason="needs poppler-utils",
)
REFERENCE = Path(__file__).parent / "reference" / "bilingual-label-a4-8.png"
STACKED = "བསྒྲུབས"  # seven code points, four glyphs once shaped


@pytest.fixture(scope="module")
def fonts():
    cjk, tibetan = cjk_font(), tibetan_font()
    if cjk.path is None or tibetan is None:
        pytest.skip("needs fonts-wqy-microhei and fonts-noto-core")
    return cjk, tibetan


def bilingual_sheet(fonts, faces, *, draft=False, texts=None, **kwargs) -> tuple[bytes, object]:
    cjk, tibetan = fonts
    chosen = Wording(texts or wording("bo,zh", allow_unreviewed=True).tibetan, draft=draft)
    out = io.BytesIO()
    result = write_sheet(
        out,
        iter(faces),
        hotline_local=HOTLINE,
        font=cjk,
        wording=chosen,
        tibetan_font=tibetan,
        **kwargs,
    )
    return out.getvalue(), result


def glyph_runs(data: bytes, font_stem: str) -> list[bytes]:
    """The strings shown in a font (by its base name) inside the sheet's forms."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    forms = {}
    for page in reader.pages:
        forms.update(page["/Resources"]["/XObject"])
    runs = []
    for form in forms.values():
        form = form.get_object()
        fonts = form["/Resources"]["/Font"]
        current = None
        for operands, operator in ContentStream(form, reader).operations:
            if operator == b"Tf":
                current = str(fonts[operands[0]].get_object()["/BaseFont"])
            elif operator in (b"Tj", b"TJ") and current and font_stem in current:
                parts = operands[0] if operator == b"TJ" else [operands[0]]
                strings = [p for p in parts if not isinstance(p, int | float)]
                runs.append(b"".join(_raw(string) for string in strings))
    return runs


def _raw(string) -> bytes:
    return string.get_original_bytes() if hasattr(string, "get_original_bytes") else bytes(string)


def test_tibetan_is_shaped_and_drawn_in_the_tibetan_font(fonts, tmp_path):
    _, tibetan = fonts
    texts = dict.fromkeys(STICKER_TEXTS, STACKED)
    data, result = bilingual_sheet(fonts, [make_face(1)], texts=texts, back=True)
    assert result.tibetan_font == tibetan
    stem = Path(tibetan.path).stem
    runs = glyph_runs(data, stem)
    # Title, hotline label and two slogan lines on the front; title and 8 rules on the back.
    assert len(runs) == 4 + 9
    # One byte per glyph in the embedded subset: stacked, not seven glyphs side by side.
    assert {len(run) for run in runs} == {4}
    assert len(STACKED) == 7


@POPPLER
def test_the_embedded_fonts_are_the_tibetan_and_the_chinese_one(fonts, tmp_path):
    cjk, tibetan = fonts
    data, _ = bilingual_sheet(fonts, [make_face(i) for i in range(3)], back=True)
    (tmp_path / "sheet.pdf").write_bytes(data)
    listing = subprocess.run(
        ["pdffonts", tmp_path / "sheet.pdf"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    embedded = {line.split()[0].split("+")[-1] for line in listing if " yes " in line}
    assert Path(tibetan.path).stem in embedded
    assert any(
        name.lower().startswith("wenquanyi") or "microhei" in name.lower() for name in embedded
    )


def pdftotext(data: bytes, tmp_path: Path) -> str:
    (tmp_path / "text.pdf").write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", tmp_path / "text.pdf", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return re.sub(r"\s+", "", text)


@POPPLER
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_the_chinese_lines_stay_searchable(fonts, tmp_path, layout):
    faces = [make_face(i) for i in range(3)]
    data, _ = bilingual_sheet(fonts, faces, layout=layout, back=True)
    text = pdftotext(data, tmp_path)
    for line in (TITLE, "举报电话12388", HOTLINE, *SLOGAN, RULES_TITLE, *EIGHT_RULES):
        assert line in text, line
    for face in faces:
        assert face.plate in text and face.short_code in text


@POPPLER
@pytest.mark.skipif(not shutil.which("zbarimg"), reason="needs zbar-tools")
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_code_on_a_bilingual_sheet_decodes_with_zbarimg(fonts, tmp_path, layout):
    # With backs, and with the draft mark behind the codes.
    count = LAYOUTS[layout].per_sheet + 3
    faces = [make_face(i) for i in range(count)]
    data, result = bilingual_sheet(fonts, faces, layout=layout, back=True, draft=True)
    assert result.pages == 2
    assert sorted(zbar_labels(data, layout, tmp_path)) == sorted(face.url for face in faces)


def ink_margin_mm(label: Image.Image, dpi: int) -> float:
    """The distance from the label's edge to its nearest ink, in mm."""
    ink = label.point(lambda v: 255 if v < 230 else 0)
    box = ink.getbbox()
    if box is None:
        return float("inf")
    left, top, right, bottom = box
    return min(left, top, label.width - right, label.height - bottom) / dpi * 25.4


@POPPLER
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("bilingual", [False, True])
def test_no_ink_within_the_safe_margin_of_the_cut(fonts, tmp_path, layout, bilingual):
    per_sheet = LAYOUTS[layout].per_sheet
    long_unit = "示例市人民政府机关事务管理局公务用车服务中心第一车队"
    faces = [make_face(i, unit=long_unit) for i in range(per_sheet)]
    if bilingual:
        data, _ = bilingual_sheet(fonts, faces, layout=layout, back=True, draft=True)
    else:
        out = io.BytesIO()
        write_sheet(out, iter(faces), layout=layout, hotline_local=HOTLINE, back=True)
        data = out.getvalue()
    margins = [ink_margin_mm(crop, 300) for crop in label_crops(data, layout, tmp_path, 300)]
    assert len(margins) == 2 * per_sheet
    # One pixel at 300 dpi for anti-aliasing.
    assert min(margins) >= SAFE_MM - 25.4 / 300, margins


@POPPLER
def test_a_bilingual_label_matches_the_reference_rendering(fonts, tmp_path):
    """One 8-up label at 300 dpi against tests/reference/bilingual-label-a4-8.png, so that a
    font or layout change is seen. After an intended change, look at the new image and
    regenerate it with
    REGENERATE_REFERENCE=1 .venv/bin/pytest tests/test_bilingual_sheets.py -k reference
    """
    face = StickerFace(
        plate="藏A·12345",
        unit_name="示例市公安局交通警察支队",
        short_code="ABCD-EFGH",
        url="http://127.0.0.1:5000/v/ABCDEFGHIJKLMNOPQRSTUVWX",
        matrix=make_face(0, url="http://127.0.0.1:5000/v/ABCDEFGHIJKLMNOPQRSTUVWX").matrix,
    )
    data, _ = bilingual_sheet(fonts, [face])
    (label,) = label_crops(data, "a4-8", tmp_path, 300)[:1]
    if os.environ.get("REGENERATE_REFERENCE"):
        REFERENCE.parent.mkdir(exist_ok=True)
        label.save(REFERENCE, optimize=True)
    with Image.open(REFERENCE) as reference:
        assert reference.size == label.size
        diff = ImageChops.difference(reference.convert("L"), label)
    histogram = diff.histogram()
    changed = sum(histogram[64:]) / (label.width * label.height)
    # Anti-aliasing differs a little between poppler versions; a moved or missing line does not.
    assert changed < 0.002, f"{changed:.2%} of the pixels differ from the reference"


def test_tibetan_without_a_font_is_refused(fonts):
    with pytest.raises(NoTibetanFont, match="fonts-noto-core"):
        write_sheet(
            io.BytesIO(),
            iter([make_face(1)]),
            hotline_local=HOTLINE,
            wording=wording("bo,zh", allow_unreviewed=True),
            tibetan_font=None,
        )


def test_a_letter_the_tibetan_font_lacks_stops_the_print(fonts):
    texts = wording("bo,zh", allow_unreviewed=True).tibetan | {TITLE: "“ཀ”"}
    with pytest.raises(MissingGlyphs, match="“"):
        bilingual_sheet(fonts, [make_face(1)], texts=texts)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("size", [25, 29, 33, 37])
def test_bilingual_labels_keep_the_code_at_45_mm_with_its_quiet_zone(layout, size):
    # Version 2 (25 modules) to 5: every size a sticker URL takes.
    module, _ = module_mm(LAYOUTS[layout], size, True)
    assert module * size >= 45 - 1e-6
    assert module * (size + 2 * QUIET_ZONE) <= frame(LAYOUTS[layout], True).box + 1e-6
