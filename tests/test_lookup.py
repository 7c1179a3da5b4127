"""The manual look-up and the receipt as a citizen meets them: plates and codes typed any
way a phone keyboard types them, old codes, unknown plates, and a receipt that copies."""

from vehiclewatch import audit
from vehiclewatch.fleet.stickers import reissue_sticker

from .conftest import receipt_on


def test_an_unknown_plate_says_vehicle_and_offers_to_report_it(client, car):
    response = client.get("/v", query_string={"q": "藏B 99999"})
    assert response.status_code == 404
    assert "未找到该车辆" in response.text and "未找到该监督码" not in response.text
    assert 'href="/report?plate=%E8%97%8FB+99999"' in response.text
    form = client.get("/report", query_string={"plate": "藏B 99999"}).text
    assert 'value="藏B 99999"' in form


def test_an_unknown_code_still_says_code(client, car):
    response = client.get("/v", query_string={"q": "ZZZZ-ZZZZ"})
    assert response.status_code == 404 and "未找到该监督码" in response.text


def test_a_plate_without_its_province_is_found_when_unique(client, org, make_vehicle):
    car = make_vehicle(org["a-jy"], plate="藏F·56464")
    from vehiclewatch.fleet.stickers import issue_sticker

    issue_sticker(car, actor=audit.SYSTEM)
    found = client.get("/v", query_string={"q": "F56464"})
    assert found.status_code == 302
    assert found.headers["Location"].endswith(f"/v/{car.live_sticker.token}")
    # Two cars in the deployment share the rest of the plate: ask for the province.
    other = make_vehicle(org["b-jy"], plate="川F·56464")
    issue_sticker(other, actor=audit.SYSTEM)
    assert client.get("/v", query_string={"q": "f 56464"}).status_code == 404


def test_a_confidential_car_never_makes_a_bare_plate_ambiguous(client, org, make_vehicle):
    from vehiclewatch.fleet.stickers import issue_sticker

    car = make_vehicle(org["a-jy"], plate="藏F·77777")
    issue_sticker(car, actor=audit.SYSTEM)
    make_vehicle(org["a-jw"], plate="川F·77777", publicly_marked=False)
    found = client.get("/v", query_string={"q": "F77777"})
    assert found.status_code == 302  # the confidential twin is invisible, not "ambiguous"


def test_an_old_short_code_says_revoked_and_offers_a_report(client, car):
    old = car.live_sticker
    old_code = old.display_code
    reissue_sticker(car, "损毁", actor=audit.SYSTEM)
    response = client.get("/v", query_string={"q": old_code.lower()})
    assert response.status_code == 410
    assert "此码已作废" in response.text and f"/v/{old.token}/report" in response.text


def test_full_width_codes_and_plates_are_found(client, car):
    code = car.live_sticker.short_code
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    assert client.get("/v", query_string={"q": full_width}).status_code == 302
    assert client.get("/v", query_string={"q": "藏Ｂ·１２３４５"}).status_code == 302


def test_the_receipt_never_breaks_inside_a_group(client, car):
    token = car.live_sticker.token
    from .test_citizen import _report_data

    page = client.get(f"/v/{token}/report").text
    done = client.post(f"/v/{token}/report", data=_report_data(page)).text
    groups = receipt_on(done).split("-")
    assert len(groups) == 5
    shown = "-<wbr>".join(f'<span class="receipt-group">{g}</span>' for g in groups)
    assert shown in done
    assert 'data-copy="receipt"' in done and "hidden" in done  # enhanced by copy.js


def test_icons_are_served_with_a_long_cache(client):
    for path, kind in (("/favicon.ico", "image/"), ("/apple-touch-icon.png", "image/png")):
        with client.get(path) as response:
            assert response.status_code == 200 and response.mimetype.startswith(kind)
            assert "max-age=31536000" in response.headers["Cache-Control"]
    assert 'rel="apple-touch-icon"' in client.get("/").text
