"""Sticker sheets and single-sticker images: every code decodes, text is real text."""

import base64
import io
import math
import re
import secrets
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pypdf
import pypdfium2
import pytest
import qrcode
import zxingcpp
from PIL import Image, ImageFont
from pypdfium2.raw import FPDF_PAGEOBJ_PATH
from qrcode.constants import ERROR_CORRECT_Q

from vehiclewatch.fleet import qr
from vehiclewatch.fleet.artwork import sticker_png, sticker_svg
from vehiclewatch.fleet.layouts import LAYOUTS
from vehiclewatch.fleet.sheets import StickerFace, write_sheet
from vehiclewatch.fonts import cjk_font, pil_font
from vehiclewatch.publictext import EIGHT_RULES

DPI = 200
HOTLINE = "0891-6312388"
UNITS = ["示例市公安局", "示例县人民政府办公室", "示例市人民政府机关事务管理局公务用车服务中心"]


def make_face(i: int, unit: str | None = None, url: str = "", matrix=None) -> StickerFace:
    # A token as the app issues it (15 random bytes, 24 upper-case base32 characters).
    token = base64.b32encode(secrets.token_bytes(15)).decode("ascii")
    url = url or "http://127.0.0.1:5000/v/" + token
    if matrix is None:
        matrix = [[c == "1" for c in row] for row in qr.compute_modules(url).split("\n")]
    return StickerFace(
        plate=f"藏A·{i:05d}",
        unit_name=unit or UNITS[i % len(UNITS)],
        short_code=f"{token[:4]}-{token[4:8]}",
        url=url,
        matrix=matrix,
    )


@pytest.fixture(scope="module")
def truetype():
    font = cjk_font()
    if font.path is None:
        pytest.skip("no TrueType CJK font installed (Debian: fonts-wqy-microhei)")
    return font


@pytest.fixture(scope="module")
def builtin():
    return cjk_font("/nonexistent/font.ttc", search_system=False)


def render_pages(data: bytes, dpi: int = DPI):
    pdf = pypdfium2.PdfDocument(data)
    try:
        for page in pdf:
            yield page.render(scale=dpi / 72).to_pil()
            page.close()
    finally:
        pdf.close()


def decode(image: Image.Image):
    """The QR codes on a page (a label carries no other symbol; reading only QR keeps the
    plate and short-code text from ever being taken for a 1D barcode)."""
    return zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)


def sheet(faces, **kwargs) -> tuple[bytes, object]:
    out = io.BytesIO()
    result = write_sheet(out, iter(faces), hotline_local=HOTLINE, **kwargs)
    return out.getvalue(), result


def extracted_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def test_font_choice(truetype, builtin, tmp_path):
    assert truetype.path.endswith((".ttc", ".ttf"))
    assert truetype.description.startswith("embedded TrueType")
    assert cjk_font(truetype.path) is truetype  # registered once, cached
    assert cjk_font("/nonexistent/font.ttc") == truetype
    (tmp_path / "broken.ttf").write_text("not a font")
    assert cjk_font(str(tmp_path / "broken.ttf")) == truetype
    assert builtin.name == "STSong-Light" and builtin.path is None
    assert "not embedded" in builtin.description
    assert isinstance(pil_font(truetype, 20), ImageFont.FreeTypeFont)
    assert pil_font(builtin, 20) is not None


@pytest.mark.parametrize(
    ("layout", "count", "start", "pages"), [("a4-8", 100, 3, 13), ("a4-6", 14, 1, 3)]
)
def test_every_code_on_the_sheet_decodes(truetype, layout, count, start, pages):
    faces = [make_face(i) for i in range(count)]
    data, result = sheet(faces, layout=layout, start=start, font=truetype)
    assert pages == math.ceil((count + start - 1) / LAYOUTS[layout].per_sheet)
    assert (result.pages, result.stickers, result.font) == (pages, count, truetype)
    decoded = []
    rendered = 0
    for image in render_pages(data):
        rendered += 1
        for found in decode(image):
            decoded.append(found.text)
            corners = found.position
            span = min(
                math.dist(
                    (corners.top_left.x, corners.top_left.y),
                    (corners.top_right.x, corners.top_right.y),
                ),
                math.dist(
                    (corners.top_left.x, corners.top_left.y),
                    (corners.bottom_left.x, corners.bottom_left.y),
                ),
            )
            assert span >= 45 / 25.4 * DPI - 2, f"code printed {span / DPI * 25.4:.1f} mm wide"
    assert rendered == pages
    assert sorted(decoded) == sorted(face.url for face in faces)


