"""Stickers: tokens, lifecycle, downloads, printing from the web and the command line,
and the scan target that is never an error."""

import base64
import io
import re
from urllib.parse import quote_plus

import pypdfium2
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from vehiclewatch import audit
from vehiclewatch.audit import AuditEntry
from vehiclewatch.extensions import db
from vehiclewatch.fleet import guards, stickers, vehicles
from vehiclewatch.fleet.models import Sticker


def _decode(image: Image.Image) -> list[str]:
    return [
        r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode
    ]


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def _actions() -> list[str]:
    return [e.action for e in db.session.execute(select(AuditEntry)).scalars()]


def test_token_is_random_upper_base32_and_short_code_is_unambiguous(car, app):
    sticker = car.live_sticker
    assert re.fullmatch(r"[A-Z2-7]{24}", sticker.token)
    assert len(base64.b32decode(sticker.token)) * 8 >= 80
    assert re.fullmatch(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}", sticker.short_code)
    assert sticker.url == f"{app.config['PUBLIC_BASE_URL']}/v/{sticker.token}"
    assert sticker.generation == 1 and "sticker_issued" in _actions()
    other = stickers.issue_sticker(
        vehicles.create_vehicle("藏B·54321", car.unit, "other", actor=audit.SYSTEM),
        actor=audit.SYSTEM,
    )
    assert other.token != sticker.token and other.short_code != sticker.short_code


def test_scan_page_shows_the_public_identity(car, client, app):
    token = car.live_sticker.token
    for variant in (token, token.lower()):
        response = client.get(f"/v/{variant}")
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "藏B·12345" in page and "甲县教育局" in page and "执法执勤用车" in page
        assert "在用" in page and "12388" in page and app.config["HOTLINE_LOCAL"] in page
        assert "不准酒后驾驶公务用车" in page
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_unknown_token_gets_a_helpful_404(client, org):
    response = client.get("/v/AAAAAAAAAAAAAAAAAAAAAAAA")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "未找到该监督码" in page and "12388" in page and 'name="q"' in page


def test_reissue_revokes_the_old_token(car, client, login_as):
    old = car.live_sticker
    old_token = old.token
    admin, _ = login_as("fleet_admin", car.unit)
    response = admin.post(f"/fleet/vehicles/{car.id}/sticker/reissue", data={"reason": "损毁"})
    assert response.status_code == 302
    db.session.expire_all()
    new = car.live_sticker
    assert new.token != old_token and new.generation == 2
    revoked = db.session.execute(select(Sticker).where(Sticker.token == old_token)).scalar_one()
    assert revoked.revoke_reason == "损毁" and revoked.revoked_at is not None
    page = client.get(f"/v/{old_token}")
    assert page.status_code == 410
    assert "此码已作废" in page.get_data(as_text=True)
    assert client.get(f"/v/{new.token}").status_code == 200
    assert _actions()[-2:] == ["sticker_revoked", "sticker_issued"]


def test_retire_revokes_the_sticker(car, client):
    token = car.live_sticker.token
    vehicles.retire_vehicle(car, "报废", actor=audit.SYSTEM)
    assert car.live_sticker is None
    assert "此码已作废" in client.get(f"/v/{token}").get_data(as_text=True)
    with pytest.raises(guards.VehicleRetired):
        stickers.issue_sticker(car, actor=audit.SYSTEM)


def test_plate_or_unit_change_marks_needs_reprint(car, org):
    sticker = car.live_sticker
    vehicles.update_vehicle(car, colour="白色", actor=audit.SYSTEM)
    assert sticker.needs_reprint is False
    vehicles.update_vehicle(car, plate="藏B·12346", actor=audit.SYSTEM)
    assert sticker.needs_reprint is True and car.live_sticker.token == sticker.token
    sticker.needs_reprint = False
    db.session.commit()
    vehicles.update_vehicle(car, unit=org["a"], actor=audit.SYSTEM)
    assert sticker.needs_reprint is True


def test_confidential_vehicle_cannot_get_a_sticker(org, make_vehicle, login_as):
    secret = make_vehicle(org["a-jw"], plate="藏B·99999", publicly_marked=False)
    with pytest.raises(stickers.ConfidentialVehicle):
        stickers.issue_sticker(secret, actor=audit.SYSTEM)
    admin, _ = login_as("fleet_admin", org["a"])
    page = admin.post(f"/fleet/vehicles/{secret.id}/sticker", follow_redirects=True)
    assert "涉密车辆不发放监督码" in page.get_data(as_text=True)
    assert db.session.execute(select(Sticker)).first() is None


