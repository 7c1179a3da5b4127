"""The app factory, configuration, security headers and the front page."""

import pytest

from vehiclewatch import create_app
from vehiclewatch.config import InsecureConfiguration, check_production

# Settings production accepts.
PRODUCTION = {
    "SECRET_KEY": "s" * 40,
    "CONTACT_KEYS": "pQx6nGzTSh4vJ1yP3yX2Jc3aTqJ0sW5zYkq9r8XyZ0E=",
    "RECEIPT_KEY": "r" * 40,
    "AUDIT_KEY": "a" * 40,
    "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
}


def test_front_page_leads_citizens_and_staff(client):
    page = client.get("/").get_data(as_text=True)
    assert "一车一码亮身份" in page
    assert "工作人员登录" in page
    assert "12388" in page


def test_security_headers_on_every_page(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(client, auth, org, make_user):
    user = make_user("sysadmin", org["city"])
    response = auth.login(user)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_settings_come_from_prefixed_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("VEHICLEWATCH_PUBLIC_BASE_URL", "https://jc.example.gov.cn")
    monkeypatch.setenv("VEHICLEWATCH_HOTLINE_LOCAL", "0893-1234567")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    app = create_app({"TESTING": True})
    assert app.config["PUBLIC_BASE_URL"] == "https://jc.example.gov.cn"
    assert app.config["HOTLINE_LOCAL"] == "0893-1234567"
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_sqlite_is_the_default_under_instance(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("VEHICLEWATCH_INSTANCE_PATH", str(tmp_path))
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/vehiclewatch.sqlite3"


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(app):
    from vehiclewatch.extensions import db

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_production_refuses_default_secrets_and_debug():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with pytest.raises(InsecureConfiguration, match="SECRET_KEY"):
        check_production(app)
    good = {"SQLALCHEMY_DATABASE_URI": "sqlite://", **PRODUCTION}
    check_production(create_app(good), workers=4)  # does not raise
    debug_app = create_app(good)
    debug_app.debug = True
    with pytest.raises(InsecureConfiguration, match="debug"):
        check_production(debug_app)
    with pytest.raises(InsecureConfiguration, match="CONTACT_KEYS"):
        check_production(create_app(good | {"CONTACT_KEYS": create_app().config["CONTACT_KEYS"]}))
    with pytest.raises(InsecureConfiguration, match="RECEIPT_KEY"):
        check_production(create_app(good | {"RECEIPT_KEY": create_app().config["RECEIPT_KEY"]}))
    check_production(create_app(good | {"RECEIPT_KEY": "n" * 40 + "," + "r" * 40}))  # rotation
    with pytest.raises(InsecureConfiguration, match="RECEIPT_KEY"):
        check_production(create_app(good | {"RECEIPT_KEY": "n" * 40 + ",short"}))
    with pytest.raises(InsecureConfiguration, match="AUDIT_KEY"):
        check_production(create_app(good | {"AUDIT_KEY": create_app().config["AUDIT_KEY"]}))
    with pytest.raises(InsecureConfiguration, match="AUDIT_KEY"):
        check_production(create_app(good | {"AUDIT_KEY": "short"}))


def test_production_refuses_limits_each_worker_would_count_alone():
    good = {
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        **PRODUCTION,
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    with pytest.raises(InsecureConfiguration, match="RATELIMIT_STORAGE_URI is memory://"):
        check_production(create_app(good), workers=1)
    allowed = create_app(good | {"RATELIMIT_ALLOW_MEMORY": True})
    check_production(allowed, workers=1)  # one worker: its counts are all the counts
    with pytest.raises(InsecureConfiguration, match="not 4"):
        check_production(allowed, workers=4)
    check_production(create_app(good | {"RATELIMIT_ENABLED": False}), workers=4)


def _production_env(monkeypatch, tmp_path, **settings):
    monkeypatch.setenv("VEHICLEWATCH_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/db.sqlite3")
    for name, value in (PRODUCTION | settings).items():
        monkeypatch.setenv(f"VEHICLEWATCH_{name}", value)


def test_serve_checks_the_app_its_workers_run_debug_included(monkeypatch, tmp_path):
    from vehiclewatch.cli import main

    _production_env(monkeypatch, tmp_path, DEBUG="true")
    monkeypatch.setattr("sys.argv", ["vehiclewatch", "serve", "--port", "5999"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code != 0


def test_serve_refuses_memory_limits_for_several_workers(monkeypatch, tmp_path, capsys):
    from vehiclewatch.cli import main

    _production_env(monkeypatch, tmp_path, RATELIMIT_STORAGE_URI="memory://")
    monkeypatch.setattr("sys.argv", ["vehiclewatch", "serve", "--port", "5999", "--workers", "2"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code != 0
    assert "memory://" in capsys.readouterr().err


def test_the_wsgi_entry_point_refuses_debug(monkeypatch, tmp_path):
    import importlib
    import sys

    _production_env(monkeypatch, tmp_path, DEBUG="true")
    monkeypatch.delitem(sys.modules, "vehiclewatch.wsgi", raising=False)
    with pytest.raises(InsecureConfiguration, match="debug is on"):
        importlib.import_module("vehiclewatch.wsgi")


def test_serve_refuses_to_start_in_production_with_default_secret(runner):
    result = runner.invoke(args=["serve", "--port", "5999"])
    assert result.exit_code != 0
    assert "refusing to start in production" in result.output


def test_times_are_shown_in_the_deployment_zone(app):
    from datetime import UTC, datetime

    from vehiclewatch.timeutil import format_local

    assert format_local(datetime(2026, 2, 14, 20, 30, tzinfo=UTC)) == "2026-02-15 04:30"


def test_every_template_folder_is_installed_with_the_wheel():
    import tomllib

    from vehiclewatch import asset_dir

    with open(asset_dir("templates").parent / "pyproject.toml", "rb") as handle:
        data_files = tomllib.load(handle)["tool"]["setuptools"]["data-files"]
    folders = {p for p in asset_dir("templates").rglob("*") if p.is_dir()}
    for folder in folders:
        key = f"share/vehiclewatch/templates/{folder.name}"
        assert data_files.get(key) == [f"templates/{folder.name}/*.html"], folder


def test_the_instance_folder_is_where_the_caller_says(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VEHICLEWATCH_INSTANCE_PATH")
    monkeypatch.delenv("DATABASE_URL", raising=False)  # the default database is in it
    app = create_app({"TESTING": True}, str(tmp_path / "elsewhere"))
    assert app.instance_path == str(tmp_path / "elsewhere")
    assert (tmp_path / "elsewhere").is_dir() and not (tmp_path / "instance").exists()
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("/elsewhere/vehiclewatch.sqlite3")