def test_modules_are_whole_200_dpi_pixels(truetype):
    # Whole 1/200 inch modules from the page's corner: every module the same number of
    # dots on a 600 or 1200 dpi printer, and no grey edges in a 200 dpi check render.
    faces = [make_face(i) for i in range(6)]
    for layout in LAYOUTS:
        data, _ = sheet(faces, layout=layout, font=truetype)
        pdf = pypdfium2.PdfDocument(data)
        page = pdf[0]
        _, height = page.get_size()
        codes = [o for o in page.get_objects(max_depth=1) if o.type == FPDF_PAGEOBJ_PATH]
        assert len(codes) == 6
        for code in codes:
            left, bottom, right, top = (v / 72 * DPI for v in code.get_bounds())
            for edge in (left, right, height / 72 * DPI - top, height / 72 * DPI - bottom):
                assert edge == pytest.approx(round(edge), abs=0.01)
            assert (right - left) / DPI * 25.4 >= 45
            code.close()
        page.close()
        pdf.close()


@pytest.mark.skipif(
    not (shutil.which("zbarimg") and shutil.which("pdftoppm")),
    reason="needs zbar-tools and poppler-utils",
)
def test_zbarimg_reads_every_label(tmp_path, truetype):
    # One label at a time, as a phone sees it. (On whole pages zbarimg also misses about
    # 1 code in 8,000 depending only on where it falls on the bitmap: see bench_sheets.)
    faces = [make_face(i) for i in range(30)]
    data, result = sheet(faces, start=3, font=truetype)
    assert result.pages == 4
    assert sorted(zbar_labels(data, "a4-8", tmp_path)) == sorted(face.url for face in faces)


def label_crops(data: bytes, layout_name: str, tmp_path, dpi: int) -> list[Image.Image]:
    """Every label position of every page (fronts and backs), rendered at dpi, in grey."""
    (tmp_path / "sheet.pdf").write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-gray", tmp_path / "sheet.pdf", tmp_path / "page"],
        check=True,
    )
    layout = LAYOUTS[layout_name]
    crops = []
    for page in sorted(tmp_path.glob("page-*.pgm")):
        with Image.open(page) as image:
            for position in range(layout.per_sheet):
                row, col = divmod(position, layout.cols)
                x = (layout.left_mm + col * layout.h_pitch_mm) / 25.4 * dpi
                y = (layout.top_mm + row * layout.v_pitch_mm) / 25.4 * dpi
                w, h = layout.label_w_mm / 25.4 * dpi, layout.label_h_mm / 25.4 * dpi
                crops.append(image.crop((round(x), round(y), round(x + w), round(y + h))))
    return crops


def zbar_labels(data: bytes, layout_name: str, tmp_path) -> list[str]:
    """What zbarimg reads on each label of the sheet, rendered at 200 dpi."""
    paths = []
    for i, crop in enumerate(label_crops(data, layout_name, tmp_path, DPI)):
        paths.append(tmp_path / f"label-{i}.png")
        crop.save(paths[-1])
    done = subprocess.run(["zbarimg", "-q", *paths], capture_output=True, text=True)
    return [line.removeprefix("QR-Code:") for line in done.stdout.splitlines()]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_smallest_code_still_prints_45_mm(layout):
    # Version 2 is the smallest code a sticker URL can need; its quiet zone is the largest
    # share of the label, so it is the hardest case for the 45 mm minimum.
    code = qrcode.QRCode(version=2, error_correction=ERROR_CORRECT_Q, border=0)
    code.add_data("HTTP://X.CN/V/ABCDEFGHIJ")
    code.make(fit=False)
    face = make_face(1, url="HTTP://X.CN/V/ABCDEFGHIJ", matrix=code.get_matrix())
    assert len(face.matrix) == 25
    data, _ = sheet([face], layout=layout)
    (image,) = render_pages(data)
    (found,) = decode(image)
    assert found.text == face.url
    width = found.position.top_right.x - found.position.top_left.x
    assert width >= 45 / 25.4 * DPI - 2


def test_text_is_extractable_with_embedded_font(truetype):
    faces = [make_face(i) for i in range(10)]
    data, result = sheet(faces, font=truetype)
    text = extracted_text(data)
    for face in faces:
        assert face.plate in text
        assert re.sub(r"\s+", "", face.unit_name) in text
        assert face.short_code in text
    for part in ("公务用车监督码", "举报电话12388", HOTLINE, "一车一码亮身份", "公车监督随时扫"):
        assert part in text


def test_text_is_extractable_with_builtin_font(builtin):
    faces = [make_face(i) for i in range(10)]
    data, result = sheet(faces, layout="a4-6", font=builtin)
    assert result.font.name == "STSong-Light"
    text = extracted_text(data)
    for face in faces:
        assert face.plate in text
        assert face.unit_name in text
    assert "公务用车监督码" in text


