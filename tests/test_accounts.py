"""Staff accounts: a server-side session per login, the TOTP second factor, hardened login
and the common-password list."""

import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, inspect, select

from vehiclewatch import audit, encryption
from vehiclewatch.audit import AuditEntry
from vehiclewatch.auth import passwords, services, totp
from vehiclewatch.auth.models import RecoveryCode, StaffSession, User
from vehiclewatch.extensions import db
from vehiclewatch.timeutil import utcnow

from .conftest import AUTHENTICATORS, PASSWORD, AuthActions, second_factor_code


def _entries(action: str) -> list[AuditEntry]:
    return list(db.session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars())


def _after(entry: AuditEntry) -> dict:
    return json.loads(entry.after)


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _with_cookie(app, value: str):
    other = app.test_client()
    other.set_cookie("session", value)
    return other


# --- sessions ----------------------------------------------------------------


def test_logout_ends_that_session_even_for_a_copied_cookie(app, org, make_user):
    user = make_user("officer", org["a"])
    laptop, phone = app.test_client(), app.test_client()
    AuthActions(laptop).login(user)
    AuthActions(phone).login(user)
    captured = _cookie(laptop)
    assert laptop.post("/logout").status_code == 302
    stolen = _with_cookie(app, captured)
    response = stolen.get("/review/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    # The other device's login is its own session and stays.
    assert phone.get("/review/").status_code == 200
    ended = db.session.execute(select(StaffSession).where(StaffSession.ended_at.is_not(None)))
    assert [row.end_reason for row in ended.scalars()] == ["logout"]


def test_end_my_other_sessions(app, org, make_user):
    user = make_user("officer", org["a"])
    laptop, phone = app.test_client(), app.test_client()
    AuthActions(laptop).login(user)
    AuthActions(phone).login(user)
    page = phone.get("/account/sessions").get_data(as_text=True)
    assert page.count("本设备") == 1 and "结束其他设备上的登录" in page
    assert phone.post("/account/sessions/end-others").status_code == 302
    assert laptop.get("/workbench").status_code == 302
    assert phone.get("/workbench").status_code == 200
    assert _after(_entries("sessions_ended")[-1]) == {"count": 1, "reason": "ended_by_owner"}


def test_sessions_keep_a_device_label_but_no_address(app, org, make_user):
    user = make_user("officer", org["a"])
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36"
    )
    client.environ_base["REMOTE_ADDR"] = "198.51.100.23"
    AuthActions(client).login(user)
    row = db.session.execute(select(StaffSession)).scalar_one()
    assert row.device == "手机 · Chrome"
    columns = {c["name"] for c in inspect(db.engine).get_columns("staff_session")}
    assert not columns & {"ip", "address", "remote_addr", "user_agent"}
    values = [str(getattr(row, c)) for c in columns]
    assert not any("198.51.100.23" in v for v in values)
    assert row.token_hash != client.get_cookie("session").value


def test_absolute_lifetime_ends_an_active_session(app, org, make_user):
    user = make_user("officer", org["a"])
    client = app.test_client()
    AuthActions(client).login(user)
    row = db.session.execute(select(StaffSession)).scalar_one()
    row.created_at = utcnow() - timedelta(hours=app.config["SESSION_MAX_HOURS"], minutes=1)
    db.session.commit()
    response = client.get("/workbench")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "最长时限" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert db.session.get(StaffSession, row.id).end_reason == "expired"


def test_role_and_unit_changes_end_the_accounts_sessions(app, org, make_user, login_as):
    admin_client, _ = login_as("sysadmin", org["city"])
    fleet = make_user("fleet_admin", org["a"])
    client = app.test_client()
    AuthActions(client).login(fleet)
    assert client.get("/fleet/vehicles").status_code == 200
    form = {
        "display_name": fleet.display_name,
        "role": "fleet_admin",
        "unit_id": org["a-jy"].id,
        "active": "y",
    }
    assert admin_client.post(f"/admin/users/{fleet.id}", data=form).status_code == 302
    assert client.get("/fleet/vehicles").status_code == 302


# --- second factor -----------------------------------------------------------


