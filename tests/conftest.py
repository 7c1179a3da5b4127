"""Fixtures: a migrated database per test (SQLite, or PostgreSQL via DATABASE_URL), the app,
clients, and small factories that return what they create."""

import io
import itertools
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pyotp
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade

from vehiclewatch import audit, create_app
from vehiclewatch.auth import foureyes, totp
from vehiclewatch.auth.models import Role, Unit, UnitKind
from vehiclewatch.auth.services import create_unit, create_user
from vehiclewatch.extensions import db
from vehiclewatch.fleet.vehicles import create_vehicle
from vehiclewatch.timeutil import utcnow
from vehiclewatch.transaction import atomic

PASSWORD = "correct horse battery"
BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "WTF_CSRF_ENABLED": False,
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 8,
    "ARGON2_PARALLELISM": 1,
    "RATELIMIT_STORAGE_URI": "memory://",
}
POSTGRES_URL = os.environ.get("DATABASE_URL", "")
# An app built without an instance folder of its own must not write into the checkout.
os.environ["VEHICLEWATCH_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="vehiclewatch-tests-")


def _pg_admin_engine():
    url = sa.make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    return url, sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def _migrate(uri: str, instance_path) -> None:
    app = create_app(BASE_CONFIG | {"SQLALCHEMY_DATABASE_URI": uri}, str(instance_path))
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """Migrate once per session; each test gets a copy."""
    folder = tmp_path_factory.mktemp("template")
    if POSTGRES_URL:
        url, engine = _pg_admin_engine()
        name = f"vw_template_{uuid.uuid4().hex[:8]}"
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        _migrate(url.set(database=name).render_as_string(hide_password=False), folder)
        yield ("postgresql", name)
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
    else:
        path = folder / "template.sqlite3"
        _migrate(f"sqlite:///{path}", folder)
        yield ("sqlite", path)


_counter = itertools.count()


@pytest.fixture
def database_uri(template_db, tmp_path):
    kind, source = template_db
    if kind == "sqlite":
        target = tmp_path / "test.sqlite3"
        shutil.copy(source, target)
        yield f"sqlite:///{target}"
        return
    url, engine = _pg_admin_engine()
    name = f"vw_test_{os.getpid()}_{next(_counter)}"
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production: otherwise requests
    would share the test's `g` (and Flask-Login's cached user) and its database session."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def make_app(database_uri, tmp_path):
    """Build an app on this test's database with extra configuration."""
    apps = []

    def factory(**config):
        app = create_app(
            BASE_CONFIG | {"SQLALCHEMY_DATABASE_URI": database_uri} | config,
            str(tmp_path / "instance"),
        )
        app.test_client_class = IsolatedClient
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app, photo_location):
    app = make_app(**photo_location())
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def org(app):
    """A small tree: the city with a 市直 department and its 纪委监委, two counties each with
    a department and an escalated 纪委监委."""
    units = {}
    units["city"] = create_unit("city", "示例市", UnitKind.CITY, None, actor=audit.SYSTEM)
    units["city-ga"] = create_unit(
        "city-ga", "示例市公安局", UnitKind.DEPARTMENT, units["city"], actor=audit.SYSTEM
    )
    units["city-jw"] = create_unit(
        "city-jw",
        "示例市纪委监委",
        UnitKind.DEPARTMENT,
        units["city"],
        escalated=True,
        actor=audit.SYSTEM,
    )
    for code, name in (("a", "甲县"), ("b", "乙县")):
        units[code] = create_unit(code, name, UnitKind.COUNTY, units["city"], actor=audit.SYSTEM)
        units[f"{code}-jy"] = create_unit(
            f"{code}-jy", f"{name}教育局", "department", units[code], actor=audit.SYSTEM
        )
        units[f"{code}-jw"] = create_unit(
            f"{code}-jw",
            f"{name}纪委监委",
            "department",
            units[code],
            escalated=True,
            actor=audit.SYSTEM,
        )
    return units


# Each test user's authenticator by username (set anew whenever a test creates the user):
# its secret, recovery codes and the last step it used.
AUTHENTICATORS: dict[str, dict] = {}


