"""`vehiclewatch demo`: stickers carry the address the demo serves, a database seeded for
another address is named, and demo-reset starts afresh."""

from pathlib import Path

import click
import pytest
from sqlalchemy import make_url, select

from vehiclewatch.demo import demo_base_url, lan_address, prepare, reset_database
from vehiclewatch.extensions import db
from vehiclewatch.fleet.models import Sticker


def test_the_demo_address_follows_host_and_port():
    assert demo_base_url("127.0.0.1", 8080) == "http://127.0.0.1:8080"
    lan = demo_base_url("0.0.0.0", 5000)
    assert lan == f"http://{lan_address()}:5000" and "0.0.0.0" not in lan


def test_stickers_point_at_the_demo_and_another_address_is_named(app):
    assert prepare("http://192.0.2.7:5000") is None
    urls = db.session.execute(select(Sticker.url)).scalars().all()
    assert urls and all(u.startswith("http://192.0.2.7:5000/v/") for u in urls)
    assert prepare("http://192.0.2.7:5000") is None  # the same address again: fine
    assert prepare("http://127.0.0.1:5000") == "http://192.0.2.7:5000"


def test_demo_reset_removes_only_an_sqlite_database(app):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        with pytest.raises(click.ClickException, match="only removes the SQLite"):
            reset_database()
        assert db.session.execute(select(Sticker.id)).first() is None  # still reachable
        return
    assert Path(url.database).exists()
    reset_database()
    assert not Path(url.database).exists()


def test_the_demo_signs_staff_in_without_totp_and_says_so(app, runner, monkeypatch):
    served = {}

    def fake_server(host, port, *, debugger):
        served["require_totp"] = app.config["REQUIRE_TOTP"]
        served["login_page"] = app.test_client().get("/login").get_data(as_text=True)

    monkeypatch.setattr("vehiclewatch.cli.run_development_server", fake_server)
    result = runner.invoke(args=["demo", "--port", "5099"])
    assert result.exit_code == 0, result.output
    assert "without a TOTP code" in result.output
    assert served["require_totp"] is False
    assert "演示模式：登录不要求手机动态验证码" in served["login_page"]


def test_the_demo_shows_the_language_switch(app, runner, monkeypatch):
    served = {}

    def fake_server(host, port, *, debugger):
        served["front"] = app.test_client().get("/").get_data(as_text=True)

    monkeypatch.delenv("VEHICLEWATCH_PUBLIC_LOCALES", raising=False)
    monkeypatch.setattr("vehiclewatch.cli.run_development_server", fake_server)
    result = runner.invoke(args=["demo", "--port", "5099"])
    assert result.exit_code == 0, result.output
    assert "public pages in bo,zh,en" in result.output
    assert '<nav class="languages"' in served["front"] and "བོད་ཡིག" in served["front"]
