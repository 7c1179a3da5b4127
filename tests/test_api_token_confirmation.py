"""Four eyes on API tokens: a token that reads case content is refused until a leader of its
unit's jurisdiction, not the one who asked for it, confirms it; refusing revokes it."""

import re

import pytest
from sqlalchemy import select

from vehiclewatch import audit
from vehiclewatch.audit import AuditEntry
from vehiclewatch.auth.scope import NotPermitted
from vehiclewatch.auth.tokens import ApiToken, authenticate, confirm_token, create_token
from vehiclewatch.extensions import db
from vehiclewatch.fleet.stickers import issue_sticker


def _audited(token: ApiToken) -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(AuditEntry.action, AuditEntry.actor)
        .where(AuditEntry.object_type == "api_token", AuditEntry.object_id == str(token.id))
        .order_by(AuditEntry.seq)
    )
    return [tuple(row) for row in rows]


def _listing(admin) -> str:
    return admin.get("/admin/api-tokens").get_data(as_text=True)


def test_a_case_reading_token_works_once_a_leader_of_its_county_confirms_it(
    app, org, login_as, make_vehicle
):
    issue_sticker(make_vehicle(org["a-jy"], "藏A·30000", external_id="s-1"), actor=audit.SYSTEM)
    admin, sysadmin = login_as("sysadmin", org["city"])
    leader, leader_a = login_as("leader", org["a"])
    stranger, _leader_b = login_as("leader", org["b"])
    issued = admin.post(
        "/admin/api-tokens",
        data={
            "name": "纪委平台",
            "unit_id": org["a"].id,
            "scopes": ["reports:read", "stickers:read"],
        },
    )
    page = issued.get_data(as_text=True)
    assert issued.status_code == 200 and "须经该单位所属辖区的领导" in page
    headers = {"Authorization": f"Bearer {re.search(r'vwt_[A-Za-z0-9_-]+', page)[0]}"}
    platform = app.test_client()
    refused = platform.get("/api/v1/stickers/s-1", headers=headers)
    assert refused.status_code == 401 and refused.get_json()["code"] == "unauthorized"
    assert "待确认" in _listing(admin)
    token = db.session.execute(select(ApiToken)).scalar_one()

    # Neither the system admin who asked nor a leader of another county decides.
    decision = f"/admin/api-tokens/{token.id}/decision"
    assert admin.post(decision, data={"decision": "confirm"}).status_code == 403
    assert "纪委平台" not in stranger.get("/account/confirmations").get_data(as_text=True)
    assert stranger.post(decision, data={"decision": "confirm"}).status_code == 404
    assert platform.get("/api/v1/stickers/s-1", headers=headers).status_code == 401

    assert "纪委平台" in leader.get("/account/confirmations").get_data(as_text=True)
    confirmed = leader.post(decision, data={"decision": "confirm"}, follow_redirects=True)
    assert "已确认，令牌可以使用。" in confirmed.get_data(as_text=True)
    assert platform.get("/api/v1/stickers/s-1", headers=headers).status_code == 200
    assert "已确认" in _listing(admin) and "待确认" not in _listing(admin)
    row = db.session.execute(select(ApiToken.confirmed_by_id, ApiToken.revoked_at)).one()
    assert tuple(row) == (leader_a.id, None)
    assert _audited(token) == [
        ("api_token_requested", sysadmin.username),
        ("api_token_confirmed", leader_a.username),
        ("api_call", "api:纪委平台"),
    ]


def test_a_refused_token_is_revoked_and_the_command_line_waits_too(org, login_as, runner):
    created = runner.invoke(
        args=["api-token", "create", "运维签发", "--unit", "a", "--scope", "reports:read"]
    )
    assert created.exit_code == 0, created.output
    clear = re.search(r"^vwt_\S+$", created.output, re.MULTILINE)[0]
    assert "refused until a leader" in created.output
    listed = runner.invoke(args=["api-token", "list"]).output
    assert "运维签发\ta\treports:read\tlast used never\tpending a leader's confirmation" in listed
    assert authenticate(clear) is None
    leader, leader_a = login_as("leader", org["a"])
    token = db.session.execute(select(ApiToken)).scalar_one()
    refused = leader.post(
        f"/admin/api-tokens/{token.id}/decision",
        data={"decision": "refuse"},
        follow_redirects=True,
    )
    assert "已拒绝，令牌已吊销。" in refused.get_data(as_text=True)
    assert db.session.execute(select(ApiToken.revoked_at)).scalar_one() is not None
    assert authenticate(clear) is None
    db.session.expire_all()  # the command runs in this test's session, which read the token
    assert "\trevoked " in runner.invoke(args=["api-token", "list"]).output
    again = leader.post(f"/admin/api-tokens/{token.id}/decision", data={"decision": "confirm"})
    assert again.status_code == 404
    assert db.session.execute(select(ApiToken.confirmed_at)).scalar_one() is None
    assert _audited(token) == [
        ("api_token_requested", audit.SYSTEM.username),
        ("api_token_refused", leader_a.username),
    ]


def test_the_domain_refuses_the_requester_and_other_jurisdictions(org, make_user):
    leader_a = make_user("leader", org["a"])
    other_a = make_user("leader", org["a"])
    leader_b = make_user("leader", org["b"])
    token, clear = create_token("自请", org["a-jy"], ["reports:read"], actor=leader_a)
    for outsider in (leader_a, leader_b):
        with pytest.raises(NotPermitted):
            confirm_token(token, outsider, confirm=True)
    assert db.session.execute(select(ApiToken.confirmed_at)).scalar_one() is None
    confirm_token(token, other_a, confirm=True)
    assert authenticate(clear).scopes == {"reports:read"}


def test_without_a_leader_in_the_county_the_level_above_confirms(org, make_user):
    city_leader = make_user("leader", org["city"])
    token, clear = create_token("无县领导", org["b"], ["reports:read"], actor=audit.SYSTEM)
    confirm_token(token, city_leader, confirm=True)
    assert authenticate(clear) is not None


def test_other_scopes_work_at_once_until_revoked(org, runner):
    token, clear = create_token("车辆", org["a"], ["fleet:write"], actor=audit.SYSTEM)
    assert token.state == "confirmed" and authenticate(clear) is not None
    assert (
        "车辆\ta\tfleet:write\tlast used never\tactive"
        in runner.invoke(args=["api-token", "list"]).output
    )
    runner.invoke(args=["api-token", "revoke", "车辆"])
    assert authenticate(clear) is None
    assert _audited(token) == [
        ("api_token_created", audit.SYSTEM.username),
        ("api_token_revoked", audit.SYSTEM.username),
    ]
