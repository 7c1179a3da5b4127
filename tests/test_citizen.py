"""The citizen's minute: scan, report with a photo, receipt, track, add, object —
and every protection of the reporter."""

import io
import logging
import re
from datetime import datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select, text

from vehiclewatch import audit
from vehiclewatch.extensions import db
from vehiclewatch.reports import workflow
from vehiclewatch.reports.models import Report, ReportPhoto, Source
from vehiclewatch.reports.photostore import photo_dir
from vehiclewatch.reports.states import Action, State
from vehiclewatch.timeutil import local_zone

from .conftest import BOTH_STORES, count_rows, receipt_on
from .photo_samples import jpeg_bytes


def _form_fields(page: str) -> dict:
    submission = re.search(r'name="submission_id" type="hidden" value="([^"]+)"', page).group(1)
    return {"submission_id": submission}


def _seen(hours_ago=1) -> str:
    return (datetime.now(local_zone()) - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M")


def _report_data(page: str, **extra) -> dict:
    data = _form_fields(page) | {
        "category": "wedding_funeral",
        "seen_at": _seen(),
        "place": "某某大酒店门口",
        "description": "车停在婚宴酒店门口",
        "plate_matches": "yes",
    }
    data.update(extra)
    return data


def _receipt(page: str) -> str:
    return receipt_on(page)


def _photo_files(app) -> list:
    folder = photo_dir()
    return sorted(folder.iterdir()) if folder.exists() else []


def test_the_whole_path(client, car, app, make_user, org):
    token = car.live_sticker.token
    scan = client.get(f"/v/{token}").get_data(as_text=True)
    assert "我要举报" in scan
    form_page = client.get(f"/v/{token}/report").get_data(as_text=True)
    assert "默认匿名" in form_page
    data = _report_data(form_page, photos=[(io.BytesIO(jpeg_bytes()), "IMG_0001.JPG")])
    response = client.post(f"/v/{token}/report", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    receipt = _receipt(response.get_data(as_text=True))
    report = db.session.execute(select(Report)).scalar_one()
    assert report.state == State.SUBMITTED and report.vehicle_id == car.id
    assert report.category == "wedding_funeral" and len(report.photos) == 1
    assert report.score == 10  # photo

    status = client.post("/track", data={"receipt": receipt.lower()}).get_data(as_text=True)
    assert "已收到，待受理" in status and "藏B·12345" in status

    added = client.post(
        "/track/add",
        data={
            "receipt": receipt,
            "text": "又看到一次",
            "photos": [(io.BytesIO(jpeg_bytes()), "b.jpg")],
        },
        content_type="multipart/form-data",
    )
    assert "补充材料已收到" in added.get_data(as_text=True)
    db.session.expire_all()
    assert len(report.photos) == 2

    officer, leader = make_user("officer", org["a"]), make_user("leader", org["a"])
    for action, actor, details in (
        (Action.ACCEPT, officer, {}),
        (Action.VERIFY, officer, {"method": "preliminary"}),
        (Action.PROPOSE, officer, {"finding": "true", "outcome": "criticism"}),
        (Action.APPROVE, leader, {}),
        (Action.REPLY, officer, {"reply": "经核实，情况属实，已对驾驶员批评教育。"}),
    ):
        workflow.transition(report, action, actor, **details)
    status = client.post("/track", data={"receipt": receipt}).get_data(as_text=True)
    assert "已办结" in status and "已对驾驶员批评教育" in status
    assert "核查中" not in status and "初步核实" not in status  # never the internal state

    objection = client.post("/track/object", data={"receipt": receipt, "text": "车辆次日又出现"})
    assert "异议已收到" in objection.get_data(as_text=True)
    db.session.expire_all()
    assert report.state == State.VERIFYING
    again = client.post("/track", data={"receipt": receipt}).get_data(as_text=True)
    assert "处理中" in again and "提出异议" not in again


def test_receipt_is_never_stored_or_logged_in_clear(client, car, app, caplog):
    caplog.set_level(logging.DEBUG)
    token = car.live_sticker.token
    page = client.get(f"/v/{token}/report").get_data(as_text=True)
    response = client.post(f"/v/{token}/report", data=_report_data(page))
    receipt = _receipt(response.get_data(as_text=True))
    compact = receipt.replace("-", "")
    assert len(compact) * 5 >= 80  # at least 80 bits
    dump = (
        "\n".join(db.session.connection().connection.dbapi_connection.iterdump())
        if (db.engine.dialect.name == "sqlite")
        else ""
    )
    rows = db.session.execute(text("SELECT * FROM report")).all()
    audit_rows = db.session.execute(text("SELECT before, after FROM audit_entry")).all()
    for haystack in (dump, repr(rows), repr(audit_rows), caplog.text):
        assert receipt not in haystack and compact not in haystack
    assert "/track" in client.post("/track", data={"receipt": receipt}).request.path


def test_wrong_and_unknown_receipts_answer_alike(client, car):
    wrong = client.post("/track", data={"receipt": "BCDE-FGHJ-KLMN-PQRS-TUVW"})
    garbage = client.post("/track", data={"receipt": "not a code at all"})
    assert wrong.status_code == garbage.status_code == 404
    # The same page, word for word, but for the code each typed (and its form token).
    assert "没有找到与该查询码对应的举报" in wrong.text

    def page(response, typed):
        text = response.get_data(as_text=True).replace(typed, "TYPED")
        return re.sub(r'name="csrf_token"[^>]*>', "", text)

    assert page(wrong, "BCDE-FGHJ-KLMN-PQRS-TUVW") == page(garbage, "not a code at all")


def test_double_submit_gives_one_report_and_the_same_receipt(client, car):
    token = car.live_sticker.token
    page = client.get(f"/v/{token}/report").get_data(as_text=True)
    data = _report_data(page)
    first = _receipt(client.post(f"/v/{token}/report", data=data).get_data(as_text=True))
    second = _receipt(client.post(f"/v/{token}/report", data=dict(data)).get_data(as_text=True))
    assert first == second and count_rows(Report) == 1


def test_no_ip_or_user_agent_is_stored(client, car):
    token = car.live_sticker.token
    page = client.get(f"/v/{token}/report").get_data(as_text=True)
    client.post(
        f"/v/{token}/report",
        data=_report_data(page),
        headers={"User-Agent": "Mozilla/5.0 (TestPhone 1.0)"},
        environ_base={"REMOTE_ADDR": "203.0.113.77"},
    )
    columns = {c.name for c in Report.__table__.columns}
    assert not columns & {"ip", "ip_address", "remote_addr", "user_agent", "device"}
    everything = repr(db.session.execute(text("SELECT * FROM report")).all())
    everything += repr(db.session.execute(text("SELECT * FROM audit_entry")).all())
    assert "203.0.113.77" not in everything and "TestPhone" not in everything


def test_real_name_contact_is_encrypted_at_rest(client, car, app):
    token = car.live_sticker.token
    page = client.get(f"/v/{token}/report").get_data(as_text=True)
    data = _report_data(page, reporter_name="李某某", reporter_phone="13800001234")
    client.post(f"/v/{token}/report", data=data)
    raw = repr(db.session.execute(text("SELECT * FROM report")).all())
    assert "13800001234" not in raw and "李某某" not in raw
    report = db.session.execute(select(Report)).scalar_one()
    from vehiclewatch.reports.protection import decrypt_contact

    assert report.real_name and report.score == 10
    assert decrypt_contact(report.reporter_phone_enc) == "13800001234"


def test_contact_keys_rotate_without_losing_old_data(make_app, car):
    from cryptography.fernet import Fernet

    from vehiclewatch.reports.protection import decrypt_contact, encrypt_contact

    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with make_app(CONTACT_KEYS=old_key).app_context():
        token = encrypt_contact("13800001234")
    with make_app(CONTACT_KEYS=f"{new_key},{old_key}").app_context():
        assert decrypt_contact(token) == "13800001234"


def test_validation_error_keeps_input_and_asks_for_photos_again(client, car):
    token = car.live_sticker.token
    page = client.get(f"/v/{token}/report").get_data(as_text=True)
    future = (datetime.now(local_zone()) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    data = _report_data(
        page, seen_at=future, photos=[(io.BytesIO(jpeg_bytes()), "a.jpg")], place="某景区停车场"
    )
    response = client.post(f"/v/{token}/report", data=data, content_type="multipart/form-data")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "时间不能晚于现在" in body and "某景区停车场" in body and "车停在婚宴酒店门口" in body
    assert "照片需要重新选择" in body
    assert count_rows(Report) == 0
    old = (datetime.now(local_zone()) - timedelta(days=31)).strftime("%Y-%m-%dT%H:%M")
    too_old = client.post(f"/v/{token}/report", data=_report_data(page, seen_at=old))
    assert "天内看到的情况" in too_old.get_data(as_text=True)


@pytest.mark.parametrize(
    "payload, name, message",
    [
        (b"<!doctype html><html><body>hi</body></html>", "photo.jpg", "不是可识别的照片"),
        ("bomb", "bomb.png", "像素过大"),
    ],
)
def test_bad_photos_are_refused_and_nothing_is_saved(client, car, app, payload, name, message):
    if payload == "bomb":
        out = io.BytesIO()
        Image.new("1", (12000, 10000)).save(out, "PNG")
        payload = out.getvalue()
    token = car.live_sticker.token
    page = client.get(f"/v/{token}/report").get_data(as_text=True)
    data = _report_data(page, photos=[(io.BytesIO(payload), name)])
    response = client.post(f"/v/{token}/report", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count_rows(Report) == 0 and count_rows(ReportPhoto) == 0 and _photo_files(app) == []


def test_oversize_upload_gets_a_friendly_413(make_app, car):
    app = make_app(MAX_CONTENT_LENGTH=64 * 1024)
    with app.app_context():
        client = app.test_client()
        token = car.live_sticker.token
        page = client.get(f"/v/{token}/report").get_data(as_text=True)
        # Kept under the test client's 500 KB spooling threshold, so no temp file is left open.
        big = io.BytesIO(b"\xff\xd8" + b"0" * (200 * 1024))
        response = client.post(
            f"/v/{token}/report",
            data=_report_data(page, photos=[(big, "big.jpg")]),
            content_type="multipart/form-data",
        )
        assert response.status_code == 413
        assert "上传的内容过大" in response.get_data(as_text=True)
        assert count_rows(Report) == 0


def test_honeypot_is_refused(client, car):
    token = car.live_sticker.token
    page = client.get(f"/v/{token}/report").get_data(as_text=True)
    response = client.post(f"/v/{token}/report", data=_report_data(page, website="http://spam"))
    assert response.status_code == 400 and count_rows(Report) == 0


def test_tracking_is_throttled(app, client, car):
    app.config["TRACK_RATE_LIMIT"] = "20/minute"
    codes = [
        client.post("/track", data={"receipt": f"AAAA-AAAA-AAAA-AAAA-AA{n:02d}"}).status_code
        for n in range(21)
    ]
    assert codes[-1] == 429


def test_revoked_code_offers_a_marking_report(client, car):
    from vehiclewatch.fleet.stickers import reissue_sticker

    old = car.live_sticker.token
    reissue_sticker(car, "损毁", actor=audit.SYSTEM)
    page = client.get(f"/v/{old}").get_data(as_text=True)
    assert "此码已作废" in page and f"/v/{old}/report" in page
    form = client.get(f"/v/{old}/report").get_data(as_text=True)
    assert 'value="marking" selected' in form or 'selected value="marking"' in form


def test_report_by_typed_plate_reaches_the_cars_officers(client, car, org, make_vehicle):
    secret = make_vehicle(org["a-jw"], plate="藏B·66666", publicly_marked=False)
    page = client.get("/report").get_data(as_text=True)
    data = _report_data(page, plate="藏b66666")
    del data["plate_matches"]
    response = client.post("/report", data=data)
    assert response.status_code == 200 and _receipt(response.get_data(as_text=True))
    report = db.session.execute(select(Report)).scalar_one()
    assert report.vehicle_id == secret.id and report.unit_id == org["a-jw"].id
    assert report.plate_matches is None
    assert report.source == Source.MANUAL  # typed, not scanned: 手工录入
    page = client.get("/report").get_data(as_text=True)
    data = _report_data(page, plate="藏B99999")
    del data["plate_matches"]
    client.post("/report", data=data)
    unknown = db.session.execute(
        select(Report).where(Report.typed_plate == "藏B·99999")
    ).scalar_one()
    assert unknown.vehicle_id is None and unknown.unit_id == org["city"].id


@BOTH_STORES
def test_served_photos_carry_no_metadata_and_only_officers_in_scope_see_them(
    client, car, login_as, org
):
    from tests.test_photos import _phone_jpeg  # a JPEG with GPS, make, serial, capture time

    token = car.live_sticker.token
    page = client.get(f"/v/{token}/report").get_data(as_text=True)
    data = _report_data(page, photos=[(io.BytesIO(_phone_jpeg()), "p.jpg")])
    client.post(f"/v/{token}/report", data=data, content_type="multipart/form-data")
    photo = db.session.execute(select(ReportPhoto)).scalar_one()
    assert photo.taken_at is not None and photo.latitude is not None
    officer, _ = login_as("officer", org["a"])
    for kind in ("display", "evidence"):
        with officer.get(f"/review/photos/{photo.id}/{kind}.jpg") as response:
            data = response.get_data()
        assert response.status_code == 200
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "inline" in response.headers["Content-Disposition"]
        image = Image.open(io.BytesIO(data))
        assert not image.getexif() and b"Huawei" not in data
        assert image.height > image.width  # upright
    other, _ = login_as("officer", org["b"])
    assert other.get(f"/review/photos/{photo.id}/display.jpg").status_code == 404
    fleet, _ = login_as("fleet_admin", org["city"])
    assert fleet.get(f"/review/photos/{photo.id}/display.jpg").status_code == 403
    assert client.get(f"/review/photos/{photo.id}/display.jpg").status_code == 302


def test_scan_page_is_small_and_self_contained(client, car, app):
    page = client.get(f"/v/{car.live_sticker.token}").get_data()
    with client.get("/static/style.css") as response:
        css = response.get_data()
    assert len(page) + len(css) < 30 * 1024
    assert b"http://" not in page.replace(app.config["PUBLIC_BASE_URL"].encode(), b"")
    assert b"https://" not in page


def test_concurrent_submissions_lose_nothing(make_app, car):
    """Several clients file at once (threads standing in for workers): every report lands
    and the audit chain stays intact."""
    from concurrent.futures import ThreadPoolExecutor

    from vehiclewatch.audit import verify_chain

    app = make_app()
    token = car.live_sticker.token

    def submit(n: int) -> int:
        env = {"REMOTE_ADDR": f"198.51.100.{n}"}  # many phones, so no per-client limit bites
        with app.app_context():
            client = app.test_client()
            page = client.get(f"/v/{token}/report", environ_base=env).get_data(as_text=True)
            data = _report_data(page)
            return client.post(f"/v/{token}/report", data=data, environ_base=env).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(submit, range(24)))
    with app.app_context():
        assert statuses.count(200) == 24
        assert count_rows(Report) == 24
        assert verify_chain()[1] is None


def test_rate_limits_are_shared_through_redis(make_app, car):
    """Two app instances (two workers) with Redis storage count against one limit."""
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
    storage = "redis://127.0.0.1:6379"
    prefix = f"vw-test-{datetime.now().timestamp()}"
    config = {"RATELIMIT_STORAGE_URI": storage, "RATELIMIT_KEY_PREFIX": prefix}
    workers = [make_app(TRACK_RATE_LIMIT="20/minute", **config) for _ in "ab"]
    codes = []
    for n in range(21):
        client = workers[n % 2].test_client()
        codes.append(
            client.post("/track", data={"receipt": f"AAAA-AAAA-AAAA-AAAA-AA{n:02d}"}).status_code
        )
    assert codes[:20].count(429) == 0 and codes[20] == 429


def test_orphan_sweep_finds_files_no_row_names(runner, car, make_report, app):
    import os

    from tests.photo_samples import processed_photo
    from vehiclewatch.reports.photos import write_photo_files

    report, _ = make_report(car, photos=[processed_photo()])
    kept = {report.photos[0].evidence_name, report.photos[0].display_name}
    stray = write_photo_files(photo_dir(), processed_photo())
    old = datetime.now().timestamp() - 3600
    for name in [*stray, *kept]:
        os.utime(photo_dir() / name, (old, old))
    listed = runner.invoke(args=["photos", "sweep"])
    assert sorted(stray) == sorted(listed.output.split()[: len(stray)])
    assert "2 orphaned files" in listed.output
    removed = runner.invoke(args=["photos", "sweep", "--delete"])
    assert "removed 2" in removed.output
    remaining = {p.name for p in photo_dir().iterdir()}
    assert remaining == kept


def test_a_typed_plate_that_is_no_plate_keeps_the_form(client, car):
    page = client.get("/report").get_data(as_text=True)
    data = _report_data(page, plate="京12")
    del data["plate_matches"]
    response = client.post("/report", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "车牌号格式不正确" in body and "车停在婚宴酒店门口" in body
    assert count_rows(Report) == 0