def test_enrolment_shows_an_inline_qr_and_the_secret_and_gives_ten_recovery_codes(
    app, client, org, runner
):
    result = runner.invoke(
        args=["create-user", "fleet-new", "--name", "新车管员", "--role", "fleet_admin"]
        + ["--unit", "a"],
        input="a long fleet passphrase\na long fleet passphrase\n",
    )
    assert result.exit_code == 0, result.output
    response = client.post(
        "/login", data={"username": "fleet-new", "password": "a long fleet passphrase"}
    )
    assert "/login/enrol" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<svg" in page and "data:" not in page
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    wrong = client.post("/login/enrol", data={"code": "000000"})
    assert wrong.status_code == 401 and "验证码不正确" in wrong.get_data(as_text=True)
    done = client.post("/login/enrol", data={"code": pyotp.TOTP(secret).now()})
    codes = re.findall(r"<li><code>([A-Z0-9-]+)</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10
    assert client.get("/fleet/vehicles").status_code == 200
    user = db.session.execute(select(User).where(User.username == "fleet-new")).scalar_one()
    # Encrypted at rest with the contact keys; recovery codes only as hashes.
    assert secret not in user.totp_secret_enc
    assert encryption.decrypt(user.totp_secret_enc) == secret
    hashes = db.session.execute(select(RecoveryCode.code_hash)).scalars().all()
    assert len(hashes) == 10 and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(code.replace("-", "") in h for code in codes for h in hashes)


def test_a_code_is_refused_when_replayed(app, org, make_user):
    user = make_user("officer", org["a"])
    first, second = app.test_client(), app.test_client()
    code = second_factor_code(user.username)
    for c in (first, second):
        c.post("/login", data={"username": user.username, "password": PASSWORD})
    assert first.post("/login/code", data={"code": code}).status_code == 302
    replay = second.post("/login/code", data={"code": code})
    assert replay.status_code == 401 and "已用过" in replay.get_data(as_text=True)
    assert second.get("/workbench").status_code == 302
    assert _after(_entries("login_failed")[-1]) == {"factor": "totp"}


def test_a_recovery_code_works_once(app, org, make_user):
    user = make_user("officer", org["a"])
    code = AUTHENTICATORS[user.username]["codes"][0]
    first, second = app.test_client(), app.test_client()
    for c in (first, second):
        c.post("/login", data={"username": user.username, "password": PASSWORD})
    assert first.post("/login/code", data={"code": code.lower()}).status_code == 302
    assert second.post("/login/code", data={"code": code}).status_code == 401
    assert _entries("recovery_code_used")
    assert _after(_entries("login")[-1]) == {"second_factor": "recovery"}


def test_second_factor_attempts_are_throttled_like_passwords(app, org, make_user):
    user = make_user("officer", org["a"])
    client = app.test_client()
    client.post("/login", data={"username": user.username, "password": PASSWORD})
    statuses = [client.post("/login/code", data={"code": "123456"}).status_code for _ in range(5)]
    # The password was the first of the five attempts of this minute.
    assert statuses == [401, 401, 401, 401, 429]
    code = second_factor_code(user.username)
    assert client.post("/login/code", data={"code": code}).status_code == 429


def test_the_code_page_needs_a_password_first(client, org, make_user):
    make_user("officer", org["a"])
    response = client.post("/login/code", data={"code": "123456"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_without_the_requirement_a_password_alone_signs_in(make_app, org, runner):
    """The one test that turns VEHICLEWATCH_REQUIRE_TOTP off: the switch works, and the
    login page says so."""
    result = runner.invoke(
        args=[
            "create-user",
            "fleet-demo",
            "--name",
            "演示",
            "--role",
            "fleet_admin",
            "--unit",
            "a",
        ],
        input="a long fleet passphrase\na long fleet passphrase\n",
    )
    assert result.exit_code == 0, result.output
    app = make_app(REQUIRE_TOTP=False)
    with app.app_context():
        client = app.test_client()
        assert "不要求手机动态验证码" in client.get("/login").get_data(as_text=True)
        response = client.post(
            "/login", data={"username": "fleet-demo", "password": "a long fleet passphrase"}
        )
        assert response.headers["Location"].endswith("/workbench")
        assert client.get("/fleet/vehicles").status_code == 200
        # Anyone may still set up the authenticator (登录与安全); from then on it is asked.
        assert "现在设置" in client.get("/account/sessions").get_data(as_text=True)
        page = client.get("/login/enrol").get_data(as_text=True)
        secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page).group(1)
        done = client.post("/login/enrol", data={"code": pyotp.TOTP(secret).now()})
        assert done.status_code == 200 and "恢复码" in done.get_data(as_text=True)
        assert client.get("/fleet/vehicles").status_code == 200
        again = app.test_client().post(
            "/login", data={"username": "fleet-demo", "password": "a long fleet passphrase"}
        )
        assert "/login/code" in again.headers["Location"]


def test_the_requirement_is_on_by_default(app, client):
    assert app.config["REQUIRE_TOTP"] is True
    assert "6 位动态验证码" in client.get("/login").get_data(as_text=True)


# --- login -------------------------------------------------------------------


def test_parallel_wrong_passwords_are_checked_exactly_up_to_the_limit(app, org, make_user):
    user = make_user("officer", org["a"])

    def attempt(_):
        return (
            app.test_client()
            .post("/login", data={"username": user.username, "password": "wrong password!"})
            .status_code
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(attempt, range(24)))
    assert sorted(statuses) == [401] * 5 + [429] * 19
    assert len(_entries("login_failed")) == 5
    assert len(_entries("login_throttled")) == 19


def test_disabled_unknown_and_live_accounts_do_the_same_work(client, org, make_user, monkeypatch):
    live = make_user("officer", org["a"])
    disabled = make_user("officer", org["a"])
    disabled.active = False
    db.session.commit()
    checks = []
    real = services.verify_hash
    monkeypatch.setattr(services, "verify_hash", lambda h, p: checks.append(1) or real(h, p))
    answers = []
    for name, password in (
        (live.username, "wrong password!"),
        (disabled.username, PASSWORD),
        ("nobody-here", PASSWORD),
    ):
        checks.clear()
        response = client.post("/login", data={"username": name, "password": password})
        answers.append(
            (response.status_code, "用户名或密码错误" in response.get_data(as_text=True))
        )
        assert len(checks) == 1, name
    assert answers == [(401, True)] * 3


def test_failed_logins_keep_known_usernames_and_hash_unknown_ones(client, org, make_user):
    user = make_user("officer", org["a"])
    client.post("/login", data={"username": user.username, "password": "wrong password!"})
    client.post("/login", data={"username": "MyS3cretPassw0rd", "password": "x"})
    known, unknown = _entries("login_failed")
    assert known.object_id == user.username
    assert unknown.object_id.startswith("unknown:")
    assert "MyS3cretPassw0rd" not in unknown.object_id
    # The same typed name gives the same hash, so repeated probes can be told apart.
    client.post("/login", data={"username": "MyS3cretPassw0rd", "password": "y"})
    assert _entries("login_failed")[-1].object_id == unknown.object_id


REFUSED = [
    "short",
    "aaaaaaaaaaaa",
    "abababababab",
    "123456789012",
    "qwertyuiopas",
    "woaini1314520",
    "qq1234567890",
    "5201314520131",
    "zhangwei19900101",
    "lixiaoming880808",
    "password2026!",
    "1314woaini!!",
]


@pytest.mark.parametrize("password", REFUSED)
def test_weak_passwords_are_refused(app, password):
    with pytest.raises(passwords.WeakPassword):
        passwords.check(password, "someone")


def test_good_passphrases_pass(app):
    for password in (PASSWORD, "a brand new passphrase", "demo-pass-2026", "Xq7#mZ2!pLw9"):
        passwords.check(password, "someone")


def test_password_change_refuses_a_common_password(client, auth, org, make_user):
    user = make_user("officer", org["a"])
    auth.login(user)
    page = client.post(
        "/account/password",
        data={"current": PASSWORD, "new": "woaini1314520", "confirm": "woaini1314520"},
    ).get_data(as_text=True)
    assert "常见密码" in page
    assert services.verify_password(db.session.get(User, user.id), PASSWORD)


def test_create_user_refuses_a_trivial_password(runner, org):
    result = runner.invoke(
        args=["create-user", "fleet-x", "--name", "x", "--role", "fleet_admin", "--unit", "a"],
        input="aaaaaaaaaaaa\naaaaaaaaaaaa\n",
    )
    assert result.exit_code != 0 and "过于简单" in result.output
    count = db.session.execute(select(func.count()).select_from(User)).scalar_one()
    assert count == 0


def test_sessions_table_is_what_loads_the_user(app, org, make_user):
    """The cookie's id is a per-login token whose hash is in staff_session, not a value
    the account keeps."""
    from vehiclewatch.auth import sessions

    user = make_user("fleet_admin", org["a"])
    row = sessions.start_session(user, "test", second_factor=None)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = row.token
    assert client.get("/fleet/vehicles").status_code == 200
    sessions.end_session(row, "logout", actor=audit.SYSTEM)
    assert client.get("/fleet/vehicles").status_code == 302
    assert totp.unused_recovery_codes(user) == 10
