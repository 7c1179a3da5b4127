"""Sticker sheets of 1,000 and 10,000 stickers (targets for 10,000: ≤ 20 s, ≤ 150 MB and
≤ 1.5 × the memory of 1,000; every code decodes with zbarimg at 200 dpi), against a
reference: 1,000 stickers drawn the plain reportlab way, one canvas.rect per dark module."""

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from helpers import in_fresh_process

HERE = Path(__file__).resolve().parent
DISTINCT = 200  # computing a code takes ~4 ms; 10,000 of them would swamp the figure
SIZES = (1_000, 10_000)
DPI = 200


def _faces(count: int):
    import base64
    import secrets

    from vehiclewatch.fleet.qr import compute_modules
    from vehiclewatch.fleet.sheets import StickerFace

    codes = []
    for _ in range(DISTINCT):
        token = base64.b32encode(secrets.token_bytes(15)).decode("ascii")
        url = f"http://127.0.0.1:5000/v/{token}"
        modules = compute_modules(url)
        codes.append((url, modules, f"{token[:4]}-{token[4:8]}"))

    def faces():
        # As the service reads them: a fresh face (and matrix) per row, never a list.
        for i in range(count):
            url, modules, short = codes[i % DISTINCT]
            matrix = [[c == "1" for c in row] for row in modules.split("\n")]
            yield StickerFace(f"藏A·{i:05d}", f"示例市公安局第{i // 500}大队", short, url, matrix)

    return faces()


def _reference(path: str, faces) -> None:
    """The naive baseline: every module a canvas.rect, every text a drawString."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from vehiclewatch.fonts import cjk_font

    mm = 72 / 25.4
    font = cjk_font().name
    canvas = Canvas(path, pagesize=A4, pageCompression=1)
    for i, face in enumerate(faces):
        if i and i % 8 == 0:
            canvas.showPage()
        row, col = divmod(i % 8, 2)
        x, top = (4.65 + col * 101.6) * mm, A4[1] - (13.1 + row * 67.7) * mm
        module = 46 * mm / len(face.matrix)
        for y, line in enumerate(face.matrix):
            for m, dark in enumerate(line):
                if dark:
                    canvas.rect(x + (6 + m) * module, top - (6 + y) * module, module, module,
                                stroke=0, fill=1)  # fmt: skip
        canvas.setFont(font, 10)
        for n, text in enumerate(("公务用车监督码", face.plate, face.unit_name, face.short_code)):
            canvas.drawString(x + 62 * mm, top - (8 + 6 * n) * mm, text)
    canvas.showPage()
    canvas.save()


def _child(count: int, path: str, mode: str) -> None:
    """Runs in a fresh interpreter so that its peak RSS is this sheet's alone."""
    import resource

    from vehiclewatch.fleet.sheets import write_sheet
    from vehiclewatch.fonts import cjk_font

    cjk_font()  # parse and register the font before the clock starts, as a worker has
    faces = _faces(count)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    if mode == "reference":
        _reference(path, faces)
    else:
        write_sheet(path, faces, hotline_local="0891-12388")
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "peak_mb": peak, "before_mb": before}))


def _measure(count: int, path: Path, mode: str = "sheet") -> dict:
    return in_fresh_process("bench_sheets", f"_child({count}, {str(path)!r}, {mode!r})", path)


def _zbarimg(*images: Path) -> int:
    done = subprocess.run(["zbarimg", "-q", *images], capture_output=True, text=True)
    return sum(line.startswith("QR-Code:http") for line in done.stdout.splitlines())