def test_becoming_confidential_revokes_the_sticker(car, client):
    token = car.live_sticker.token
    vehicles.update_vehicle(car, publicly_marked=False, actor=audit.SYSTEM)
    assert car.live_sticker is None
    # A confidential car's code answers like an unknown one.
    assert client.get(f"/v/{token}").status_code == 404


def test_png_sticker_decodes_to_its_url_which_serves_the_vehicle(car, login_as, client):
    admin, _ = login_as("fleet_admin", car.unit)
    response = admin.get(f"/fleet/vehicles/{car.id}/sticker.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "attachment" in response.headers["Content-Disposition"]
    urls = _decode(Image.open(io.BytesIO(response.data)))
    assert urls == [car.live_sticker.url]
    assert "藏B·12345" in client.get(_path(urls[0])).get_data(as_text=True)


def test_svg_sticker_carries_the_text_and_no_script(car, login_as):
    admin, _ = login_as("fleet_admin", car.unit)
    response = admin.get(f"/fleet/vehicles/{car.id}/sticker.svg")
    svg = response.get_data(as_text=True)
    assert response.mimetype == "image/svg+xml"
    assert "藏B·12345" in svg and "甲县教育局" in svg and car.live_sticker.display_code in svg
    assert "<script" not in svg


def test_web_print_decodes_and_changes_no_token(car, org, make_vehicle, login_as, client):
    second = make_vehicle(org["a"], plate="藏B·22222")  # no sticker yet: gets its first
    token_before = car.live_sticker.token
    admin, _ = login_as("fleet_admin", org["a"])
    response = admin.post(
        "/fleet/stickers/print", data={"unit_id": 0, "layout": "a4-8", "start": 1}
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    db.session.expire_all()
    assert car.live_sticker.token == token_before and car.live_sticker.generation == 1
    assert second.live_sticker is not None
    page = pypdfium2.PdfDocument(response.data)[0]
    urls = set(_decode(page.render(scale=200 / 72).to_pil()))
    assert urls == {car.live_sticker.url, second.live_sticker.url}
    for url in urls:
        assert client.get(_path(url)).status_code == 200
    assert "stickers_printed" in _actions()


def test_print_clears_needs_reprint(car, login_as):
    vehicles.update_vehicle(car, plate="藏B·12399", actor=audit.SYSTEM)
    admin, _ = login_as("fleet_admin", car.unit)
    response = admin.post(
        "/fleet/stickers/print",
        data={"unit_id": 0, "needs_reprint": "y", "layout": "a4-6", "start": 2},
    )
    assert response.mimetype == "application/pdf"
    db.session.expire_all()
    assert car.live_sticker.needs_reprint is False and car.live_sticker.printed_at is not None
    again = admin.post(
        "/fleet/stickers/print",
        data={"unit_id": 0, "needs_reprint": "y", "layout": "a4-6", "start": 1},
    )
    assert again.status_code == 200 and again.mimetype == "text/html"
    assert "没有可打印监督码的车辆" in again.get_data(as_text=True)


def test_fleet_admin_cannot_download_or_print_another_units_stickers(org, make_vehicle, login_as):
    theirs = make_vehicle(org["b-jy"], plate="藏C·12345")
    stickers.issue_sticker(theirs, actor=audit.SYSTEM)
    admin, _ = login_as("fleet_admin", org["a"])
    assert admin.get(f"/fleet/vehicles/{theirs.id}/sticker.png").status_code == 404
    assert admin.get(f"/fleet/vehicles/{theirs.id}/sticker.svg").status_code == 404
    assert (
        admin.post(f"/fleet/vehicles/{theirs.id}/sticker/reissue", data={"reason": "x"}).status_code
        == 404
    )
    response = admin.post(
        "/fleet/stickers/print",
        data={"unit_id": 0, "vehicle": [theirs.id], "layout": "a4-8", "start": 1},
    )
    assert response.mimetype == "text/html"  # nothing of theirs to print
    response = admin.post(
        "/fleet/stickers/print", data={"unit_id": org["b"].id, "layout": "a4-8", "start": 1}
    )
    assert response.status_code == 422  # not a unit they may choose


def test_print_stickers_command(car, org, make_vehicle, runner, tmp_path):
    make_vehicle(org["b-jy"], plate="藏C·12345")
    out = tmp_path / "a.pdf"
    result = runner.invoke(args=["print-stickers", "--unit", "a", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "font:" in result.output and "wrote 1 stickers on 1 pages" in result.output
    everything = tmp_path / "all.pdf"
    result = runner.invoke(
        args=["print-stickers", "--layout", "a4-6", "--start", "6", "--out", str(everything)]
    )
    assert "wrote 2 stickers on 2 pages" in result.output
    bad = runner.invoke(args=["print-stickers", "--start", "9", "--out", str(tmp_path / "x.pdf")])
    assert bad.exit_code != 0 and "起始位置须在 1 到 8 之间" in bad.output
    nothing = runner.invoke(
        args=["print-stickers", "--unit", "b", "--needs-reprint", "--out", str(tmp_path / "y.pdf")]
    )
    assert nothing.exit_code != 0
    # A failed print leaves nothing behind: no empty or broken PDF, no partial file.
    assert sorted(p.name for p in tmp_path.glob("*.pdf*")) == ["a.pdf", "all.pdf"]


def test_the_print_queue_holds_what_was_never_printed_or_needs_a_reprint(
    car, org, make_vehicle, login_as
):
    admin, _ = login_as("fleet_admin", org["a"])
    # Issued with the car but never printed: in the queue.
    queue = admin.get("/fleet/stickers/queue").text
    assert car.plate in queue and "从未打印" in queue
    assert (
        admin.post(
            "/fleet/stickers/print",
            data={"unit_id": 0, "needs_reprint": "y", "layout": "a4-8", "start": 1},
        ).mimetype
        == "application/pdf"
    )
    assert "没有待打印的监督码" in admin.get("/fleet/stickers/queue").text
    # A reissued sticker was never printed either: back in the queue, and printed in one go.
    stickers.reissue_sticker(car, "损毁", actor=audit.SYSTEM)
    queue = admin.get("/fleet/stickers/queue").text
    assert car.plate in queue and "第 2 代，补发" in queue
    sheet = admin.post(
        "/fleet/stickers/print",
        data={"unit_id": 0, "needs_reprint": "y", "layout": "a4-8", "start": 1},
    )
    page = pypdfium2.PdfDocument(sheet.data)[0]
    db.session.expire_all()
    assert set(_decode(page.render(scale=200 / 72).to_pil())) == {car.live_sticker.url}


def test_retiring_warns_and_confidential_cars_say_what_the_public_sees(car, org, login_as):
    admin, _ = login_as("fleet_admin", org["a"])
    form = admin.get(f"/fleet/vehicles/{car.id}").text
    assert "处置后，该车的监督码" in form and car.live_sticker.display_code in form
    vehicles.update_vehicle(car, publicly_marked=False, actor=audit.SYSTEM)
    form = admin.get(f"/fleet/vehicles/{car.id}").text
    assert "公众现在看到的" in form and "未找到该监督码" in form


def test_manual_lookup_by_short_code_and_plate(car, client, org, make_vehicle):
    code = car.live_sticker.display_code
    for typed in (code, code.lower().replace("-", " "), "藏b12345"):
        response = client.get("/v", query_string={"q": typed})
        assert response.status_code == 302, typed
        assert response.headers["Location"].endswith(f"/v/{car.live_sticker.token}")
    assert client.get("/v").status_code == 200


def test_confidential_plate_answers_like_an_unknown_plate(org, make_vehicle, client):
    make_vehicle(org["a-jw"], plate="藏B·88888", publicly_marked=False)
    secret = client.get("/v", query_string={"q": "藏B88888"})
    unknown = client.get("/v", query_string={"q": "藏B77777"})
    assert secret.status_code == unknown.status_code == 404

    def normalise(response) -> str:
        text = response.get_data(as_text=True)
        for plate in ("藏B88888", "藏B77777"):  # as typed, and in the 按车牌号举报 link
            text = text.replace(plate, "X").replace(quote_plus(plate), "X")
        return text

    assert normalise(secret) == normalise(unknown)
