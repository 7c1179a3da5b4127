"""Two application hosts: two `vehiclewatch serve` processes (gunicorn, production mode),
each with its own instance folder, sharing one PostgreSQL database, one Redis and one
S3-compatible store (moto's server mode). A report filed through one is seen, with its photo,
through the other; both are ready, count in their metrics, and log without personal data.

Skipped on SQLite, which one host cannot share with another."""

import http.client
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ..conftest import (
    POSTGRES_URL,
    S3_CREDENTIALS,
    fresh_database,
    new_bucket,
    receipt_on,
    s3_client,
)
from ..e2e.conftest import (
    Server,
    _free_port,
    _server_env,
    _stop,
    _wait_until_up,
)
from ..photo_samples import jpeg_bytes
from .test_nginx import Visitor, _login, file_report, form_fields, token_of

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL,
    reason="two hosts share PostgreSQL: run with DATABASE_URL (make test-postgres)",
)
CITIZEN = "127.0.0.23"  # the citizen's own loopback address, looked for in the logs
DESCRIPTION = "两台主机共用一个数据库"


class Host:
    """One application host: its address and its log."""

    def __init__(self, port: int, log: Path):
        self.port, self.log = port, log


class Client(Visitor):
    """A visitor talking plain HTTP straight to one host's gunicorn."""

    def __init__(self, host: Host, address: str = "127.0.0.1"):
        self.host, self.address, self.cookies = host, address, {}

    def connect(self, https: bool) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(
            "127.0.0.1", self.host.port, source_address=(self.address, 0), timeout=60
        )


@pytest.fixture(scope="module")
def hosts(tmp_path_factory, s3_endpoint):
    folder = tmp_path_factory.mktemp("two-hosts")
    bucket = new_bucket(s3_endpoint)
    command = str(Path(sys.executable).parent / "vehiclewatch")
    with fresh_database(folder) as database_url:
        shared = (
            _server_env(folder, "http://127.0.0.1:8000", database_url)
            | {
                "VEHICLEWATCH_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
                # This test's own limiter keys in the shared Redis.
                "VEHICLEWATCH_RATELIMIT_KEY_PREFIX": f"vw-test-{uuid.uuid4().hex[:8]}",
                "VEHICLEWATCH_PHOTO_STORE": f"s3://{bucket}/reports",
                "VEHICLEWATCH_PHOTO_STORE_ENDPOINT": s3_endpoint,
            }
            | {f"VEHICLEWATCH_{k}": v for k, v in S3_CREDENTIALS.items()}
        )
        for step in ("init", "seed"):
            done = subprocess.run(
                [command, step], env=shared, capture_output=True, text=True, cwd=folder
            )
            assert done.returncode == 0, f"vehiclewatch {step}:\n{done.stdout}{done.stderr}"
        processes, running = [], []
        try:
            for name in ("a", "b"):
                instance = folder / name
                instance.mkdir()
                port = _free_port()
                log = instance / "server.log"
                with log.open("w") as out:
                    process = subprocess.Popen(
                        [command, "serve", "--port", str(port), "--workers", "2"],
                        env=shared | {"VEHICLEWATCH_INSTANCE_PATH": str(instance)},
                        cwd=instance,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                processes.append(process)
                _wait_until_up(process, f"http://127.0.0.1:{port}", log)
                running.append(Host(port, log))
            yield running, Server("", database_url, running[0].log), bucket, s3_endpoint
        finally:
            for process in processes:
                _stop(process)


def _metric(text: str, name: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = rf"^{re.escape(name)}{re.escape('{' + wanted + '}') if wanted else ''} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    assert found, f"{name} {labels} not in the scrape"
    return float(found.group(1))


def test_a_report_filed_on_one_host_is_seen_with_its_photo_on_the_other(hosts):
    (a, b), database, bucket, endpoint = hosts
    for host in (a, b):
        response, body = Client(host).get("/readyz")
        assert response.status == 200, body

    citizen = Client(a, CITIZEN)
    token = token_of(database, "cg-jy")
    response, page = file_report(citizen, token, DESCRIPTION, jpeg_bytes())
    assert response.status == 200, page.decode()[-500:]
    receipt = receipt_on(page.decode())

    # The other host: the citizen's receipt, and an officer who sees the report and its photo.
    tracker = Client(b, CITIZEN)
    _, page = tracker.get("/track")
    fields = form_fields(page.decode()) | {"receipt": receipt}
    response, page = tracker.post_form("/track", fields)
    assert response.status == 200 and "已收到，待受理" in page.decode()
    officer = Client(b)
    _login(officer, "officer-cg")  # password, then the authenticator (TOTP stays on)
    [(report_id,)] = database.query("SELECT id FROM report WHERE description = :d", d=DESCRIPTION)
    _, page = officer.get(f"/review/reports/{report_id}")
    assert DESCRIPTION in page.decode()
    photo_path = re.search(r"/review/photos/\d+/display\.jpg", page.decode()).group(0)
    response, photo = officer.get(photo_path)
    assert response.status == 200 and response.headers["Content-Type"] == "image/jpeg"
    objects = s3_client(endpoint).list_objects_v2(Bucket=bucket)["Contents"]
    stored = [
        s3_client(endpoint).get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in objects
    ]
    assert len(stored) == 2 and photo in stored  # the evidence and the display copy
    # Nothing of it on either host's disk.
    for name in ("a", "b"):
        assert not list((a.log.parent.parent / name).rglob("*.jpg"))

    # Each host's metrics add up its gunicorn workers; the queue is the shared database's.
    _, scrape_a = Client(a).get("/metrics")
    _, scrape_b = Client(b).get("/metrics")
    assert _metric(scrape_a.decode(), "vehiclewatch_reports_filed_total", source="scan") == 1
    assert _metric(scrape_b.decode(), "vehiclewatch_reports", state="submitted") >= 1
    posted = _metric(
        scrape_a.decode(),
        "vehiclewatch_http_requests_total",
        method="POST",
        route="/v/<token>/report",
        status="200",
    )
    assert posted == 1
    assert Client(a, CITIZEN).get("/metrics")[0].status == 404

    # One line per request with its id; no token, receipt or address of the citizen's.
    log_a = a.log.read_text()
    assert re.search(r"request=[0-9a-f]{32} request method=POST route=/v/<token>/report", log_a)
    for text in (log_a, b.log.read_text()):
        for secret in (token, receipt, receipt.replace("-", ""), CITIZEN):
            assert secret not in text
        assert "/healthz" not in text and "route=/readyz" not in text
