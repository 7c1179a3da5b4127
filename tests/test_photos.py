"""Photo ingest: type by content, metadata removed, upright copies, pixel and size limits,
bounded memory for huge phone photos, and durable storage under random names."""

import io
import json
import os
import re
import struct
import subprocess
import sys
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import Babel
from PIL import ExifTags, Image, ImageCms, ImageDraw, ImageFile

from vehiclewatch.reports import photos
from vehiclewatch.reports.photos import PhotoRejected, ProcessedPhoto, process_photo

SERIAL = "HWSN-7H3K-000123456"
ROOT = Path(__file__).resolve().parents[1]
NAME = re.compile(r"[0-9a-f]{32}\.jpg")
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def babel_app():
    app = Flask(__name__)
    Babel(app)
    with app.app_context():
        yield app


def _encode(im: Image.Image, fmt: str = "JPEG", **options) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, fmt, **options)
    return buffer.getvalue()


def _png(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of one colour, built by hand: a 120 MP one is a few kB and costs
    nothing to make, which is exactly what makes it a decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    rows = bytes(height * (1 + (width + 7) // 8))  # filter byte 0 + packed zero bits per row
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _open(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def _reject(data: bytes, **limits) -> PhotoRejected:
    with pytest.raises(PhotoRejected) as caught:
        process_photo(data, **limits)
    return caught.value


def _phone_jpeg() -> bytes:
    """400x300 stored sideways (EXIF Orientation 6: upright it is 300x400), red along the
    stored top edge, with everything a phone writes about itself and where it was."""
    im = Image.new("RGB", (400, 300), (40, 90, 160))
    ImageDraw.Draw(im).rectangle((0, 0, 399, 39), fill=(230, 0, 0))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Huawei"
    exif[ExifTags.Base.Model] = "Mate 60 Pro"
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.DateTime] = "2026:02:18 08:00:00"
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.DateTimeOriginal] = "2026:02:17 13:45:10"
    sub[ExifTags.Base.BodySerialNumber] = SERIAL
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (29.0, 39.0, 0.0)  # 29.65
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (91.0, 7.0, 48.0)  # 91.13
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" '
        f'tiff:Make="Huawei" xmp:CreatorTool="{SERIAL}"/></rdf:RDF></x:xmpmeta>'
    ).encode()
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return _encode(
        im, exif=exif, xmp=xmp, icc_profile=icc, comment=f"Huawei {SERIAL}".encode(), quality=95
    )


def test_metadata_is_gone_from_both_copies_and_kept_as_evidence_fields():
    data = _phone_jpeg()
    source = Image.open(io.BytesIO(data))
    assert {"exif", "xmp", "icc_profile", "comment"} <= source.info.keys()  # the test is real
    assert b"Huawei" in data and SERIAL.encode() in data

    photo = process_photo(data)

    for copy in (photo.evidence, photo.display):
        im = _open(copy)
        assert im.format == "JPEG" and im.mode == "RGB"
        assert len(im.getexif()) == 0
        assert not {"exif", "xmp", "icc_profile", "comment"} & im.info.keys()
        for needle in (
            b"Huawei",
            SERIAL.encode(),
            b"Exif",
            b"http://ns.adobe.com/xap",
            b"ICC_PROF",
        ):
            assert needle not in copy
    assert photo.source_format == "JPEG"
    assert photo.taken_at == datetime(2026, 2, 17, 13, 45, 10)
    assert photo.latitude == pytest.approx(29.65, abs=1e-6)
    assert photo.longitude == pytest.approx(91.13, abs=1e-6)


def test_copies_are_upright():
    photo = process_photo(_phone_jpeg())
    assert (photo.width, photo.height) == (300, 400)
    for copy in (photo.evidence, photo.display):
        im = _open(copy)
        assert im.size == (300, 400)
        # Orientation 6 turns the stored top edge (red) into the right-hand edge.
        right, left = im.getpixel((290, 200)), im.getpixel((10, 200))
        assert right[0] > 180 and right[2] < 80
        assert left[2] > 120 and left[0] < 100


def test_capture_time_with_offset_is_aware_and_southern_western_position_is_negative():
    exif = Image.Exif()
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.DateTimeOriginal] = "2026:02:17 13:45:10"
    sub[ExifTags.Base.OffsetTimeOriginal] = "+08:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLatitude] = (33.0, 52.0, 12.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (70.0, 30.0, 0.0)
    photo = process_photo(_encode(Image.new("RGB", (64, 48)), exif=exif))
    assert photo.taken_at == datetime(2026, 2, 17, 13, 45, 10, tzinfo=timezone(timedelta(hours=8)))
    assert photo.latitude == pytest.approx(-(33 + 52 / 60 + 12 / 3600), abs=1e-6)
    assert photo.longitude == pytest.approx(-70.5, abs=1e-6)


