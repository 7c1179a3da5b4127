"""A first print issues stickers in batches: each eligible car gets exactly one, and every
printed code (with the fixed mask) decodes to its own token's address."""

import io
import json

import pypdfium2
import qrcode
import zxingcpp
from PIL import Image
from qrcode.constants import ERROR_CORRECT_Q
from sqlalchemy import select

from vehiclewatch import audit
from vehiclewatch.audit import AuditEntry, verify_chain
from vehiclewatch.extensions import db
from vehiclewatch.fleet import printing, qr, stickers, vehicles
from vehiclewatch.fleet.models import Sticker, Vehicle

DPI = 200


def _decoded_urls(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    urls = []
    try:
        for page in document:
            image = page.render(scale=DPI / 72).to_pil()
            urls += [
                r.text
                for r in zxingcpp.read_barcodes(image)
                if r.format == zxingcpp.BarcodeFormat.QRCode
            ]
            page.close()
    finally:
        document.close()
    return urls


def test_first_print_issues_in_batches_and_every_code_decodes(org, make_vehicle, monkeypatch):
    monkeypatch.setattr(stickers, "ISSUE_BATCH", 3)
    cars = [make_vehicle(org["a-jy"], plate=f"藏B·3{n:04d}") for n in range(7)]
    make_vehicle(org["a-jy"], plate="藏B·39998", publicly_marked=False)
    vehicles.retire_vehicle(
        make_vehicle(org["a-jy"], plate="藏B·39999"), "报废", actor=audit.SYSTEM
    )
    stickers.issue_sticker(cars[0], actor=audit.SYSTEM)
    old = stickers.issue_sticker(cars[1], actor=audit.SYSTEM)
    stickers.reissue_sticker(cars[1], "损毁", actor=audit.SYSTEM)  # generation 2 is live
    kept = {cars[0].id: cars[0].live_sticker.token, cars[1].id: cars[1].live_sticker.token}
    # One car whose only sticker was revoked: it gets its next generation, not the first.
    revoked = stickers.issue_sticker(cars[2], actor=audit.SYSTEM)
    revoked.revoked_at, revoked.revoke_reason = revoked.issued_at, "遗失"
    db.session.commit()

    out = io.BytesIO()
    result = printing.print_stickers(printing.Selection(), out, actor=audit.SYSTEM)

    db.session.expire_all()
    live = db.session.execute(
        select(Sticker).where(Sticker.revoked_at.is_(None)).order_by(Sticker.vehicle_id)
    ).scalars()
    live = list(live)
    assert [s.vehicle_id for s in live] == [car.id for car in cars]  # one each, no other car
    assert result.stickers == 7
    for sticker in live:
        if sticker.vehicle_id in kept:
            assert sticker.token == kept[sticker.vehicle_id]  # a live sticker is never reissued
        assert sticker.url == f"http://127.0.0.1:5000/v/{sticker.token}"
        assert qr.compute_modules(sticker.url) == sticker.qr_modules
    assert {s.vehicle_id: s.generation for s in live}[cars[2].id] == 2
    assert old.generation == 1
    assert len({s.token for s in live}) == len({s.short_code for s in live}) == 7
    assert sorted(_decoded_urls(out.getvalue())) == sorted(s.url for s in live)

    batches = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "stickers_issued").order_by(AuditEntry.seq)
    ).scalars()
    listed = [item for entry in batches for item in json.loads(entry.after)["stickers"]]
    plates = dict(db.session.execute(select(Vehicle.id, Vehicle.plate)).all())
    assert sorted((i["vehicle"], i["short_code"]) for i in listed) == sorted(
        (plates[s.vehicle_id], s.short_code) for s in live if s.vehicle_id not in kept
    )
    assert len(listed) == 5 and verify_chain()[1] is None


def test_fixed_mask_keeps_version_and_level_and_decodes():
    for n in range(20):
        token = stickers.new_token()
        url = f"https://gongche.example.gov.cn/v/{token}" if n % 2 else f"http://h/v/{token}"
        rows = qr.compute_modules(url).split("\n")
        automatic = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=0)
        automatic.add_data(url)
        automatic.make(fit=True)
        assert len(rows) == len(automatic.get_matrix())  # the same version
        size = len(rows) + 2 * qr.QUIET_ZONE
        picture = Image.new("L", (size, size), 255)
        for y, row in enumerate(rows):
            for x, module in enumerate(row):
                if module == "1":
                    picture.putpixel((x + qr.QUIET_ZONE, y + qr.QUIET_ZONE), 0)
        picture = picture.resize((size * 8, size * 8), Image.NEAREST)
        found = zxingcpp.read_barcodes(picture, formats=zxingcpp.BarcodeFormat.QRCode)
        assert [r.text for r in found] == [url]
        assert found[0].ec_level == "Q"
