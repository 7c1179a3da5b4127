"""Webhooks: the outbox is written with the event, the worker (`vehiclewatch webhooks run`,
started for real) delivers it signed to a real HTTP server, retries a receiver that is down,
redelivers with the same event id, shares the work between workers, and tells a token only
of the reports in its scope, without personal data."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

from vehiclewatch import audit
from vehiclewatch.audit import AuditEntry
from vehiclewatch.extensions import db
from vehiclewatch.reports.states import Action
from vehiclewatch.reports.workflow import StaleReport, transition
from vehiclewatch.timeutil import to_local, utcnow
from vehiclewatch.transaction import atomic
from vehiclewatch.webhooks import services, signing, worker
from vehiclewatch.webhooks.models import Attempt, Delivery, Event, Subscription

from .conftest import BASE_CONFIG, free_port

VEHICLEWATCH = Path(sys.executable).parent / "vehiclewatch"
PHONE, NAME = "13800138000", "张三丰"


class Receiver:
    """A case system's endpoint: a real HTTP server in a thread that keeps what it gets."""

    def __init__(self, port: int | None = None, status: int = 200, delay: float = 0):
        self.port = port or free_port()
        self.status, self.delay = status, delay
        self.received: list[tuple[Message, bytes]] = []
        self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(receiver.delay)
                receiver.received.append((self.headers, body))  # case-insensitive
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def event_ids(self) -> list[str]:
        return [headers[signing.EVENT_ID_HEADER] for headers, _body in self.received]

    def payloads(self) -> list[dict]:
        return [json.loads(body) for _headers, body in self.received]


@pytest.fixture
def receiver():
    made = []

    def factory(**kwargs) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]

    yield factory
    for r in made:
        r.stop()


@pytest.fixture
def worker_env(app, database_uri, tmp_path):
    """The environment a worker process runs in: this test's database, the same secret key
    (secrets derive from it), quick retries."""
    return {
        **os.environ,
        "DATABASE_URL": database_uri,
        "VEHICLEWATCH_SECRET_KEY": BASE_CONFIG["SECRET_KEY"],
        "VEHICLEWATCH_INSTANCE_PATH": str(tmp_path / "worker"),
        "VEHICLEWATCH_WEBHOOK_RETRY_SECONDS": "1",
        "VEHICLEWATCH_WEBHOOK_RETRY_MAX_SECONDS": "1",
        "VEHICLEWATCH_WEBHOOK_TIMEOUT_SECONDS": "5",
    }


