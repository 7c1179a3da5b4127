"""Seeing it run: /healthz and /readyz, /metrics for the allowed addresses only, one log line
per request with its id and no personal data, and database connections that survive the
server closing them."""

import io
import json
import logging
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update

from vehiclewatch import audit
from vehiclewatch.extensions import db
from vehiclewatch.fleet.stickers import issue_sticker
from vehiclewatch.logs import JsonFormatter, TextFormatter
from vehiclewatch.reports.models import Report
from vehiclewatch.timeutil import utcnow

from .conftest import POSTGRES_URL, S3_CREDENTIALS, free_port
from .conftest import _pg_admin_engine as pg_admin_engine
from .photo_samples import jpeg_bytes
from .test_citizen import _receipt, _report_data

PLATE = "藏B·45678"
PHONE = "13912345678"
NAME = "王某某"
ADDRESS = "198.51.100.77"


@pytest.fixture
def car(org, make_vehicle):
    vehicle = make_vehicle(org["a-jy"], plate=PLATE)
    issue_sticker(vehicle, actor=audit.SYSTEM)
    return vehicle


def _file(app, car) -> tuple[str, str]:
    """A citizen with a real name and a photo files a report; (receipt, X-Request-ID)."""
    client = app.test_client()
    env = {"REMOTE_ADDR": ADDRESS}
    token = car.live_sticker.token
    page = client.get(f"/v/{token}/report", environ_base=env).get_data(as_text=True)
    data = _report_data(
        page,
        reporter_name=NAME,
        reporter_phone=PHONE,
        photos=[(io.BytesIO(jpeg_bytes()), "p.jpg")],
    )
    response = client.post(
        f"/v/{token}/report", data=data, content_type="multipart/form-data", environ_base=env
    )
    assert response.status_code == 200, response.text
    return _receipt(response.text), response.headers["X-Request-ID"]


def _secrets(car, receipt: str) -> list[str]:
    return [car.live_sticker.token, PLATE, "45678", receipt, receipt.replace("-", ""), PHONE]


def _metrics(client, **environ) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", environ_base=environ)
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_healthz_answers_without_a_session_or_personal_data(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert "Set-Cookie" not in response.headers and response.headers["X-Request-ID"]


def test_readyz_checks_database_rate_limit_store_and_photo_store(make_app):
    ready = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379").test_client().get("/readyz")
    assert ready.status_code == 200
    assert ready.json == {
        "status": "ok",
        "checks": {"database": "ok", "rate_limit_store": "ok", "photo_store": "ok"},
    }


def test_readyz_fails_when_the_configured_redis_is_unreachable(make_app):
    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["checks"]["rate_limit_store"] == "unavailable"
    assert response.json["checks"]["database"] == "ok"


def test_readyz_fails_when_the_photo_store_is_unreachable(make_app):
    app = make_app(
        PHOTO_STORE="s3://photos/reports",
        PHOTO_STORE_ENDPOINT=f"http://127.0.0.1:{free_port()}",
        **S3_CREDENTIALS,
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["photo_store"] == "unavailable"


def test_metrics_only_for_the_allow_list(app, client):
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": ADDRESS}).status_code == 404
    app.config["METRICS_ALLOW"] = "10.0.0.0/8, 2001:db8::/32"
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "2001:db8::5"}).status_code == 200