def confirm_pending(user) -> None:
    """Test setup standing in for a leader of the account's unit: apply what awaits
    confirmation (a case-seeing account starts disabled)."""
    with atomic():
        for change in foureyes.pending_for(user):
            foureyes.apply(user, change.changes, actor=audit.SYSTEM)
            change.confirmed = True


def enrol_authenticator(user) -> None:
    """Enrol a TOTP secret through the real service, with a code of the previous step, so
    that logins can use the current and the next one; keep what the test client needs."""
    secret = pyotp.random_base32()
    step = int(utcnow().timestamp()) // totp.STEP_SECONDS - 1
    codes = totp.enrol(user, secret, pyotp.TOTP(secret).at(step * totp.STEP_SECONDS))
    AUTHENTICATORS[user.username] = {"secret": secret, "step": step, "codes": codes}


def second_factor_code(username: str) -> str:
    """A code the server has not seen: the next step within the allowed drift, else one of
    the account's recovery codes."""
    entry = AUTHENTICATORS[username]
    now = int(utcnow().timestamp()) // totp.STEP_SECONDS
    step = max(entry["step"] + 1, now - totp.DRIFT_STEPS)
    if step > now + totp.DRIFT_STEPS:
        return entry["codes"].pop()
    entry["step"] = step
    return pyotp.TOTP(entry["secret"]).at(step * totp.STEP_SECONDS)


@pytest.fixture
def make_user(app):
    counter = itertools.count(1)

    def factory(role: Role | str, unit: Unit, username: str | None = None, **kwargs):
        name = username or f"{Role(role).value.replace('_', '-')}-{next(counter)}"
        user = create_user(name, f"测试 {name}", role, unit, PASSWORD, **kwargs, actor=audit.SYSTEM)
        confirm_pending(user)
        enrol_authenticator(user)
        return user

    return factory


@pytest.fixture
def make_vehicle(app):
    counter = itertools.count(10000)

    def factory(unit: Unit, plate: str | None = None, **kwargs):
        kwargs.setdefault("category", "other")
        return create_vehicle(plate or f"藏A·{next(counter)}", unit, **kwargs, actor=audit.SYSTEM)

    return factory


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, user_or_name, password: str = PASSWORD, path: str = "/login"):
        """Password, then (when asked) a TOTP code; returns the last response."""
        username = getattr(user_or_name, "username", user_or_name)
        response = self._client.post(path, data={"username": username, "password": password})
        if response.status_code == 302 and "/login/code" in response.headers["Location"]:
            with self._client.application.app_context():
                code = second_factor_code(username)
            response = self._client.post(response.headers["Location"], data={"code": code})
        return response

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def login_as(app, make_user):
    """A fresh client logged in as a new user of the given role and unit."""

    def factory(role, unit, **kwargs):
        user = make_user(role, unit, **kwargs)
        c = app.test_client()
        response = AuthActions(c).login(user)
        assert response.status_code == 302, response.get_data(as_text=True)
        return c, user

    return factory


@pytest.fixture
def make_report(app):
    """File a report through the real service; returns (report, receipt)."""
    from datetime import timedelta

    from vehiclewatch.reports.filing import NewReport, file_report
    from vehiclewatch.reports.protection import new_submission_id

    def factory(vehicle=None, **fields):
        fields.setdefault("category", "private_use")
        fields.setdefault("seen_at", utcnow() - timedelta(hours=1))
        if vehicle is not None:
            fields.setdefault("sticker", vehicle.live_sticker)
        return file_report(
            NewReport(vehicle=vehicle, **fields), new_submission_id(), actor=audit.PUBLIC
        )

    return factory


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


S3_CREDENTIALS = {
    "PHOTO_STORE_REGION": "us-east-1",
    "PHOTO_STORE_ACCESS_KEY": "vehiclewatch-test",
    "PHOTO_STORE_SECRET_KEY": "vehiclewatch-test-secret",
}


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    """A real S3-compatible server (moto's server mode) on a free port of 127.0.0.1."""
    port = free_port()
    log = tmp_path_factory.mktemp("s3") / "moto.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            if server.poll() is not None:
                raise RuntimeError(f"moto server exited: {log.read_text()}")
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"moto server did not start: {log.read_text()}")
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


