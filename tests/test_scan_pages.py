"""The scan page kept per worker: every change to what it shows appears on the very next
scan, on every worker (each app below is a worker of its own on the same database)."""

from datetime import datetime, timedelta

from vehiclewatch import audit
from vehiclewatch.calendar.services import add_holiday_period
from vehiclewatch.dispatch.services import add_sealing
from vehiclewatch.fleet.stickers import issue_sticker, reissue_sticker
from vehiclewatch.fleet.vehicles import retire_vehicle, update_vehicle
from vehiclewatch.timeutil import local_zone

from .conftest import AuthActions


def _scan(client, token: str, query: str = ""):
    response = client.get(f"/v/{token}{query}")
    return response.status_code, response.get_data(as_text=True)


def test_a_kept_scan_page_follows_every_change_on_every_worker(app, make_app, org, make_vehicle):
    car = make_vehicle(org["a-jy"], plate="藏B·22345", colour="白色")
    token = issue_sticker(car, actor=audit.SYSTEM).token
    workers = [app.test_client(), make_app().test_client()]
    for worker in workers:
        status, page = _scan(worker, token)
        assert status == 200 and "藏B·22345" in page and "白色" in page
        assert "节假日封存中" not in page
    kept = app.extensions["scan_pages"]
    assert _scan(workers[0], token)[1] == page and len(kept._pages) == 1  # served as kept

    update_vehicle(car, colour="黑色", actor=audit.SYSTEM)
    for worker in workers:
        page = _scan(worker, token)[1]
        assert "黑色" in page and "白色" not in page

    today = datetime.now(local_zone()).date()
    holiday = add_holiday_period(
        "测试假期", today, today + timedelta(days=1), "national", [], actor=audit.SYSTEM
    )
    add_sealing(car, holiday, actor=audit.SYSTEM)
    for worker in workers:
        assert "节假日封存中" in _scan(worker, token)[1]

    new_token = reissue_sticker(car, "贴纸损坏", actor=audit.SYSTEM).token
    for worker in workers:
        assert _scan(worker, token)[0] == 410
        status, page = _scan(worker, new_token)
        assert status == 200 and "藏B·22345" in page

    retire_vehicle(car, "报废", actor=audit.SYSTEM)
    for worker in workers:
        assert _scan(worker, new_token)[0] == 410


def test_a_kept_page_is_per_language_and_never_shows_a_staff_menu(
    make_app, photo_location, org, car, make_user
):
    app = make_app(PUBLIC_LOCALES="zh,bo,en", **photo_location())
    token = car.live_sticker.token
    visitor = app.test_client()
    chinese = _scan(visitor, token)[1]
    english = _scan(visitor, token, "?lang=en")[1]
    assert "我要举报" in chinese and "我要举报" not in english
    assert _scan(app.test_client(), token)[1] == chinese

    officer = app.test_client()
    AuthActions(officer).login(make_user("officer", org["a"]))
    staff_page = _scan(officer, token)[1]
    assert "受理队列" in staff_page and "受理队列" not in chinese
    assert "受理队列" not in _scan(app.test_client(), token)[1]


def test_no_page_is_kept_when_the_setting_says_none(make_app, photo_location, car):
    app = make_app(SCAN_PAGES_KEPT=0, **photo_location())
    visitor = app.test_client()
    for _ in range(2):
        status, page = _scan(visitor, car.live_sticker.token)
        assert status == 200 and "藏B·12345" in page
    assert "scan_pages" not in app.extensions


def test_the_least_recently_shown_page_goes_first(make_app, photo_location, org, make_vehicle):
    app = make_app(SCAN_PAGES_KEPT=2, **photo_location())
    visitor = app.test_client()
    tokens = [issue_sticker(make_vehicle(org["a-jy"]), actor=audit.SYSTEM).token for _ in range(3)]
    for token in (tokens[0], tokens[1], tokens[0], tokens[2]):
        assert _scan(visitor, token)[0] == 200
    kept = app.extensions["scan_pages"]._pages
    assert [key[0].token for key in kept] == [tokens[0], tokens[2]]
