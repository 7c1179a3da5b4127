"""Fixtures: a migrated database per test (SQLite, or PostgreSQL via DATABASE_URL), the app,
clients, and small factories that return what they create."""

import itertools
import os
import re
import shutil
import tempfile
import uuid

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade

from vehiclewatch import audit, create_app
from vehiclewatch.auth.models import Role, Unit, UnitKind
from vehiclewatch.auth.services import create_unit, create_user
from vehiclewatch.extensions import db
from vehiclewatch.fleet.services import create_vehicle

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
def app(make_app):
    app = make_app()
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


@pytest.fixture
def make_user(app):
    counter = itertools.count(1)

    def factory(role: Role | str, unit: Unit, username: str | None = None, **kwargs):
        name = username or f"{Role(role).value.replace('_', '-')}-{next(counter)}"
        return create_user(name, f"测试 {name}", role, unit, PASSWORD, **kwargs, actor=audit.SYSTEM)

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

    def login(self, user_or_name, password: str = PASSWORD):
        username = getattr(user_or_name, "username", user_or_name)
        return self._client.post("/login", data={"username": username, "password": password})

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
    from vehiclewatch.timeutil import utcnow

    def factory(vehicle=None, **fields):
        fields.setdefault("category", "private_use")
        fields.setdefault("seen_at", utcnow() - timedelta(hours=1))
        if vehicle is not None:
            fields.setdefault("sticker", vehicle.live_sticker)
        return file_report(
            NewReport(vehicle=vehicle, **fields), new_submission_id(), actor=audit.PUBLIC
        )

    return factory


@pytest.fixture
def car(org, make_vehicle):
    """A publicly marked car of 甲县教育局 with its sticker."""
    from vehiclewatch.fleet.services import issue_sticker

    vehicle = make_vehicle(org["a-jy"], plate="藏B·12345", category="law_enforcement")
    issue_sticker(vehicle, actor=audit.SYSTEM)
    return vehicle


def receipt_on(page: str) -> str:
    """The receipt code shown once on the page after filing (its groups are marked up)."""
    inner = re.search(r'<p class="receipt" id="receipt">(.*?)</p>', page).group(1)
    return re.sub(r"<[^>]+>", "", inner)
