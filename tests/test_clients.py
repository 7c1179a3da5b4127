"""Who a client is behind a proxy, the per-client limits that follow, per-car bursts marked
rather than refused, and photos handed to nginx."""

import io

from sqlalchemy import select

from vehiclewatch.extensions import db
from vehiclewatch.reports.models import Report, ReportPhoto
from vehiclewatch.reports.scoring import score_parts

from .test_citizen import _report_data
from .test_photos_helpers import jpeg_bytes

PROXY = "10.0.0.5"


def _file(app, token: str, remote: str, forwarded: str | None = None, **extra) -> int:
    """A fresh citizen (own cookies) opens the form and files it; returns the status."""
    client = app.test_client()
    env = {"REMOTE_ADDR": remote}
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    page = client.get(f"/v/{token}/report", environ_base=env, headers=headers)
    response = client.post(
        f"/v/{token}/report",
        data=_report_data(page.get_data(as_text=True), **extra),
        environ_base=env,
        headers=headers,
        content_type="multipart/form-data",
    )
    return response.status_code


def _bursts() -> list[bool]:
    return list(db.session.execute(select(Report.burst).order_by(Report.id)).scalars())


def test_citizens_behind_one_trusted_proxy_are_told_apart(make_app, car):
    app = make_app(TRUSTED_PROXIES=1, REPORT_RATE_LIMIT="10/hour", CAR_BURST_PER_HOUR=100)
    token = car.live_sticker.token
    with app.app_context():
        statuses = [_file(app, token, PROXY, f"203.0.113.{n}") for n in range(1, 12)]
        assert statuses == [200] * 11
        # One of them goes on past the limit: only that address is refused.
        again = [_file(app, token, PROXY, "203.0.113.1") for _ in range(10)]
        assert again == [200] * 9 + [429]
        assert "操作过于频繁" in _last_refusal(app, token, PROXY, "203.0.113.1")
        assert _file(app, token, PROXY, "203.0.113.2") == 200
        assert len(_bursts()) == 11 + 9 + 1


def _last_refusal(app, token, remote, forwarded) -> str:
    client = app.test_client()
    response = client.post(
        f"/v/{token}/report",
        data={},
        environ_base={"REMOTE_ADDR": remote},
        headers={"X-Forwarded-For": forwarded},
    )
    assert response.status_code == 429
    return response.get_data(as_text=True)


def test_without_trusted_proxies_a_forged_header_changes_nothing(make_app, car):
    app = make_app(REPORT_RATE_LIMIT="10/hour", CAR_BURST_PER_HOUR=100)
    token = car.live_sticker.token
    with app.app_context():
        statuses = [_file(app, token, "198.51.100.7", f"203.0.113.{n}") for n in range(1, 12)]
        assert statuses == [200] * 10 + [429]
        assert len(_bursts()) == 10


def test_ipv6_clients_are_keyed_by_their_64(make_app, car):
    app = make_app(REPORT_RATE_LIMIT="1/hour")
    token = car.live_sticker.token
    with app.app_context():
        assert _file(app, token, "2001:db8:1:2::1") == 200
        assert _file(app, token, "2001:db8:1:2:ffff::9") == 429  # same /64
        assert _file(app, token, "2001:db8:1:3::1") == 200  # the next /64
        assert _file(app, token, "::ffff:192.0.2.1") == 200
        assert _file(app, token, "192.0.2.1") == 429  # the same IPv4 client


def test_a_flood_of_one_car_is_accepted_and_marked_as_a_burst(make_app, car):
    app = make_app(CAR_BURST_PER_HOUR=3)
    token = car.live_sticker.token
    with app.app_context():
        statuses = [_file(app, token, f"198.51.100.{n}") for n in range(1, 6)]
        assert statuses == [200] * 5
        assert _bursts() == [False, False, False, True, True]


def test_burst_reports_neither_give_nor_get_corroboration(app, car, make_report):
    app.config["CAR_BURST_PER_HOUR"] = 2
    filed = [make_report(car, photos=[])[0] for _ in range(4)]
    for report in filed:
        db.session.refresh(report)
    assert [r.burst for r in filed] == [False, False, True, True]
    # The first two corroborate each other, and only each other.
    assert [score_parts(r).get("corroboration") for r in filed] == [15, 15, None, None]


def test_typed_plates_count_towards_a_burst_and_officers_entries_never_are(app, org, make_report):
    app.config["CAR_BURST_PER_HOUR"] = 1
    first, _ = make_report(typed_plate="藏A·77777")
    second, _ = make_report(typed_plate="藏A·77777")
    other_car, _ = make_report(typed_plate="藏A·88888")
    entered, _ = make_report(typed_plate="藏A·77777", source="call_letter")
    assert [first.burst, second.burst, other_car.burst, entered.burst] == [
        False,
        True,
        False,
        False,
    ]


def test_officers_see_bursts_as_a_group(app, car, make_report, login_as, org):
    app.config["CAR_BURST_PER_HOUR"] = 1
    calm, _ = make_report(car)
    flood, _ = make_report(car)
    officer, _ = login_as("officer", org["a"])
    everything = officer.get("/review/").get_data(as_text=True)
    assert everything.count('class="badge burst"') == 1
    only_bursts = officer.get("/review/?burst=1").get_data(as_text=True)
    assert f"#{flood.id}<" in only_bursts and f"#{calm.id}<" not in only_bursts
    page = officer.get(f"/review/reports/{flood.id}").get_data(as_text=True)
    assert "集中举报" in page


def test_photos_are_handed_to_nginx_after_the_scope_check(app, car, org, login_as):
    app.config["PHOTO_ACCEL_PREFIX"] = "/_photos/"
    token = car.live_sticker.token
    photo = (io.BytesIO(jpeg_bytes()), "p.jpg")
    assert _file(app, token, "192.0.2.10", photos=[photo]) == 200
    stored = db.session.execute(select(ReportPhoto)).scalar_one()
    officer, _ = login_as("officer", org["a"])
    response = officer.get(f"/review/photos/{stored.id}/display.jpg")
    assert response.status_code == 200 and response.get_data() == b""
    assert response.headers["X-Accel-Redirect"] == f"/_photos/{stored.display_name}"
    assert response.headers["Content-Type"] == "image/jpeg"
    outsider, _ = login_as("officer", org["b"])
    refused = outsider.get(f"/review/photos/{stored.id}/display.jpg")
    assert refused.status_code == 404 and "X-Accel-Redirect" not in refused.headers