def s3_client(endpoint: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=S3_CREDENTIALS["PHOTO_STORE_REGION"],
        aws_access_key_id=S3_CREDENTIALS["PHOTO_STORE_ACCESS_KEY"],
        aws_secret_access_key=S3_CREDENTIALS["PHOTO_STORE_SECRET_KEY"],
    )


def new_bucket(endpoint: str) -> str:
    name = f"vw-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def photo_location(request, tmp_path):
    """Settings for a new, empty photo store: a local directory, or (parametrised
    indirectly with "s3") a new bucket on the S3-compatible test server."""
    kind = getattr(request, "param", "local")
    counter = itertools.count()

    def factory() -> dict:
        n = next(counter)
        if kind == "local":  # the first is the instance's own default
            return {"PHOTO_DIR": str(tmp_path / f"photos-{n}")} if n else {}
        endpoint = request.getfixturevalue("s3_endpoint")
        return {
            "PHOTO_STORE": f"s3://{new_bucket(endpoint)}/reports",
            "PHOTO_STORE_ENDPOINT": endpoint,
            **S3_CREDENTIALS,
        }

    return factory


BOTH_STORES = pytest.mark.parametrize("photo_location", ["local", "s3"], indirect=True)


@pytest.fixture
def car(org, make_vehicle):
    """A publicly marked car of 甲县教育局 with its sticker."""
    from vehiclewatch.fleet.stickers import issue_sticker

    vehicle = make_vehicle(org["a-jy"], plate="藏B·12345", category="law_enforcement")
    issue_sticker(vehicle, actor=audit.SYSTEM)
    return vehicle


def receipt_on(page: str) -> str:
    """The receipt code shown once on the page after filing (its groups are marked up)."""
    inner = re.search(r'<p class="receipt" id="receipt">(.*?)</p>', page).group(1)
    return re.sub(r"<[^>]+>", "", inner)


@contextmanager
def fresh_database(folder) -> Iterator[str]:
    """An empty database for one app of a test: SQLite in the folder, or (the suite's
    PostgreSQL pass) a new database on the server, dropped afterwards. Yields its URL."""
    if not POSTGRES_URL:
        yield f"sqlite:///{folder}/vehiclewatch.sqlite3"
        return
    url, admin = _pg_admin_engine()
    name = f"vw_fresh_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def spring(app):
    """春节 2026: 15 to 23 February, with Saturdays 14 and 28 February worked (调休)."""
    from vehiclewatch.calendar.services import add_holiday_period

    return add_holiday_period(
        "春节",
        date(2026, 2, 15),
        date(2026, 2, 23),
        "national",
        [date(2026, 2, 14), date(2026, 2, 28)],
        actor=audit.SYSTEM,
    )


@pytest.fixture
def new_year_2026(spring):
    """春节 and 藏历新年 2026, which overlap and end a day apart (local holidays count as
    much as national ones)."""
    from vehiclewatch.calendar.services import add_holiday_period

    add_holiday_period(
        "藏历新年", date(2026, 2, 18), date(2026, 2, 24), "local", [], actor=audit.SYSTEM
    )


def count_rows(model) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def upload(client, url: str, data: bytes, name: str = "data.csv"):
    """Post a file as an import form does."""
    return client.post(
        url, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def form_version(page: str) -> str:
    """The version a page's form carries (the optimistic lock a stale page is caught by)."""
    return re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)


@pytest.fixture
def api_token(app, make_user):
    """Issue an API token through the real service; returns (headers, token row). A token
    that reads case content is confirmed by a new leader of the unit's jurisdiction."""

    def factory(unit: Unit, *scopes: str, name: str | None = None):
        from vehiclewatch.auth.tokens import CASE_SCOPES, confirm_token, create_token

        token, clear = create_token(
            name or f"platform-{uuid.uuid4().hex[:8]}", unit, list(scopes), actor=audit.SYSTEM
        )
        if CASE_SCOPES & set(scopes):
            confirm_token(token, make_user("leader", unit.jurisdiction), confirm=True)
        return {"Authorization": f"Bearer {clear}"}, token

    return factory