def test_back_pages_carry_the_eight_rules_mirrored(truetype):
    faces = [make_face(i) for i in range(9)]
    data, result = sheet(faces, back=True, font=truetype)
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert result.pages == 2 and len(reader.pages) == 4
    for index in (1, 3):
        back = re.sub(r"\s+", "", reader.pages[index].extract_text())
        assert "公务用车“八不准”" in back
        for rule in EIGHT_RULES:
            assert rule in back
        assert "公务用车监督码" not in back
    # The second sheet holds one sticker, top left; its back must be top right.
    last_back = list(render_pages(data, dpi=50))[3].convert("L")
    left, top, _, _ = last_back.point(lambda v: 255 if v < 200 else 0).getbbox()
    assert left > last_back.width / 2
    assert top < last_back.height / 4


def test_start_leaves_used_positions_blank(truetype):
    data, result = sheet([make_face(1)], start=8, font=truetype)
    (image,) = render_pages(data, dpi=50)
    left, top, _, _ = image.convert("L").point(lambda v: 255 if v < 200 else 0).getbbox()
    last_row = LAYOUTS["a4-8"].top_mm + 3 * LAYOUTS["a4-8"].v_pitch_mm
    assert top >= last_row / 297 * image.height - 1 and left > image.width / 2
    assert result.pages == 1


@pytest.mark.parametrize(
    ("layout", "start", "message"),
    [("a5-99", 1, "版式"), ("a4-8", 0, "1 到 8"), ("a4-8", 9, "1 到 8"), ("a4-6", 7, "1 到 6")],
)
def test_bad_layout_or_start(layout, start, message):
    with pytest.raises(ValueError, match=message):
        write_sheet(io.BytesIO(), [], layout=layout, start=start, hotline_local=HOTLINE)


def test_png_decodes(truetype):
    face = make_face(7, unit="示例市公安局<交警>&支队")
    png = sticker_png(face, HOTLINE, truetype)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    (found,) = decode(image)
    assert found.text == face.url
    # Crisp modules: the code area holds nothing but pure black and white.
    corners = found.position
    box = (corners.top_left.x, corners.top_left.y, corners.bottom_right.x, corners.bottom_right.y)
    colours = image.convert("RGB").crop(box).getcolors(maxcolors=16)
    assert {colour for _, colour in colours} == {(0, 0, 0), (255, 255, 255)}


def svg_matrix(svg: str, size: int) -> list[list[bool]]:
    """The modules from the sticker's QR path (M x y h w v1 h-w z, module units, quiet zone
    included), so the SVG is checked without a renderer."""
    path = re.search(r'<path fill="#000000" d="([^"]*)"', svg).group(1)
    matrix = [[False] * size for _ in range(size)]
    runs = re.findall(r"M(\d+) (\d+)h(\d+)v1h-(\d+)z", path)
    assert "".join(f"M{x} {y}h{w}v1h-{v}z" for x, y, w, v in runs) == path
    for x, y, width, _ in runs:
        for col in range(int(x), int(x) + int(width)):
            matrix[int(y) - qr.QUIET_ZONE][col - qr.QUIET_ZONE] = True
    return matrix


def as_image(matrix: list[list[bool]], module_px: int = 8) -> Image.Image:
    side = len(matrix) + 2 * qr.QUIET_ZONE
    image = Image.new("L", (side * module_px, side * module_px), 255)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                left, top = (x + qr.QUIET_ZONE) * module_px, (y + qr.QUIET_ZONE) * module_px
                image.paste(0, (left, top, left + module_px, top + module_px))
    return image


def test_svg_is_self_contained_and_its_path_decodes():
    face = make_face(3, unit="示例市公安局<交警>&支队")
    svg = sticker_svg(face, HOTLINE)
    root = ET.fromstring(svg.encode("utf-8"))
    texts = [el.text for el in root.iter("{http://www.w3.org/2000/svg}text")]
    assert face.plate in texts and face.unit_name in texts
    assert f"短码 {face.short_code}" in texts
    assert "<script" not in svg and "href" not in svg and "url(" not in svg
    drawn = svg_matrix(svg, len(face.matrix))
    assert drawn == face.matrix
    (found,) = decode(as_image(drawn))
    assert found.text == face.url


@pytest.mark.skipif(shutil.which("rsvg-convert") is None, reason="needs librsvg2-bin")
def test_svg_renders_and_decodes(tmp_path):
    face = make_face(4)
    source = tmp_path / "sticker.svg"
    source.write_text(sticker_svg(face, HOTLINE), encoding="utf-8")
    target = tmp_path / "sticker.png"
    subprocess.run(
        ["rsvg-convert", "-d", str(DPI), "-p", str(DPI), "-o", str(target), str(source)],
        check=True,
    )
    with Image.open(target) as image:
        # 70 mm wide at 200 dpi
        assert abs(image.width - 70 / 25.4 * DPI) < 2
        (found,) = decode(image.convert("RGB"))
    assert found.text == face.url
