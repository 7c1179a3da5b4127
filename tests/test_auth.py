"""Login, throttling, sessions, idle timeout, password change and CSRF."""

from datetime import timedelta

from sqlalchemy import select

from vehiclewatch.audit import AuditEntry
from vehiclewatch.auth import sessions
from vehiclewatch.auth.models import LoginThrottle, StaffSession, User
from vehiclewatch.extensions import db
from vehiclewatch.timeutil import utcnow

from .conftest import PASSWORD, AuthActions, second_factor_code


def _actions():
    return [e.action for e in db.session.execute(select(AuditEntry)).scalars()]


def test_password_is_stored_as_argon2id(org, make_user):
    user = make_user("officer", org["a"])
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_login_success_and_failure_are_audited(client, auth, org, make_user):
    user = make_user("officer", org["a"])
    bad = auth.login(user, "wrong password!")
    assert bad.status_code == 401
    assert "用户名或密码错误" in bad.get_data(as_text=True)
    good = auth.login(user)
    assert good.status_code == 302
    assert good.headers["Location"].endswith("/workbench")
    assert client.get("/workbench").status_code == 200
    assert _actions()[-2:] == ["login_failed", "login"]


def test_unknown_account_answers_like_a_wrong_password(client, auth, org):
    response = auth.login("nobody", "whatever it is")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_login_is_throttled_per_account_after_five_failures(app, auth, org, make_user):
    user = make_user("officer", org["a"])
    other = make_user("officer", org["a"])
    for _ in range(5):
        assert auth.login(user, "wrong password!").status_code == 401
    blocked = auth.login(user)  # even the right password is refused now
    assert blocked.status_code == 429
    assert "登录失败次数过多" in blocked.get_data(as_text=True)
    assert "login_throttled" in _actions()
    # Another account is not affected, and the counter lives in the database.
    assert AuthActions(app.test_client()).login(other).status_code == 302
    assert db.session.get(LoginThrottle, user.username).attempts == 5


def test_throttle_expires_after_the_window(app, auth, org, make_user):
    user = make_user("officer", org["a"])
    for _ in range(5):
        assert auth.login(user, "wrong password!").status_code == 401
    assert auth.login(user).status_code == 429
    throttle = db.session.get(LoginThrottle, user.username)
    throttle.window_started_at = utcnow() - timedelta(seconds=61)
    db.session.commit()
    assert auth.login(user).status_code == 302


def test_login_starts_a_new_session(client, auth, org, make_user):
    user = make_user("officer", org["a"])
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    auth.login(user)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_logout_ends_the_session(client, auth, org, make_user):
    user = make_user("officer", org["a"])
    auth.login(user)
    out = auth.logout()
    assert out.status_code == 302 and out.headers["Location"] == "/"
    assert "已退出登录" in client.get("/").text
    back = client.get("/workbench")
    assert back.status_code == 302 and back.headers["Location"].startswith("/login")


def test_password_change_ends_every_session(app, org, make_user):
    user = make_user("officer", org["a"])
    first, second = app.test_client(), app.test_client()
    for c in (first, second):
        AuthActions(c).login(user)
        assert c.get("/workbench").status_code == 200
    response = first.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "new": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    assert second.get("/workbench").status_code == 302
    assert first.get("/workbench").status_code == 302
    again = AuthActions(app.test_client()).login(user, "a brand new passphrase")
    assert again.status_code == 302
    assert "password_changed" in _actions()


def test_wrong_current_password_changes_nothing(client, auth, org, make_user):
    user = make_user("officer", org["a"])
    auth.login(user)
    old_hash = user.password_hash
    page = client.post(
        "/account/password",
        data={
            "current": "not it at all",
            "new": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    ).get_data(as_text=True)
    assert "当前密码不正确" in page
    assert db.session.get(User, user.id).password_hash == old_hash


def test_idle_timeout_logs_out(client, auth, org, make_user, app):
    user = make_user("officer", org["a"])
    auth.login(user)
    limit = app.config["IDLE_TIMEOUT_MINUTES"] + 1
    row = db.session.execute(select(StaffSession)).scalar_one()
    row.last_seen_at = utcnow() - timedelta(minutes=limit)
    db.session.commit()
    response = client.get("/workbench")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "长时间未操作" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert db.session.get(StaffSession, row.id).end_reason == "idle"


def test_disabled_account_cannot_log_in(auth, org, make_user):
    user = make_user("officer", org["a"])
    user.active = False
    db.session.commit()
    assert auth.login(user).status_code == 401


def test_open_redirect_after_login_is_refused(auth, org, make_user):
    user = make_user("officer", org["a"])
    response = auth.login(user, path="/login?next=https://evil.example/")
    assert response.headers["Location"].endswith("/workbench")


def test_csrf_is_enforced_on_every_state_changing_route(make_app, org, make_user):
    """With CSRF on, a POST without a token is refused on every route that accepts POST."""
    from .test_access import build_url

    tokens = [None] + [
        sessions.start_session(make_user(r, org["city"]), "test", second_factor=None).token
        for r in ("sysadmin", "fleet_admin")
    ]
    app = make_app(WTF_CSRF_ENABLED=True)
    checked = 0
    with app.app_context():
        for rule in app.url_map.iter_rules():
            if "POST" not in rule.methods:
                continue
            if getattr(app.view_functions[rule.endpoint], "token_only", False):
                # The integration API: no session is a way in (tests/test_access.py), so
                # there is no cross-site request to forge and no CSRF token to ask for.
                continue
            for token in tokens:
                client = app.test_client()
                if token is not None:
                    with client.session_transaction() as session:
                        session["_user_id"] = token
                        session["_fresh"] = True
                response = client.post(build_url(rule), data={"x": "1"})
                assert response.status_code == 400, (rule.rule, token)
                checked += 1
    assert checked >= 10


def test_login_form_with_csrf_on_works_in_a_real_flow(make_app, org, make_user):
    import re

    user = make_user("officer", org["a"])
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post(
            "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302
        assert "/login/code" in response.headers["Location"]
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        code = second_factor_code(user.username)
        response = client.post(
            response.headers["Location"], data={"code": code, "csrf_token": token}
        )
        assert response.status_code == 302 and response.headers["Location"].endswith("/workbench")