def test_missing_or_unusable_metadata_gives_none_not_a_refusal():
    assert process_photo(_encode(Image.new("RGB", (64, 48)))).taken_at is None
    exif = Image.Exif()
    exif[ExifTags.Base.DateTime] = "    :  :     :  :  "  # how cameras write "unknown"
    exif[ExifTags.Base.Orientation] = 99
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitude] = (29.0, 39.0, 0.0)  # no reference: the sign is unknown
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (91.0, 7.0, 48.0)
    photo = process_photo(_encode(Image.new("RGB", (64, 48)), exif=exif))
    assert (photo.taken_at, photo.latitude, photo.longitude) == (None, None, None)
    assert (photo.width, photo.height) == (64, 48)


def test_sizes_of_evidence_and_display_copies():
    photo = process_photo(_encode(Image.new("RGB", (5000, 4000), (90, 120, 140))))
    assert (photo.width, photo.height) == (3000, 2400)
    assert _open(photo.evidence).size == (3000, 2400)
    assert _open(photo.display).size == (1600, 1280)


def test_small_photo_is_not_enlarged():
    photo = process_photo(_encode(Image.new("RGB", (800, 600), "white"), "PNG"))
    assert _open(photo.evidence).size == _open(photo.display).size == (800, 600)
    assert photo.source_format == "PNG"


CHILD = """
import json, resource, sys
from pathlib import Path
from PIL import Image
import io
from vehiclewatch.reports.photos import process_photo

def status(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) / 1024

data = Path(sys.argv[1]).read_bytes()
try:
    Path("/proc/self/clear_refs").write_text("5")  # restart the peak from here
except OSError:
    pass
before = status("VmRSS")
photo = process_photo(data)
print(json.dumps({
    "extra_mb": status("VmHWM") - before,
    "evidence": Image.open(io.BytesIO(photo.evidence)).size,
    "display": Image.open(io.BytesIO(photo.display)).size,
}))
"""


def test_hundred_megapixel_phone_jpeg_is_accepted_within_bounded_memory(tmp_path):
    # 11552 x 8672 is what 100-108 MP phone sensors write. Decoded whole it would take 400 MB
    # (Pillow keeps RGB in 4 bytes a pixel); draft() decodes it at 1/4 scale instead.
    im = Image.new("RGB", (11552, 8672), (70, 110, 150))
    draw = ImageDraw.Draw(im)
    for i in range(12):
        draw.ellipse((i * 900, i * 600, i * 900 + 1500, i * 600 + 1100), fill=(200, 20 * i, 40))
    path = tmp_path / "phone.jpg"
    im.save(path, "JPEG", quality=50)
    del im, draw

    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    figures = json.loads(result.stdout)
    assert 2700 <= max(figures["evidence"]) <= 3000
    assert max(figures["display"]) == 1600
    # A full decode is 400 MB and a 1/2-scale one 100 MB plus the copies; 1/4 is ~25 MB.
    assert figures["extra_mb"] < 100, figures


