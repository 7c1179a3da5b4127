"""Bilingual stickers on every print path — the command, the print pages, PNG and SVG — with
the 翻译未审核 draft mark until the glossary marks every sticker text reviewed."""

import csv
import io
import re

import pypdf
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from vehiclewatch.audit import AuditEntry
from vehiclewatch.extensions import db
from vehiclewatch.fonts import tibetan_font
from vehiclewatch.publictext import TITLE
from vehiclewatch.stickertext import (
    GLOSSARY,
    STICKER_TEXTS,
    MissingTranslation,
    UnknownLanguages,
    load_glossary,
    parse_languages,
    tibetan,
    unreviewed,
    wording,
)

MARK = "翻译未审核"
TIBETAN_TITLE = tibetan(TITLE)

needs_tibetan_font = pytest.mark.skipif(
    tibetan_font() is None, reason="needs a Tibetan font (Debian: fonts-noto-core)"
)


def write_glossary(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["zh", "bo", "en", "note", "reviewed"])
        writer.writerows(rows)
    return path


def test_the_shipped_glossary_has_tibetan_and_english_for_every_sticker_text():
    glossary = load_glossary()
    for zh in STICKER_TEXTS:
        entry = glossary[zh]
        assert re.search("[\u0f40-\u0fbc]", entry.bo), zh  # Tibetan letters
        assert entry.en and "sticker" in entry.note, zh  # the reviewer sees where it is printed
    assert GLOSSARY.name == "glossary.csv"


def test_languages_and_review_state_come_from_the_setting_and_the_glossary(tmp_path):
    assert parse_languages("zh") == ("zh",)
    assert parse_languages(" BO, zh ") == ("bo", "zh")
    with pytest.raises(UnknownLanguages, match="VEHICLEWATCH_STICKER_LANGUAGES"):
        parse_languages("zh,bo,en")
    rows = [(zh, f"བོད{i}", "en", "sticker", "yes") for i, zh in enumerate(STICKER_TEXTS)]
    reviewed = write_glossary(tmp_path / "reviewed.csv", rows)
    assert unreviewed(reviewed) == []
    assert wording("bo,zh", allow_unreviewed=False, path=reviewed).draft is False
    assert wording("bo,zh", allow_unreviewed=False, path=reviewed).bo(TITLE) == "བོད0"
    assert wording("zh", allow_unreviewed=False, path=reviewed).bilingual is False

    one_left = write_glossary(tmp_path / "one-left.csv", [*rows[:-1], (*rows[-1][:4], "no")])
    assert unreviewed(one_left) == [STICKER_TEXTS[-1]]
    assert wording("bo,zh", allow_unreviewed=False, path=one_left).draft is True
    assert wording("bo,zh", allow_unreviewed=True, path=one_left).draft is False

    missing = write_glossary(tmp_path / "missing.csv", rows[1:])
    with pytest.raises(MissingTranslation, match=TITLE):
        wording("bo,zh", allow_unreviewed=True, path=missing)
    # Chinese alone never needs the glossary.
    assert wording("zh", allow_unreviewed=False, path=missing).bilingual is False


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


@needs_tibetan_font
def test_the_command_prints_bilingual_with_the_draft_mark_and_names_the_font(
    app, car, runner, tmp_path
):
    app.config["STICKER_LANGUAGES"] = "bo,zh"
    out = tmp_path / "draft.pdf"
    result = runner.invoke(args=["print-stickers", "--back", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Tibetan font: embedded TrueType {tibetan_font().path}" in result.output
    assert "every label says 翻译未审核" in result.output
    assert MARK in pdf_text(out.read_bytes())
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "stickers_printed")
    ).scalar_one()
    assert '"languages": "bo,zh"' in str(entry.after).replace("'", '"')

    out = tmp_path / "allowed.pdf"
    args = ["print-stickers", "--back", "--allow-unreviewed", "--out", str(out)]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "翻译未审核" not in result.output
    text = pdf_text(out.read_bytes())
    assert MARK not in text and TITLE in text

    app.config["STICKER_ALLOW_UNREVIEWED"] = True
    out = tmp_path / "setting.pdf"
    assert runner.invoke(args=["print-stickers", "--out", str(out)]).exit_code == 0
    assert MARK not in pdf_text(out.read_bytes())


