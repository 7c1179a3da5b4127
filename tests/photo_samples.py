"""Small real photos for tests that need one."""

import io

from PIL import Image

from vehiclewatch.reports.photos import ProcessedPhoto, process_photo


def jpeg_bytes(size=(640, 480), colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def processed_photo() -> ProcessedPhoto:
    return process_photo(jpeg_bytes())