def _zbar(path: Path, pages: int, folder: Path) -> dict | None:
    """zbarimg over a sample of the sheet's pages at 200 dpi: on each whole page, and on
    each label cut out of it (one code at a time, as a phone sees it)."""
    if not (shutil.which("zbarimg") and shutil.which("pdftoppm")):
        return None
    from PIL import Image

    from vehiclewatch.fleet.layouts import LAYOUTS

    layout = LAYOUTS["a4-8"]
    # The faces repeat every DISTINCT stickers: these pages hold every distinct code once.
    sample = sorted({*range(1, DISTINCT // layout.per_sheet + 1), pages})
    figures = {"pages": len(sample), "codes": 0, "whole_page": 0, "by_label": 0}
    for page in sample:
        stem = folder / f"page-{page}"
        subprocess.run(
            ["pdftoppm", "-r", str(DPI), "-gray", "-f", str(page), "-l", str(page),
             "-singlefile", str(path), str(stem)],
            check=True,
        )  # fmt: skip
        figures["whole_page"] += _zbarimg(stem.with_suffix(".pgm"))
        with Image.open(stem.with_suffix(".pgm")) as image:
            figures["by_label"] += _zbarimg(*cut_labels(image, folder, stem.name))
        figures["codes"] += layout.per_sheet
    return figures


def cut_labels(image, folder: Path, stem: str) -> list[Path]:
    """Each label of an a4-8 page rendered at DPI, saved as its own image in folder."""
    from vehiclewatch.fleet.layouts import LAYOUTS

    layout = LAYOUTS["a4-8"]
    px = DPI / 25.4
    labels = []
    for position in range(layout.per_sheet):
        row, col = divmod(position, layout.cols)
        x = (layout.left_mm + col * layout.h_pitch_mm) * px
        y = (layout.top_mm + row * layout.v_pitch_mm) * px
        box = (x, y, x + layout.label_w_mm * px, y + layout.label_h_mm * px)
        labels.append(folder / f"{stem}-label-{position}.pgm")
        image.crop(tuple(round(v) for v in box)).save(labels[-1])
    return labels


def run() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        reference = _measure(SIZES[0], folder / "reference.pdf", "reference")
        results = {n: _measure(n, folder / f"sheet-{n}.pdf") for n in SIZES}
        zbar = _zbar(folder / f"sheet-{SIZES[-1]}.pdf", SIZES[-1] // 8, folder)
    small, large = results[SIZES[0]], results[SIZES[-1]]
    growth = large["peak_mb"] / small["peak_mb"]
    met = large["seconds"] <= 20 and large["peak_mb"] <= 150 and growth <= 1.5
    if zbar is None:
        scanned = ["| zbarimg | not run (needs zbar-tools and poppler-utils) |"]
    else:
        sampled = f"of {zbar['codes']} codes on {zbar['pages']} pages"
        scanned = [
            f"| zbarimg at {DPI} dpi, each label cut out | {zbar['by_label']} {sampled} |",
            f"| zbarimg at {DPI} dpi, whole pages | {zbar['whole_page']} {sampled} |",
        ]
        met = met and zbar["by_label"] == zbar["codes"]
    rows = [
        "## Sticker sheets (A4, 8 a sheet, reportlab)",
        "",
        f"Faces cycle through {DISTINCT} precomputed codes; each size runs in a fresh process.",
        "",
        "| what | time | peak RSS (before writing) | PDF |",
        "| --- | --- | --- | --- |",
        f"| reference: {SIZES[0]:,} stickers, one `canvas.rect` per module | "
        f"{reference['seconds']:.2f} s | {reference['peak_mb']:.0f} MB "
        f"({reference['before_mb']:.0f} MB) | {reference['mb']:.1f} MB |",
    ]
    for n in SIZES:
        r = results[n]
        rows.append(
            f"| `write_sheet`, {n:,} stickers | {r['seconds']:.2f} s | {r['peak_mb']:.0f} MB "
            f"({r['before_mb']:.0f} MB) | {r['mb']:.1f} MB |"
        )
    rows += [
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| ratio `write_sheet` / reference, {SIZES[0]:,} stickers | "
        f"{small['seconds'] / reference['seconds']:.2f} |",
        f"| peak memory {SIZES[-1]:,} / {SIZES[0]:,} stickers | {growth:.2f} |",
        *scanned,
        f"| target: ≤ 20 s, ≤ 150 MB, ≤ 1.5 ×, all codes decode | {'met' if met else 'NOT met'} |",
        "",
    ]
    return "\n".join(rows)
