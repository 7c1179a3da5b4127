"""Fixtures for the browser tests: the real service (`vehiclewatch serve`, gunicorn in
production mode) on a free port of 127.0.0.1 with the demo data from seeds/, and Debian's
Chromium driven by Playwright.

Without /usr/bin/chromium every test here is skipped with a reason that `pytest -ra` prints.
The database is SQLite in a temporary instance folder, or, when DATABASE_URL names a
PostgreSQL server (the suite's PostgreSQL pass), a fresh database created on that server for
this session and dropped afterwards.
"""

import itertools
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from ..conftest import fresh_database

CHROMIUM = Path("/usr/bin/chromium")
SKIP_REASON = "Chromium not installed: browser tests skipped (apt-get install chromium)"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
DEMO_PASSWORD = "demo-pass-2026"  # every account in seeds/accounts.csv
STARTUP_SECONDS = 20
STOP_SECONDS = 10
# Generous for a loaded CI machine; a healthy run never comes close.
TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class Server:
    base_url: str
    database_url: str  # SQLAlchemy URL of the server's database
    log: Path  # gunicorn's output, for reading after a failure

    def query(self, sql: str, **params) -> list[tuple]:
        """Read the server's database directly (the tests never write to it this way)."""
        engine = sa.create_engine(self.database_url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(sa.text(sql), params)]
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(SKIP_REASON)
    return CHROMIUM


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing browser test shows the end of the server's log beside its traceback."""
    outcome = yield
    report = outcome.get_result()
    server = item.funcargs.get("server") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(server, Server) and server.log.exists():
        tail = server.log.read_text(errors="replace").splitlines()[-40:]
        report.sections.append(("vehiclewatch serve (last 40 lines)", "\n".join(tail)))


@pytest.fixture(scope="session")
def artifacts(chromium) -> Path:
    """tests/e2e/artifacts/ (ignored by git), emptied at the start of each session so that
    what is there afterwards comes from this run."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


_shot_numbers = itertools.count(1)


def artifact(name: str) -> Path:
    """tests/e2e/artifacts/<NN>-<name>: numbered in the order the tests make them."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{next(_shot_numbers):02d}-{name}"


def shot(page, name: str) -> Path:
    """Save a full-page screenshot as tests/e2e/artifacts/<NN>-<name>.png."""
    path = artifact(f"{name}.png")
    page.screenshot(path=str(path), full_page=True)
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_env(instance: Path, base_url: str, database_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("VEHICLEWATCH_") and k != "DATABASE_URL"
    }
    env.update(
        DATABASE_URL=database_url,
        VEHICLEWATCH_INSTANCE_PATH=str(instance),
        VEHICLEWATCH_PUBLIC_BASE_URL=base_url,
        # Production mode refuses the development defaults: fresh secrets for each session.
        VEHICLEWATCH_SECRET_KEY=secrets.token_urlsafe(48),
        VEHICLEWATCH_CONTACT_KEYS=Fernet.generate_key().decode(),
        VEHICLEWATCH_RECEIPT_KEY=secrets.token_urlsafe(48),
        VEHICLEWATCH_AUDIT_KEY=secrets.token_urlsafe(48),
        # Production refuses memory:// with several workers: the limits live in Redis, under
        # a prefix of this server's own.
        VEHICLEWATCH_RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379",
        VEHICLEWATCH_RATELIMIT_KEY_PREFIX=f"e2e-{secrets.token_hex(8)}",
    )
    return env


def _wait_until_up(process: subprocess.Popen, base_url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"vehiclewatch serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(base_url + "/", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"vehiclewatch serve did not answer within {STARTUP_SECONDS} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def serve(instance: Path, workers: int, **settings: str) -> Iterator[Server]:
    """`vehiclewatch init`, `seed`, then `serve` (gunicorn in production mode) on a free port,
    with extra VEHICLEWATCH_* settings; stopped and its database dropped afterwards."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = str(Path(sys.executable).parent / "vehiclewatch")
    with fresh_database(instance) as database_url:
        env = _server_env(instance, base_url, database_url)
        env.update({f"VEHICLEWATCH_{name}": value for name, value in settings.items()})
        for step in (["init"], ["seed"]):
            done = subprocess.run(
                [command, *step], env=env, capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 0, f"vehiclewatch {step[0]}:\n{done.stdout}{done.stderr}"
        log = instance / "server.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [command, "serve", "--host", "127.0.0.1", "--port", str(port)]
                + ["--workers", str(workers)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_until_up(process, base_url, log)
            yield Server(base_url, database_url, log)
        finally:
            _stop(process)


@pytest.fixture(scope="session")
def server(chromium, tmp_path_factory) -> Iterator[Server]:
    """The service for the browser tests: gunicorn with 2 workers, its public pages in Tibetan,
    Chinese and English as the demo's (the browsers ask for Chinese)."""
    with serve(
        tmp_path_factory.mktemp("e2e-instance"), workers=2, PUBLIC_LOCALES="bo,zh,en"
    ) as running:
        yield running


@pytest.fixture(scope="session")
def playwright_instance(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance, chromium, artifacts):
    browser = playwright_instance.chromium.launch(
        executable_path=str(chromium), headless=True, args=LAUNCH_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def new_context(browser, server) -> Iterator[Callable]:
    """Open a browser context (a separate person: own cookies) on the server; closed after
    the test. Desktop by default; pass a Playwright device profile for a phone."""
    opened = []

    def factory(device: dict | None = None, **options):
        settings = {"viewport": {"width": 1280, "height": 900}}
        if device:
            # Playwright's list says which engine the device ships with; we use Chromium.
            settings = {k: v for k, v in device.items() if k != "default_browser_type"}
        settings |= {
            "base_url": server.base_url,
            "locale": "zh-CN",
            "timezone_id": "Asia/Shanghai",
        }
        context = browser.new_context(**(settings | options))
        context.set_default_timeout(TIMEOUT_MS)
        opened.append(context)
        return context

    yield factory
    for context in opened:
        context.close()


def sign_in(page, username: str) -> None:
    """A demo account's first login through the pages: the password, then setting up the
    authenticator (TOTP stays on in the browser tests), whose code pyotp computes."""
    import pyotp
    from playwright.sync_api import expect

    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/login/enrol**")
    expect(page.locator(".totp-qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.get_by_role("button", name="完成设置", exact=True).click()
    expect(page.locator("ul.recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="我已保存，继续").click()
    page.wait_for_url("**/workbench")


@pytest.fixture(scope="session")
def storage_states(tmp_path_factory) -> dict:
    """Where each signed-in account's cookies are kept for the whole browser session: a
    code is accepted once, so every account signs in once and its state is reused."""
    return {"folder": tmp_path_factory.mktemp("storage-states")}


@pytest.fixture
def staff(new_context, storage_states) -> Callable:
    """A browser context signed in as a demo account (signing in the first time)."""

    def factory(username: str, **options):
        path = storage_states["folder"] / f"{username}.json"
        if not path.exists():
            page = new_context().new_page()
            sign_in(page, username)
            page.context.storage_state(path=str(path))
        return new_context(storage_state=str(path), **options)

    return factory