def run_once(env) -> None:
    """`vehiclewatch webhooks run --once`, to its end."""
    done = subprocess.run(
        [str(VEHICLEWATCH), "webhooks", "run", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def start_worker(env, *args) -> subprocess.Popen:
    return subprocess.Popen(
        [str(VEHICLEWATCH), "webhooks", "run", "--interval", "0.2", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, what: str, seconds: float = 60):
    """Poll the database (fresh each time) until the condition holds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.remove()
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def deliveries() -> list[Delivery]:
    db.session.remove()
    return list(db.session.execute(sa.select(Delivery).order_by(Delivery.id)).scalars())


@pytest.fixture
def subscribe(api_token):
    """A token of the unit with the scopes, subscribed to the events at the receiver;
    returns the subscription and its secret."""

    def factory(unit, url, events=("report.filed", "report.state_changed"), scopes=None):
        _headers, token = api_token(unit, *(scopes or ("reports:read",)))
        return services.create_subscription(token, url, list(events), actor=audit.SYSTEM)

    return factory


def test_a_delivery_is_signed_and_carries_no_personal_data(
    app, org, car, make_report, make_user, subscribe, receiver, worker_env
):
    hook = receiver().start()
    _subscription, secret = subscribe(org["a"], hook.url)
    report, _receipt = make_report(
        car,
        reporter_name=NAME,
        reporter_phone=PHONE,
        place="幸福小区东门",
        description="周末接送孩子",
    )
    transition(report, Action.ACCEPT, make_user("officer", org["a"]))

    run_once(worker_env)

    assert len(hook.received) == 2
    for headers, body in hook.received:
        assert signing.verify(secret, headers[signing.SIGNATURE_HEADER], body)
        assert not signing.verify("whsec_wrong", headers[signing.SIGNATURE_HEADER], body)
        text = body.decode()
        for personal in (PHONE, NAME, "幸福小区", "接送孩子", "藏B·12345"):
            assert personal not in text
        assert json.loads(body)["id"] == headers[signing.EVENT_ID_HEADER]
    filed, changed = hook.payloads()
    assert filed["type"] == "report.filed"
    assert filed["report"]["id"] == report.id
    assert filed["report"]["state"] == "submitted"
    assert filed["report"]["unit"] == "a-jy"
    assert filed["report"]["category"] == "private_use"
    assert filed["report"]["url"].endswith(f"/api/v1/reports/{report.id}")
    assert changed["type"] == "report.state_changed"
    assert (changed["report"]["previous_state"], changed["report"]["state"]) == (
        "submitted",
        "accepted",
    )
    assert [(d.status, d.attempts, d.last_status_code) for d in deliveries()] == [
        ("delivered", 1, 200),
        ("delivered", 1, 200),
    ]


def test_a_receiver_that_is_down_gets_the_event_later(
    app, org, car, make_report, subscribe, receiver, worker_env
):
    hook = receiver()  # not started: its port refuses connections
    subscribe(org["a"], hook.url)
    make_report(car)
    process = start_worker(worker_env)
    try:
        wait_for(
            lambda: db.session.execute(sa.select(sa.func.count(Attempt.id))).scalar_one() >= 2,
            "two failed attempts",
        )
        hook.start()
        wait_for(lambda: deliveries()[0].status == "delivered", "the delivery")
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err  # a graceful stop
    assert "webhooks_worker_stopped" in err
    (delivery,) = deliveries()
    log = delivery.attempt_log
    assert len(log) == delivery.attempts >= 3
    assert all(a.status_code is None and a.error for a in log[:-1])
    assert (log[-1].status_code, log[-1].error) == (200, None)
    assert [a.number for a in log] == list(range(1, len(log) + 1))
    assert hook.event_ids() == [delivery.event.event_id]


def test_a_redelivery_carries_the_same_event_id(
    app, org, car, make_report, subscribe, receiver, worker_env, login_as
):
    hook = receiver().start()
    subscription, secret = subscribe(org["a"], hook.url)
    subscription_id = subscription.id
    make_report(car)
    run_once(worker_env)
    (delivery,) = deliveries()

    admin, _user = login_as("sysadmin", org["city"])
    page = admin.get(f"/admin/api-tokens/webhooks/{subscription_id}").get_data(as_text=True)
    assert delivery.event.event_id in page and "已送达" in page
    response = admin.post(f"/admin/api-tokens/webhooks/deliveries/{delivery.id}/redeliver")
    assert response.status_code == 302
    run_once(worker_env)

    first, second = hook.received
    assert first[0][signing.EVENT_ID_HEADER] == second[0][signing.EVENT_ID_HEADER]
    assert first[1] == second[1]
    assert signing.verify(secret, second[0][signing.SIGNATURE_HEADER], second[1])
    (delivery,) = deliveries()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert len(delivery.attempt_log) == 2
    actions = db.session.execute(sa.select(AuditEntry.action)).scalars().all()
    assert "webhook_redelivered" in actions


def test_a_county_token_hears_only_of_its_own_reports(
    app, org, car, make_vehicle, make_report, subscribe, receiver, worker_env
):
    hook = receiver().start()
    subscribe(org["a"], hook.url)
    mine, _ = make_report(car)
    make_report(make_vehicle(org["b-jy"]))  # the other county's
    make_report(make_vehicle(org["a-jw"]))  # escalated: the city's officers handle it
    make_report(None, typed_plate="藏A·99999")  # an unknown car: the city's
    run_once(worker_env)
    assert [p["report"]["id"] for p in hook.payloads()] == [mine.id]
    assert db.session.execute(sa.select(sa.func.count(Event.id))).scalar_one() == 4


def test_a_city_token_hears_of_every_report(
    app, org, car, make_vehicle, make_report, subscribe, receiver, worker_env
):
    hook = receiver().start()
    subscribe(org["city"], hook.url, events=("report.filed",))
    make_report(car)
    make_report(make_vehicle(org["b-jy"]))
    make_report(make_vehicle(org["a-jw"]))
    run_once(worker_env)
    assert sorted(p["report"]["unit"] for p in hook.payloads()) == ["a-jw", "a-jy", "b-jy"]


def test_a_token_hears_of_the_reports_its_unit_may_list(
    app, org, car, make_vehicle, make_report, api_token
):
    """One rule for reads and webhooks: a token of the city's commission (not the city
    itself) hears of exactly the reports the API lists for it."""
    headers, token = api_token(org["city-jw"], "reports:read")
    services.create_subscription(
        token, "https://cases.example.cn/hook", ["report.filed"], actor=audit.SYSTEM
    )
    make_report(car)
    for unit in ("b-jy", "a-jw", "city-ga"):
        make_report(make_vehicle(org[unit]))
    make_report(None, typed_plate="藏A·99999")
    assert worker.fan_out() == 5
    heard = {delivery.event.subject_id for delivery in deliveries()}
    listed = app.test_client().get("/api/v1/reports", headers=headers).get_json()["items"]
    assert heard and heard == {item["id"] for item in listed}
    # The payload's links are the ones the API gives for the same report.
    links = {item["id"]: (item["url"], item["page_url"]) for item in listed}
    for delivery in deliveries():
        report = json.loads(delivery.event.body)["report"]
        assert (report["url"], report["page_url"]) == links[report["id"]]


def test_two_workers_deliver_each_delivery_once(
    app, org, car, make_report, subscribe, receiver, worker_env
):
    hook = receiver(delay=0.05).start()
    subscribe(org["a"], hook.url, events=("report.filed",))
    for _ in range(30):
        make_report(car)
    assert worker.fan_out() == 30
    workers = [start_worker(worker_env, "--once") for _ in range(2)]
    for process in workers:
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    ids = hook.event_ids()
    assert len(ids) == len(set(ids)) == 30
    assert {(d.status, d.attempts) for d in deliveries()} == {("delivered", 1)}


def test_the_outbox_row_commits_or_rolls_back_with_the_event(app, org, car, make_report, make_user):
    with pytest.raises(RuntimeError), atomic():
        make_report(car)  # inside a larger transaction that then fails
        raise RuntimeError("after the filing")
    assert db.session.execute(sa.select(sa.func.count(Event.id))).scalar_one() == 0

    report, _ = make_report(car)
    with pytest.raises(StaleReport):
        transition(report, Action.ACCEPT, make_user("officer", org["a"]), expected_version=99)
    events = db.session.execute(sa.select(Event)).scalars().all()
    assert [(e.type, e.subject_id) for e in events] == [("report.filed", report.id)]


def test_failed_after_the_last_attempt_then_redelivered(
    app, org, car, make_report, subscribe, receiver
):
    app.config.update(WEBHOOK_MAX_ATTEMPTS=2, WEBHOOK_RETRY_SECONDS=0)
    hook = receiver(status=500).start()
    subscription, _secret = subscribe(org["a"], hook.url)
    make_report(car)
    worker.fan_out()
    worker.deliver_due()
    worker.deliver_due()
    (delivery,) = deliveries()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 2, 500)
    assert worker.deliver_due() == 0  # given up
    services.redeliver(delivery, actor=audit.SYSTEM)
    hook.status = 200
    worker.deliver_due()
    (delivery,) = deliveries()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert [a.status_code for a in delivery.attempt_log] == [500, 500, 200]
    assert len(set(hook.event_ids())) == 1


def test_backoff_doubles_up_to_the_cap(app):
    app.config.update(WEBHOOK_RETRY_SECONDS=30, WEBHOOK_RETRY_MAX_SECONDS=300)
    waits = [worker.backoff(n).total_seconds() for n in range(1, 6)]
    assert waits == [30, 60, 120, 240, 300]


def test_nothing_is_sent_for_a_pending_token_or_after_a_revocation(
    app, org, car, make_report, receiver
):
    from vehiclewatch.auth.tokens import create_token, revoke_token

    hook = receiver().start()
    pending, _clear = create_token("pending", org["a"], ["reports:read"], actor=audit.SYSTEM)
    services.create_subscription(pending, hook.url, ["report.filed"], actor=audit.SYSTEM)
    make_report(car)
    worker.fan_out()
    assert deliveries() == []

    fleet, _clear = create_token("fleet", org["a"], ["fleet:write"], actor=audit.SYSTEM)
    services.create_subscription(fleet, hook.url, ["bulletin.published"], actor=audit.SYSTEM)
    with pytest.raises(services.ScopeMissing):
        services.create_subscription(fleet, hook.url, ["report.filed"], actor=audit.SYSTEM)
    revoke_token(fleet, actor=audit.SYSTEM)
    with pytest.raises(services.TokenRevoked):
        services.create_subscription(fleet, hook.url, ["bulletin.published"], actor=audit.SYSTEM)


def test_a_delivery_is_cancelled_when_its_subscription_is_disabled(
    app, org, car, make_report, subscribe, receiver
):
    hook = receiver().start()
    subscription, _secret = subscribe(org["a"], hook.url)
    make_report(car)
    worker.fan_out()
    services.disable_subscription(subscription, actor=audit.SYSTEM)
    assert worker.deliver_due() == 0
    assert [d.status for d in deliveries()] == ["cancelled"]
    assert hook.received == []
    with pytest.raises(services.NotRedeliverable):
        services.redeliver(deliveries()[0], actor=audit.SYSTEM)


@pytest.mark.parametrize(
    "url, accepted",
    [
        ("https://case.example.cn/hooks/vw", True),
        ("http://127.0.0.1:8080/hook", True),
        ("http://localhost/hook", True),
        ("http://[::1]:9000/", True),
        ("http://case.example.cn/hook", False),
        ("http://10.0.0.5/hook", False),
        ("ftp://case.example.cn/", False),
        ("https://user:pass@case.example.cn/", False),
        ("https:///nohost", False),
        ("https://case.example.cn:notaport/", False),
    ],
)
def test_targets_are_https_or_this_machine(url, accepted):
    if accepted:
        assert services.check_target(url) == url
    else:
        with pytest.raises(services.InvalidTarget):
            services.check_target(url)


def test_signatures_outside_the_replay_window_are_refused():
    body = b'{"id":"x"}'
    header = signing.signature_header("whsec_s", body, timestamp=1_000_000)
    assert signing.verify("whsec_s", header, body, now=1_000_000 + 299)
    assert not signing.verify("whsec_s", header, body, now=1_000_000 + 301)
    assert not signing.verify("whsec_s", header, body + b" ", now=1_000_000)
    assert not signing.verify("whsec_s", "v1=abc", body, now=1_000_000)


def test_the_system_admin_subscribes_and_disables_on_the_token_pages(app, org, api_token, login_as):
    _headers, token = api_token(org["a"], "reports:read")
    admin, _user = login_as("sysadmin", org["city"])
    assert f"/admin/api-tokens/{token.id}/webhooks" in admin.get("/admin/api-tokens").get_data(
        as_text=True
    )
    refused = admin.post(
        f"/admin/api-tokens/{token.id}/webhooks",
        data={"url": "http://case.example.cn/hook", "events": ["report.filed"]},
    )
    assert refused.status_code == 422
    assert "https://" in refused.get_data(as_text=True)
    assert db.session.execute(sa.select(sa.func.count(Subscription.id))).scalar_one() == 0

    created = admin.post(
        f"/admin/api-tokens/{token.id}/webhooks",
        data={
            "url": "https://case.example.cn/hook",
            "events": ["report.filed", "bulletin.published"],
        },
    )
    assert created.status_code == 200
    page = created.get_data(as_text=True)
    db.session.remove()
    subscription = db.session.execute(sa.select(Subscription)).scalar_one()
    secret = signing.secret_for(subscription.secret_salt)
    assert secret in page
    listing = admin.get(f"/admin/api-tokens/{token.id}/webhooks").get_data(as_text=True)
    assert "https://case.example.cn/hook" in listing and secret not in listing

    response = admin.post(f"/admin/api-tokens/webhooks/{subscription.id}/disable")
    assert response.status_code == 302
    db.session.remove()
    assert db.session.get(Subscription, subscription.id).disabled_at is not None
    actions = db.session.execute(sa.select(AuditEntry.action)).scalars().all()
    assert {"webhook_subscribed", "webhook_disabled"} <= set(actions)


def test_a_published_bulletin_goes_to_its_jurisdiction_and_the_city(
    app, org, make_user, subscribe, receiver
):
    from vehiclewatch.bulletins import services as bulletins
    from vehiclewatch.calendar.rounds import round_for
    from vehiclewatch.calendar.services import add_holiday_period

    day = to_local(utcnow() - timedelta(days=14)).date()
    add_holiday_period("春节", day, day + timedelta(days=2), "national", [], actor=audit.SYSTEM)
    officer, leader = make_user("officer", org["a"]), make_user("leader", org["a"])
    bulletin = bulletins.create_draft(round_for(day).key, org["a"], officer)
    bulletins.approve(bulletin, leader)

    hooks = {code: receiver().start() for code in ("a-jy", "b", "city")}
    for code, hook in hooks.items():
        subscribe(org[code], hook.url, events=("bulletin.published",), scopes=("fleet:write",))
    bulletins.publish(bulletin, leader)
    worker.fan_out()
    while worker.deliver_due():
        pass

    assert hooks["b"].received == []
    for code in ("a-jy", "city"):
        (payload,) = hooks[code].payloads()
        assert payload["type"] == "bulletin.published"
        assert payload["bulletin"]["id"] == bulletin.id
        assert payload["bulletin"]["jurisdiction"] == "a"
        assert payload["bulletin"]["doc_number"] == bulletin.doc_number
