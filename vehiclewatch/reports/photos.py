"""Photo ingest: check an upload by content, re-encode it without metadata, store it durably."""

import functools
import io
import math
import os
import re
import secrets
import struct
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from flask_babel import lazy_gettext as _l
from PIL import ExifTags, Image, JpegImagePlugin, UnidentifiedImageError

from . import jpegscale
from .jpegscale import decode_scaled

FORMATS = ["JPEG", "PNG", "WEBP", "HEIF"]
EVIDENCE_EDGE = 3000
DISPLAY_EDGE = 1600
# A JPEG is decoded at 1/2, 1/4 or 1/8 scale when that still leaves this long edge. It is 10 %
# under EVIDENCE_EDGE so a 100 MP phone photo (11552 px) decodes at 1/4 (2888 px, 25 MB) rather
# than at 1/2 (5776 px, 100 MB) for 4 % more edge.
DRAFT_MIN_EDGE = 2700
# HAMMING is as fast as BILINEAR and sharper; for the 1-2x reductions left after draft() it is
# close to LANCZOS, which took 220 ms against HAMMING's 93 ms for a 12 MP photo here.
RESAMPLE = Image.Resampling.HAMMING
# A progressive JPEG took 6x as long to encode here (124 vs 20 ms at 3000 px) for 8 % fewer
# bytes, and optimize adds a second pass; the copies are written once and read on a LAN.
JPEG_OPTIONS = {"quality": 85, "optimize": False, "progressive": False}
# Largest intermediate a resize may hold at once (pixels); see _fit.
BAND_PIXELS = 1_000_000
NAME_PATTERN = re.compile(r"[0-9a-f]{32}\.jpg")

# Rotation that makes the stored pixels upright, by EXIF Orientation (same table as
# ImageOps.exif_transpose, applied to the downscaled copy so it never doubles the decoded size).
TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

MESSAGES = {
    "not_an_image": _l("文件不是可识别的照片（支持 JPEG、PNG、WebP、HEIC）。"),
    "unsupported_type": _l("不支持这种照片格式，请上传 JPEG、PNG 或 WebP 照片。"),
    "too_many_pixels": _l("照片像素过大，请压缩后再上传。"),
    "too_large": _l("照片文件过大，请压缩后再上传。"),
    "damaged": _l("照片已损坏，无法读取。"),
}

# Errors Pillow raises on truncated or malformed image data while decoding.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)


class PhotoRejected(ValueError):
    """An upload that is not an acceptable photo; `message` is safe to show the reporter."""

    def __init__(self, reason: str, message: object = None):
        super().__init__(reason)
        self.reason = reason
        self.message = message if message is not None else MESSAGES[reason]


@dataclass(frozen=True)
class ProcessedPhoto:
    evidence: bytes
    display: bytes
    width: int
    height: int
    source_format: str
    taken_at: datetime | None
    latitude: float | None
    longitude: float | None


def process_photo(
    data: bytes,
    *,
    max_bytes: int = 20 * 1024 * 1024,
    max_pixels: int = 40_000_000,
    max_jpeg_pixels: int = 210_000_000,
    max_progressive_pixels: int = 50_000_000,
) -> ProcessedPhoto:
    """Decode `data` (JPEG, PNG or WebP, decided by content) within bounded memory and return
    an upright evidence copy and a display copy, both JPEG without any metadata, plus the
    capture time and position read from EXIF. Raises PhotoRejected."""
    if len(data) > max_bytes:
        mb = f"{max_bytes / (1024 * 1024):g}"
        raise PhotoRejected(
            "too_large", _l("照片文件过大（每张不超过 %(mb)s MB），请压缩后再上传。", mb=mb)
        )
    # Scoped, not global: other code in the process keeps Pillow's defaults. The filter is
    # defence in depth (catch_warnings is not thread-safe before Python 3.14); the pixel limits
    # in _process are checked from the header whatever the filter says.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return _process(data, max_pixels, max_jpeg_pixels, max_progressive_pixels)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise PhotoRejected("too_many_pixels") from exc


