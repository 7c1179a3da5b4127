"""Photo ingest of a 12 MP phone JPEG (target ≤ 150 ms and ≤ 64 MB extra per photo, both kept
sizes included) and of a 108 MP one (within 128 MB), against a reference: plain Pillow open,
load, exif_transpose, thumbnail to 1600 px and save, without draft(), in the same process."""

import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import ExifTags, Image, ImageChops, ImageDraw, ImageOps

from vehiclewatch.reports.photos import process_photo

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5

# Runs in a fresh interpreter so the peak is this photo's alone; VmHWM is restarted after the
# imports and the decoders' loading (a worker loads them once, with its first photo), so the
# figure is the memory the photo itself added.
CHILD = """
import io, json, sys
from pathlib import Path
from PIL import Image, ImageOps
from vehiclewatch.reports.photos import load_decoders, process_photo

load_decoders()

def status(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) / 1024

def reference(data):
    im = Image.open(io.BytesIO(data))
    im.load()
    ImageOps.exif_transpose(im, in_place=True)
    im.thumbnail((1600, 1600), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85)
    return out.getvalue()

data = Path(sys.argv[2]).read_bytes()
Path("/proc/self/clear_refs").write_text("5")
before = status("VmRSS")
reference(data) if sys.argv[1] == "reference" else process_photo(data)
print(json.dumps(status("VmHWM") - before))
"""


def _reference(data: bytes) -> bytes:
    im = Image.open(io.BytesIO(data))
    im.load()  # decoded before thumbnail(), whose own draft() would otherwise apply
    ImageOps.exif_transpose(im, in_place=True)
    im.thumbnail((1600, 1600), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85)
    return out.getvalue()


def _phone_photo(width: int, height: int, quality: int, grain: float = 10) -> bytes:
    """A JPEG that costs what a phone photo costs to decode: broad colour areas, fine grain,
    hard edges (a flat test image decodes several times faster), with a phone's EXIF."""
    small = (max(1, width // 16), max(1, height // 16))
    noise = Image.effect_noise((width, height), grain)
    shade = Image.linear_gradient("L").resize((width, height))
    bands = []
    for _ in range(3):
        field = Image.effect_noise(small, 60).resize((width, height), Image.Resampling.BICUBIC)
        bands.append(ImageChops.add(ImageChops.multiply(field, shade), noise, 1, -100))
    del noise, shade
    im = Image.merge("RGB", bands)
    del bands
    draw = ImageDraw.Draw(im)
    for i in range(40):
        x, y = (i * 97) % width, (i * 57) % height
        draw.rectangle((x, y, x + width // 10, y + height // 12), outline=(250, 250, 0), width=6)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Xiaomi"
    exif[ExifTags.Base.Orientation] = 1
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2026:02:17 13:45:10"
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()


def _median_ms(function, data: bytes) -> float:
    function(data)  # warm-up: plugin imports, first allocations
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        function(data)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _peak_mb(kind: str, path: Path) -> float:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return json.loads(result.stdout)


def run() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        twelve = _phone_photo(4000, 3000, 90)
        big = _phone_photo(12000, 9000, 80, grain=4)  # ~16 MB, as such phones write
        (Path(tmp) / "12mp.jpg").write_bytes(twelve)
        (Path(tmp) / "108mp.jpg").write_bytes(big)

        reference_ms = _median_ms(_reference, twelve)
        photo_ms = _median_ms(process_photo, twelve)
        big_ms = _median_ms(process_photo, big)
        reference_mb = _peak_mb("reference", Path(tmp) / "12mp.jpg")
        photo_mb = _peak_mb("process", Path(tmp) / "12mp.jpg")
        big_mb = _peak_mb("process", Path(tmp) / "108mp.jpg")

    photo = process_photo(twelve)
    big_photo = process_photo(big)
    display = Image.open(io.BytesIO(photo.display)).size

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    return "\n".join(
        [
            "## Photo ingest, phone JPEGs",
            "",
            f"Medians of {RUNS} runs in one process; memory is the peak a photo adds to a fresh",
            "process (VmHWM after the imports).",
            "",
            "| what | figure |",
            "| --- | --- |",
            f"| 12 MP input (4000 × 3000, q90) | {len(twelve) / 1e6:.1f} MB |",
            f"| reference: open, load, exif_transpose, thumbnail 1600 (LANCZOS), save; no draft "
            f"| {reference_ms:.0f} ms, {reference_mb:.0f} MB |",
            f"| `process_photo`: evidence {photo.width} × {photo.height} "
            f"({len(photo.evidence) / 1e6:.1f} MB) + display {display[0]} × {display[1]} "
            f"({len(photo.display) / 1e6:.2f} MB) | {photo_ms:.0f} ms, {photo_mb:.0f} MB |",
            f"| ratio `process_photo` / reference | {photo_ms / reference_ms:.2f} (time), "
            f"{photo_mb / reference_mb:.2f} (memory) |",
            f"| target 12 MP: ≤ 150 ms | {verdict(photo_ms <= 150)} |",
            f"| target 12 MP: ≤ 64 MB | {verdict(photo_mb <= 64)} |",
            f"| 108 MP input (12000 × 9000, q80) | {len(big) / 1e6:.1f} MB |",
            f"| `process_photo` 108 MP: evidence {big_photo.width} × {big_photo.height} "
            f"| {big_ms:.0f} ms, {big_mb:.0f} MB |",
            f"| target 108 MP: accepted within 128 MB | {verdict(big_mb <= 128)} |",
            "",
        ]
    )