def test_metrics_count_requests_reports_queues_overdue_and_backup_age(
    app, client, car, runner, tmp_path
):
    before = _metrics(client)
    receipt, _ = _file(app, car)
    stale = db.session.execute(select(Report.id)).scalar_one()
    db.session.execute(
        update(Report).where(Report.id == stale).values(created_at=utcnow() - timedelta(days=30))
    )
    db.session.commit()
    assert runner.invoke(args=["backup", str(tmp_path / "b.tar"), "--unencrypted"]).exit_code == 0

    scrape = client.get("/metrics").text
    after = _metrics(client)
    filed = ("vehiclewatch_reports_filed_total", (("source", "scan"),))
    assert after[filed] - before.get(filed, 0) == 1
    posted = (
        "vehiclewatch_http_requests_total",
        (("method", "POST"), ("route", "/v/<token>/report"), ("status", "200")),
    )
    assert after[posted] - before.get(posted, 0) == 1
    latency = (
        "vehiclewatch_http_request_duration_seconds_count",
        (("route", "/v/<token>/report"),),
    )
    assert after[latency] - before.get(latency, 0) == 2  # the form and the filing
    assert after[("vehiclewatch_reports", (("state", "submitted"),))] == 1
    assert after[("vehiclewatch_reports", (("state", "concluded"),))] == 0
    assert after[("vehiclewatch_reports_overdue", ())] == 1
    assert 0 <= after[("vehiclewatch_backup_age_seconds", ())] < 3600
    for secret in [*_secrets(car, receipt), ADDRESS, NAME]:
        assert secret not in scrape


@pytest.mark.parametrize("photo_location", ["s3"], indirect=True)
def test_photo_store_errors_are_counted(app, client, car):
    before = _metrics(client)
    app.config["PHOTO_STORE"] = "s3://no-such-bucket/reports"
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer 500, as in production
    token = car.live_sticker.token
    page = client.get(f"/v/{token}/report").get_data(as_text=True)
    data = _report_data(page, photos=[(io.BytesIO(jpeg_bytes()), "p.jpg")])
    response = client.post(f"/v/{token}/report", data=data, content_type="multipart/form-data")
    assert response.status_code == 500
    key = ("vehiclewatch_photo_store_errors_total", (("operation", "save"),))
    assert _metrics(client)[key] - before.get(key, 0) == 1


def test_one_log_line_per_request_with_its_id_and_nothing_personal(app, car, caplog):
    caplog.set_level(logging.DEBUG)
    receipt, request_id = _file(app, car)
    records = [r for r in caplog.records if r.name == "vehiclewatch"]
    posted = [r for r in records if r.request_id == request_id]
    assert [r.getMessage() for r in posted] == ["request"]
    assert posted[0].fields == {
        "method": "POST",
        "route": "/v/<token>/report",
        "status": 200,
        "ms": posted[0].fields["ms"],
    }
    text = "\n".join(TextFormatter().format(r) for r in records)
    assert f"request={request_id} request method=POST route=/v/<token>/report status=200" in text
    lines = [json.loads(JsonFormatter().format(r)) for r in records]
    assert {"event": "request", "request_id": request_id, "status": 200}.items() <= next(
        line for line in lines if line["request_id"] == request_id
    ).items()
    everything = caplog.text + text + json.dumps(lines, ensure_ascii=False)
    for secret in [*_secrets(car, receipt), ADDRESS, NAME]:
        assert secret not in everything


def test_json_logs_go_to_standard_error_one_object_a_line(make_app, capsys):
    app = make_app(LOG_FORMAT="json")
    response = app.test_client().get("/")
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert {
        "event": "request",
        "request_id": response.headers["X-Request-ID"],
        "method": "GET",
        "route": "/",
        "status": 200,
    }.items() <= logged[-1].items()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", logged[-1]["time"])


def test_probes_and_scrapes_stay_out_of_the_request_log(client, caplog):
    caplog.set_level(logging.INFO)
    for path in ("/healthz", "/readyz", "/metrics"):
        assert client.get(path).status_code == 200
    assert [r for r in caplog.records if r.name == "vehiclewatch"] == []


@pytest.mark.skipif(not POSTGRES_URL, reason="terminates PostgreSQL connections")
def test_requests_succeed_after_postgresql_terminates_the_connections(app, client, car):
    token = car.live_sticker.token
    db.session.remove()
    for _ in range(3):
        assert client.get(f"/v/{token}").status_code == 200
    database = db.engine.url.database
    _, admin = pg_admin_engine()
    with admin.connect() as conn:
        ended = conn.execute(
            sa.text(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": database},
        ).scalar_one()
    admin.dispose()
    assert ended >= 1
    statuses = [client.get(f"/v/{token}").status_code for _ in range(30)]
    assert statuses == [200] * 30