def test_jpeg_beyond_pillows_own_bomb_limit_is_accepted_up_to_its_own_limit():
    # 200 MP (16320 x 12240, current phone sensors) is above the 179 MP at which Pillow raises
    # DecompressionBombError; drafted to 1/4 it decodes to 12.5 MB of grey. Grey keeps the
    # test's own allocation to 200 MB.
    data = _encode(Image.new("L", (16320, 12240), 128), quality=50)
    photo = process_photo(data)
    assert max(photo.width, photo.height) == 3000
    assert _reject(data, max_jpeg_pixels=150_000_000).reason == "too_many_pixels"


@pytest.fixture
def no_decoding(monkeypatch):
    def refuse(self):
        raise AssertionError("pixel data decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


@pytest.mark.parametrize("size", [(12000, 10000), (20000, 10000), (7000, 6000)])
def test_png_bomb_is_refused_before_decoding(size, no_decoding):
    data = _png(*size)
    assert len(data) < 100_000
    error = _reject(data)
    assert error.reason == "too_many_pixels"


def test_webp_above_the_pixel_limit_is_refused_before_decoding(no_decoding):
    data = _encode(Image.new("RGB", (300, 200), "green"), "WEBP")
    assert _reject(data, max_pixels=50_000).reason == "too_many_pixels"


def test_png_just_under_forty_megapixels_is_accepted():
    photo = process_photo(_png(6000, 6000))
    assert (photo.width, photo.height) == (3000, 3000)
    assert _open(photo.display).getpixel((10, 10)) == (0, 0, 0)


def test_webp_is_accepted_and_transparency_goes_on_white():
    im = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    ImageDraw.Draw(im).rectangle((0, 0, 199, 299), fill=(0, 0, 200, 255))
    photo = process_photo(_encode(im, "WEBP", lossless=True))
    assert photo.source_format == "WEBP"
    out = _open(photo.evidence)
    assert out.getpixel((350, 150)) == pytest.approx((255, 255, 255), abs=3)
    assert out.getpixel((50, 150))[2] > 180


@pytest.mark.parametrize(
    ("mode", "fmt", "options"),
    [
        ("1", "PNG", {}),
        ("L", "JPEG", {}),
        ("P", "PNG", {"transparency": 0}),
        ("LA", "PNG", {}),
        ("I;16", "PNG", {}),
        ("CMYK", "JPEG", {}),
        ("RGBA", "PNG", {}),
    ],
)
def test_every_mode_a_photo_comes_in_ends_as_rgb_jpeg(mode, fmt, options):
    im = Image.new(mode, (120, 90), 30000 if mode == "I;16" else 1)
    photo = process_photo(_encode(im, fmt, **options))
    out = _open(photo.evidence)
    assert (out.format, out.mode, out.size) == ("JPEG", "RGB", (120, 90))
    if mode == "I;16":
        # 30000 of 65535 is mid grey, not the white a clipping conversion would give.
        assert 100 < out.getpixel((5, 5))[0] < 135


def test_mpo_from_a_camera_counts_as_jpeg():
    frames = [Image.new("RGB", (64, 48), colour) for colour in ("red", "blue")]
    data = _encode(frames[0], "MPO", save_all=True, append_images=frames[1:])
    assert process_photo(data).source_format == "JPEG"


@pytest.mark.parametrize(
    "data",
    [
        b"<!doctype html><html><body><script>alert(1)</script></body></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        _encode(Image.new("P", (32, 32)), "GIF"),
        _encode(Image.new("RGB", (32, 32)), "BMP"),
        _encode(Image.new("RGB", (32, 32)), "TIFF"),
        b"",
    ],
    ids=["html-renamed-jpg", "svg", "gif", "bmp", "tiff", "empty"],
)
def test_anything_but_jpeg_png_webp_is_not_an_image(data, babel_app):
    error = _reject(data)
    assert error.reason == "not_an_image"
    assert str(error.message) == "文件不是可识别的照片（支持 JPEG、PNG、WebP、HEIC）。"


def test_oversize_upload_is_refused_before_it_is_opened(babel_app, no_decoding, monkeypatch):
    def must_not_open(*args, **kwargs):
        raise AssertionError("opened")

    monkeypatch.setattr(Image, "open", must_not_open)
    error = _reject(b"\xff\xd8\xff" + bytes(3000), max_bytes=2048)
    assert error.reason == "too_large"
    assert CJK.search(str(error.message))
    error = _reject(bytes(21 * 1024 * 1024))
    assert "20 MB" in str(error.message)


@pytest.mark.parametrize("keep", [0.5, 0.05])
def test_truncated_jpeg_is_refused_with_a_chinese_message(keep, babel_app):
    data = _encode(Image.effect_noise((600, 400), 60).convert("RGB"), quality=90)
    error = _reject(data[: int(len(data) * keep)])
    assert error.reason in {"damaged", "not_an_image"}
    assert CJK.search(str(error.message))
    assert isinstance(error, ValueError) and str(error) == error.reason


def test_messages_work_outside_any_app_context():
    error = _reject(b"not a photo")
    assert CJK.search(str(error.message))


def _sample() -> ProcessedPhoto:
    return process_photo(_encode(Image.new("RGB", (2000, 1000), (10, 200, 30))))


def test_write_photo_files_stores_both_copies_under_random_names(tmp_path):
    folder = tmp_path / "photos" / "2026"
    photo = _sample()

    evidence_name, display_name = photos.write_photo_files(folder, photo)

    assert NAME.fullmatch(evidence_name) and NAME.fullmatch(display_name)
    assert evidence_name != display_name
    assert (folder / evidence_name).read_bytes() == photo.evidence
    assert (folder / display_name).read_bytes() == photo.display
    assert (folder.stat().st_mode & 0o777) == 0o750
    assert ((folder / evidence_name).stat().st_mode & 0o777) == 0o640
    assert photos.stored_names(folder) == {evidence_name, display_name}

    other = photos.write_photo_files(folder, photo)
    assert not set(other) & {evidence_name, display_name}

    assert photos.remove_photo_files(folder, [evidence_name, display_name]) == 2
    assert photos.stored_names(folder) == set(other)
    assert photos.remove_photo_files(folder, [evidence_name]) == 0  # already gone: no error


def test_remove_touches_only_names_this_module_makes(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    bystander = tmp_path / "report.sqlite3"
    bystander.write_bytes(b"keep")
    (folder / "notes.txt").write_text("keep")
    assert photos.remove_photo_files(folder, ["../report.sqlite3", "notes.txt", "/etc/passwd"]) == 0
    assert bystander.exists() and (folder / "notes.txt").exists()
    assert photos.stored_names(folder) == set()
    assert photos.stored_names(tmp_path / "missing") == set()


def test_a_failure_midway_leaves_no_file_behind(tmp_path, monkeypatch):
    folder = tmp_path / "photos"
    calls = []
    real_fsync = os.fsync

    def failing_fsync(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(photos.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="No space"):
        photos.write_photo_files(folder, _sample())
    assert list(folder.iterdir()) == []


def test_iphone_heic_is_accepted_and_stripped():
    """HEIC (iPhones) through pillow-heif: re-encoded as JPEG, metadata gone, time kept."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Apple"
    exif[ExifTags.Base.Model] = "iPhone 15"
    exif[ExifTags.Base.DateTime] = "2026:02:17 13:45:10"
    data = _encode(Image.new("RGB", (800, 600), (30, 120, 200)), "HEIF", exif=exif.tobytes())
    assert data[4:12] == b"ftypheic"
    photo = process_photo(data)
    assert photo.source_format == "HEIF" and (photo.width, photo.height) == (800, 600)
    assert photo.taken_at == datetime(2026, 2, 17, 13, 45, 10)
    for copy in (photo.evidence, photo.display):
        assert _open(copy).format == "JPEG" and not _open(copy).getexif()
        assert b"Apple" not in copy and b"iPhone" not in copy


def test_heic_above_the_pixel_limit_is_refused_before_decoding(no_decoding):
    data = _encode(Image.new("L", (700, 600)), "HEIF")
    assert _reject(data, max_pixels=400_000).reason == "too_many_pixels"