def _process(
    data: bytes, max_pixels: int, max_jpeg_pixels: int, max_progressive_pixels: int
) -> ProcessedPhoto:
    im = _open(data)
    source_format = {
        "JPEG": "JPEG",
        "MPO": "JPEG",
        "PNG": "PNG",
        "WEBP": "WEBP",
        "HEIF": "HEIF",
    }.get(im.format or "")
    if source_format is None:
        raise PhotoRejected("unsupported_type")
    width, height = im.size
    if width < 1 or height < 1:
        raise PhotoRejected("damaged")
    # PNG, WebP and HEIF have no reduced-scale decoding: their header size is the decoded size.
    limit = max_jpeg_pixels if source_format == "JPEG" else max_pixels
    if width * height > limit:
        raise PhotoRejected("too_many_pixels")
    # libjpeg holds every coefficient of a progressive JPEG, whatever scale draft() asks for
    # (3 x 196 MP peaked at 698 MB, baseline at 181 MB): cameras write baseline, so a large
    # progressive one is refused. 50 MP costs about 60 MB.
    if (
        source_format == "JPEG"
        and im.info.get("progressive")
        and width * height > max_progressive_pixels
    ):
        raise PhotoRejected("too_many_pixels")

    opened = im
    try:
        scaled = None
        if source_format == "JPEG":
            scaled = decode_scaled(data, im.size, im.mode, EVIDENCE_EDGE, DRAFT_MIN_EDGE)
        if scaled is not None:
            im = scaled
        else:
            if source_format == "JPEG":
                # The target keeps the stored aspect ratio (im.size is the stored orientation,
                # before any EXIF rotation), so libjpeg's 1/2-1/8 scale is chosen by the long edge.
                k = min(1.0, DRAFT_MIN_EDGE / max(width, height))
                target = (max(1, int(width * k)), max(1, int(height * k)))
                im.draft("RGB", target)
            im.load()
    except DECODE_ERRORS as exc:
        raise PhotoRejected("damaged") from exc

    # Read before re-encoding: the copies carry no metadata, the evidence fields keep these.
    exif = _safe(opened.getexif, Image.Exif())
    del opened  # with Pillow's decoding it holds the pixels, which the steps below replace
    orientation = _safe(lambda: int(exif.get(ExifTags.Base.Orientation, 1)), 1)
    taken_at = _safe(lambda: _taken_at(exif), None)
    position = _safe(lambda: _position(exif), None)

    try:
        # Each step rebinds `im`, so the previous stage (first of all the decoded upload, the
        # largest buffer) is freed as soon as the next one exists.
        im = _workable(im)
        im = _fit(im, EVIDENCE_EDGE)
        if orientation in TRANSPOSE:
            im = im.transpose(TRANSPOSE[orientation])
        im = _flatten(im)
        evidence_bytes = _encode(im)
        display_bytes = _encode(_fit(im, DISPLAY_EDGE))
    except DECODE_ERRORS as exc:
        raise PhotoRejected("damaged") from exc

    latitude, longitude = position or (None, None)
    return ProcessedPhoto(
        evidence=evidence_bytes,
        display=display_bytes,
        width=im.width,
        height=im.height,
        source_format=source_format,
        taken_at=taken_at,
        latitude=latitude,
        longitude=longitude,
    )


