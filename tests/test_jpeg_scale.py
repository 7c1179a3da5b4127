"""libjpeg-turbo's scaled decoding: a 12 MP photo decodes straight to the evidence size,
upright and without metadata; what it cannot decode goes back to Pillow."""

import io

import pytest
from PIL import ExifTags, Image, ImageDraw

from vehiclewatch.reports import jpegscale
from vehiclewatch.reports.photos import DRAFT_MIN_EDGE, EVIDENCE_EDGE, process_photo

EDGES = (EVIDENCE_EDGE, DRAFT_MIN_EDGE)

pytestmark = pytest.mark.skipif(
    not jpegscale.available(), reason="libturbojpeg not installed (Debian: libturbojpeg0)"
)


def _twelve_megapixels(orientation: int) -> bytes:
    im = Image.new("RGB", (4000, 3000), (40, 80, 200))
    ImageDraw.Draw(im).rectangle((0, 0, 3999, 299), fill=(230, 20, 20))  # the stored top edge
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Xiaomi"
    buffer = io.BytesIO()
    im.save(buffer, "JPEG", quality=80, exif=exif.tobytes())
    return buffer.getvalue()


def test_twelve_megapixels_decode_at_three_quarters():
    data = _twelve_megapixels(1)
    decoded = jpegscale.decode_scaled(data, (4000, 3000), "RGB", *EDGES)
    assert decoded.size == (EVIDENCE_EDGE, 2250) and decoded.mode == "RGB"
    assert decoded.getpixel((1500, 100))[0] > 200 and decoded.getpixel((1500, 2000))[2] > 180


def test_scaled_photo_is_upright_and_stripped():
    photo = process_photo(_twelve_megapixels(6))
    assert (photo.width, photo.height) == (2250, 3000)
    evidence = Image.open(io.BytesIO(photo.evidence))
    assert evidence.size == (2250, 3000) and not evidence.getexif()
    assert "exif" not in evidence.info
    # Orientation 6 turns the stored top edge (red) into the right-hand edge.
    assert evidence.getpixel((2200, 1500))[0] > 200 and evidence.getpixel((100, 1500))[2] > 180


def test_cmyk_is_left_to_pillow_and_a_damaged_stream_raises():
    assert jpegscale.decode_scaled(b"", (4000, 3000), "CMYK", *EDGES) is None
    data = _twelve_megapixels(1)
    with pytest.raises(OSError):
        jpegscale.decode_scaled(data[: len(data) // 2], (4000, 3000), "RGB", *EDGES)


@pytest.mark.parametrize(
    ("size", "decoded"),
    [
        ((4608, 3456), (3456, 2592)),  # 16 MP: 3/4, then resized to 3000 by the caller
        ((11552, 8672), (2888, 2168)),  # 100 MP: 1/4, as 3/8 would take 56 MB
        ((12000, 9000), (3000, 2250)),  # 108 MP: 1/4
    ],
)
def test_scale_keeps_the_evidence_edge_within_the_pixel_budget(size, decoded):
    data = io.BytesIO()
    Image.new("L", size, 128).save(data, "JPEG", quality=50)
    assert jpegscale.decode_scaled(data.getvalue(), size, "L", *EDGES).size == decoded