def test_chinese_stickers_carry_no_mark_and_need_no_tibetan_font(app, car, runner, tmp_path):
    out = tmp_path / "zh.pdf"
    result = runner.invoke(args=["print-stickers", "--back", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Tibetan font" not in result.output
    text = pdf_text(out.read_bytes())
    assert MARK not in text and TITLE in text


def test_without_a_tibetan_font_bilingual_printing_is_refused(
    app, car, runner, tmp_path, monkeypatch, login_as
):
    monkeypatch.setattr("vehiclewatch.fonts.TIBETAN_FONTS", ())
    app.config["STICKER_LANGUAGES"] = "bo,zh"
    app.config["TIBETAN_FONT_PATH"] = str(tmp_path / "missing.ttf")
    out = tmp_path / "sheet.pdf"
    result = runner.invoke(args=["print-stickers", "--out", str(out)])
    assert result.exit_code != 0 and "fonts-noto-core" in result.output
    assert list(tmp_path.glob("*.pdf*")) == []
    admin, _ = login_as("fleet_admin", car.unit)
    page = admin.get("/fleet/stickers/print").text
    assert "藏文监督码需要藏文字体" in page
    response = admin.post(
        "/fleet/stickers/print", data={"unit_id": 0, "layout": "a4-8", "start": 1}
    )
    assert response.mimetype == "text/html" and "藏文监督码需要藏文字体" in response.text
    db.session.expire_all()
    assert car.live_sticker.printed_at is None  # nothing printed, nothing recorded


@needs_tibetan_font
def test_the_print_pages_warn_and_print_the_draft_mark(app, car, login_as):
    app.config["STICKER_LANGUAGES"] = "bo,zh"
    admin, _ = login_as("fleet_admin", car.unit)
    for path in ("/fleet/stickers/print", "/fleet/stickers/queue"):
        assert "藏文译文尚未全部审核" in admin.get(path).text
    form = {"unit_id": 0, "layout": "a4-6", "start": 1, "back": "y"}
    response = admin.post("/fleet/stickers/print", data=form)
    assert response.mimetype == "application/pdf"
    assert MARK in pdf_text(response.data)

    app.config["STICKER_ALLOW_UNREVIEWED"] = True
    assert "藏文译文尚未全部审核" not in admin.get("/fleet/stickers/print").text
    response = admin.post("/fleet/stickers/print", data=form)
    text = pdf_text(response.data)
    assert MARK not in text and TITLE in text


def pink_pixels(image: Image.Image) -> int:
    """Pixels of the draft mark's light red (#ffc7c7); the edges of red text pass through
    such colours too, but only a few of their pixels land on exactly it."""
    colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    return sum(count for count, colour in colours if colour == (255, 199, 199))


@needs_tibetan_font
def test_the_png_is_bilingual_scans_and_carries_the_draft_mark(app, car, login_as):
    app.config["STICKER_LANGUAGES"] = "bo,zh"
    admin, _ = login_as("fleet_admin", car.unit)
    image = Image.open(io.BytesIO(admin.get(f"/fleet/vehicles/{car.id}/sticker.png").data))
    assert image.height / image.width == pytest.approx(121 / 70, abs=0.01)
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [r.text for r in found] == [car.live_sticker.url]
    assert pink_pixels(image) > 1000

    app.config["STICKER_ALLOW_UNREVIEWED"] = True
    image = Image.open(io.BytesIO(admin.get(f"/fleet/vehicles/{car.id}/sticker.png").data))
    assert pink_pixels(image) < 50
    app.config["STICKER_LANGUAGES"] = "zh"
    image = Image.open(io.BytesIO(admin.get(f"/fleet/vehicles/{car.id}/sticker.png").data))
    assert image.height / image.width == pytest.approx(100 / 70, abs=0.01)


@needs_tibetan_font
def test_the_svg_carries_tibetan_text_and_the_draft_mark(app, car, login_as):
    app.config["STICKER_LANGUAGES"] = "bo,zh"
    admin, _ = login_as("fleet_admin", car.unit)
    svg = admin.get(f"/fleet/vehicles/{car.id}/sticker.svg").text
    assert 'lang="bo" font-family="Noto Serif Tibetan' in svg
    assert f">{TIBETAN_TITLE}</text>" in svg and f">{TITLE}</text>" in svg
    assert svg.index(TIBETAN_TITLE) < svg.index(f">{TITLE}<")  # Tibetan above Chinese
    assert MARK in svg
    app.config["STICKER_ALLOW_UNREVIEWED"] = True
    assert MARK not in admin.get(f"/fleet/vehicles/{car.id}/sticker.svg").text


def test_a_missing_translation_is_named_on_the_page(app, car, login_as, monkeypatch):
    app.config["STICKER_LANGUAGES"] = "bo,zh"
    monkeypatch.setattr("vehiclewatch.fleet.printing.tibetan_font", lambda path: object())

    def no_title(languages, *, allow_unreviewed):
        raise MissingTranslation(f"术语表缺少“{TITLE}”的藏文")

    monkeypatch.setattr("vehiclewatch.fleet.printing.wording", no_title)
    admin, _ = login_as("fleet_admin", car.unit)
    response = admin.get(f"/fleet/vehicles/{car.id}/sticker.png", follow_redirects=True)
    assert response.mimetype == "text/html" and f"缺少“{TITLE}”的藏文" in response.text


def test_the_demo_prints_bilingual_stickers_without_the_mark(app, runner, monkeypatch):
    served = {}

    def fake_server(host, port, *, debugger):
        served.update(app.config)

    monkeypatch.setattr("vehiclewatch.cli.run_development_server", fake_server)
    result = runner.invoke(args=["demo", "--port", "5098"])
    assert result.exit_code == 0, result.output
    assert served["STICKER_ALLOW_UNREVIEWED"] is True
    if tibetan_font() is None:
        assert "stickers in Chinese only" in result.output
    else:
        assert served["STICKER_LANGUAGES"] == "bo,zh"
        assert "stickers in Tibetan above Chinese" in result.output