@functools.cache
def load_decoders() -> None:
    """Load what decoding photos needs, once per process with its first photo (not in every
    worker at start): pillow-heif, which teaches Pillow to open the HEIC iPhones photograph
    in (decode only what we allow), and libjpeg-turbo's scaled JPEG decoder."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    jpegscale.available()


def _open(data: bytes) -> Image.Image:
    load_decoders()
    try:
        return Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError as exc:
        raise PhotoRejected("not_an_image") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow judges a JPEG by its full size (warning above 89 MP, error above 179 MP), but
        # draft() decodes a phone's 108-200 MP JPEG at 1/4-1/8 scale; it gets max_jpeg_pixels.
        if not data.startswith(b"\xff\xd8\xff"):
            raise
    except DECODE_ERRORS as exc:
        raise PhotoRejected("damaged") from exc
    try:
        return JpegImagePlugin.JpegImageFile(io.BytesIO(data))
    except DECODE_ERRORS as exc:
        raise PhotoRejected("damaged") from exc


def _workable(im: Image.Image) -> Image.Image:
    """`im` in a mode that resizes with a real filter: RGB, L, or their alpha variants."""
    if im.mode.startswith("I") or im.mode == "F":
        # 16-bit grey: scale to 8 bits; a plain convert("L") clips everything above 255 to white.
        im = im.convert("I").point(lambda v: v / 256).convert("L")
    if im.mode in ("PA", "La", "RGBa") or "transparency" in im.info:
        return im.convert("RGBA")
    if im.mode == "1":
        return im.convert("L")
    if im.mode not in ("RGB", "L", "RGBA", "LA"):
        # P would be resized with NEAREST; CMYK and YCbCr are not what browsers expect.
        return im.convert("RGB")
    return im


def _fit(im: Image.Image, edge: int) -> Image.Image:
    """`im` scaled down so its long edge is at most `edge` (returned as is if it already is)."""
    if max(im.size) <= edge:
        return im
    scale = edge / max(im.size)
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    if size[0] * im.height <= BAND_PIXELS:
        return im.resize(size, RESAMPLE)
    # One resize call holds a (new width x old height) intermediate, 36 MB for a 12 MP photo.
    # Resizing bands of output rows keeps it to one band; each band's filter still reads the
    # source rows beyond its box, so the result is the same as one call, without seams.
    premultiplied = {"RGBA": "RGBa", "LA": "La"}.get(im.mode)
    if premultiplied:
        im = im.convert(premultiplied)
    out = Image.new(im.mode, size, None)  # not filled first: the bands cover every row
    ratio = im.height / size[1]
    rows = max(8, BAND_PIXELS // im.width)
    for top in range(0, size[1], rows):
        bottom = min(size[1], top + rows)
        box = (0, top * ratio, im.width, min(im.height, bottom * ratio))
        out.paste(im.resize((size[0], bottom - top), RESAMPLE, box=box), (0, top))
    return out.convert({"RGBa": "RGBA", "La": "LA"}[premultiplied]) if premultiplied else out


def _flatten(im: Image.Image) -> Image.Image:
    """`im` in RGB. Transparency goes on white: a JPEG has no alpha, and black would hide dark
    text in screenshots."""
    if im.mode in ("RGBA", "LA"):
        background = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, im.convert("RGBA"))
    return im if im.mode == "RGB" else im.convert("RGB")


def _encode(im: Image.Image) -> bytes:
    # Nothing of the upload travels on: Pillow copies info (exif, xmp, icc_profile, comment,
    # dpi) from image to image, and the encoder would write some of it back. Dropping the ICC
    # profile unconverted shows a wide-gamut (Display P3) photo slightly duller; converting it
    # with ImageCms cost 120 ms per photo here.
    im.info.clear()
    buffer = io.BytesIO()
    im.save(buffer, "JPEG", **JPEG_OPTIONS)
    return buffer.getvalue()


def _safe(read, default):
    # EXIF is written by the uploader's device (or by anyone): a malformed tag must cost the
    # evidence field, never the photo.
    try:
        return read()
    except Exception:
        return default


def _taken_at(exif: Image.Exif) -> datetime | None:
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    for stamp_tag, offset_tag, ifd in (
        (ExifTags.Base.DateTimeOriginal, ExifTags.Base.OffsetTimeOriginal, sub),
        (ExifTags.Base.DateTime, ExifTags.Base.OffsetTime, exif),
    ):
        stamp = _text(ifd.get(stamp_tag))
        if not stamp:
            continue
        try:
            taken = datetime.strptime(stamp[:19], "%Y:%m:%d %H:%M:%S")
        except ValueError:
            continue  # "    :  :     :  :  " is how cameras write "unknown"
        offset = _offset(_text(sub.get(offset_tag)))
        return taken.replace(tzinfo=offset) if offset else taken
    return None


def _offset(value: str | None) -> timezone | None:
    match = re.fullmatch(r"([+-])(\d{2}):(\d{2})", value or "")
    if not match:
        return None
    sign = -1 if match[1] == "-" else 1
    delta = timedelta(hours=int(match[2]), minutes=int(match[3]))
    if delta > timedelta(hours=14):
        return None
    return timezone(sign * delta)


def _position(exif: Image.Exif) -> tuple[float, float] | None:
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    latitude = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef))
    longitude = _degrees(
        gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "E", "W"
    )
    if latitude is None or longitude is None or abs(latitude) > 90 or abs(longitude) > 180:
        return None
    return latitude, longitude


def _degrees(value, ref, positive: str = "N", negative: str = "S") -> float | None:
    ref = (_text(ref) or "").upper()
    # Without its reference the sign is unknown; no position is better than a wrong hemisphere.
    if ref not in (positive, negative) or not value:
        return None
    parts = [float(part) for part in value][:3]
    degrees = sum(part / 60**i for i, part in enumerate(parts))
    if not math.isfinite(degrees):
        return None
    return round(-degrees if ref == negative else degrees, 7)


def _text(value) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    return value.strip("\x00 ") or None


def write_photo_files(folder: Path, photo: ProcessedPhoto) -> tuple[str, str]:
    """Write both copies under fresh random names, durably (file and directory fsynced) before
    the caller commits the row that names them. Returns (evidence_name, display_name)."""
    folder = Path(folder)
    created = not folder.is_dir()
    # Private to the service's user and group; the group lets the web server send a photo
    # (X-Accel-Redirect) without any worker streaming it.
    folder.mkdir(mode=0o750, parents=True, exist_ok=True)
    written: list[str] = []
    try:
        for content in (photo.evidence, photo.display):
            name = secrets.token_hex(16) + ".jpg"
            # O_EXCL: a name is never reused, so a stored photo is never overwritten.
            fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            written.append(name)
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
        fsync_dir(folder)
        if created:
            fsync_dir(folder.parent)
    except BaseException:
        remove_photo_files(folder, written)
        raise
    return written[0], written[1]


def remove_photo_files(folder: Path, names: Iterable[str]) -> int:
    """Best effort removal (rollback, orphan sweep); only names this module creates are
    touched, so a bad name from elsewhere cannot reach another file. Returns how many went."""
    removed = 0
    for name in names:
        if not NAME_PATTERN.fullmatch(name):
            continue
        try:
            (Path(folder) / name).unlink()
            removed += 1
        except OSError:
            pass
    return removed


def stored_names(folder: Path) -> set[str]:
    """Names of the photos in `folder`, for a sweep to compare with the database."""
    try:
        return {entry.name for entry in os.scandir(folder) if NAME_PATTERN.fullmatch(entry.name)}
    except FileNotFoundError:
        return set()


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
