"""The integration API: tokens, scopes, problem details, vehicles by external id, stickers."""

import re
import uuid

import pytest
from sqlalchemy import select

from vehiclewatch import audit
from vehiclewatch.audit import AuditEntry
from vehiclewatch.auth.services import create_unit
from vehiclewatch.auth.tokens import ApiToken, revoke_token
from vehiclewatch.extensions import db
from vehiclewatch.fleet.models import Vehicle
from vehiclewatch.fleet.stickers import issue_sticker

from .conftest import count_rows

CAR = {"plate": "藏A·12345", "unit": "cg-jy", "category": "other", "colour": "黑"}


@pytest.fixture
def counties(app):
    """城关区 and 东山县, each with a department, as in the demo city."""
    city = create_unit("city", "示例市", "city", None, actor=audit.SYSTEM)
    units = {"city": city}
    for code, name in (("cg", "城关区"), ("ds", "东山县")):
        units[code] = create_unit(code, name, "county", city, actor=audit.SYSTEM)
        units[f"{code}-jy"] = create_unit(
            f"{code}-jy", f"{name}教育局", "department", units[code], actor=audit.SYSTEM
        )
    return units


def post(client, url, json, headers, key=None):
    return client.post(
        url, json=json, headers=headers | {"Idempotency-Key": key or uuid.uuid4().hex}
    )


def test_a_fleet_platform_keeps_a_car_in_step(client, counties, api_token):
    headers, _token = api_token(counties["cg"], "fleet:write")
    created = client.put("/api/v1/vehicles/car-1", json=CAR, headers=headers)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["plate"] == "藏A·12345"
    renamed = client.put(
        "/api/v1/vehicles/car-1", json=CAR | {"plate": "藏A·54321"}, headers=headers
    )
    assert renamed.status_code == 200
    cars = db.session.execute(select(Vehicle)).scalars().all()
    assert [(c.plate, c.external_id) for c in cars] == [("藏A·54321", "car-1")]
    got = client.get("/api/v1/vehicles/car-1", headers=headers)
    assert got.get_json()["unit"] == "cg-jy"
    unchanged = client.get(
        "/api/v1/vehicles/car-1", headers=headers | {"If-None-Match": got.headers["ETag"]}
    )
    assert unchanged.status_code == 304
    retired = post(client, "/api/v1/vehicles/car-1/retire", {"reason": "报废"}, headers)
    assert retired.get_json()["status"] == "disposed"


def test_a_car_entered_on_the_pages_is_adopted_by_its_plate(
    client, counties, api_token, make_vehicle
):
    make_vehicle(counties["cg-jy"], "藏A·12345")
    headers, _token = api_token(counties["cg"], "fleet:write")
    response = client.put("/api/v1/vehicles/car-1", json=CAR, headers=headers)
    assert response.status_code == 200
    assert db.session.execute(select(Vehicle.external_id)).scalars().all() == ["car-1"]


def test_bulk_upsert_is_all_or_nothing_and_names_the_bad_items(client, counties, api_token):
    headers, _token = api_token(counties["cg"], "fleet:write")
    items = [
        CAR | {"external_id": "a"},
        CAR | {"external_id": "b", "plate": "not a plate"},
        CAR | {"external_id": "c", "plate": "藏A·12345"},
    ]
    response = post(client, "/api/v1/vehicles/bulk", {"items": items}, headers)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["code"] == "rows_rejected"
    assert [e["item"] for e in problem["errors"]] == [2, 3]
    assert "格式不正确" in problem["errors"][0]["message"]
    assert "重复" in problem["errors"][1]["message"]
    assert count_rows(Vehicle) == 0


def test_bulk_is_capped_at_a_thousand_items(client, counties, api_token):
    headers, _token = api_token(counties["cg"], "fleet:write")
    items = [CAR | {"external_id": f"x{n}", "plate": f"藏A·{10000 + n}"} for n in range(1001)]
    response = post(client, "/api/v1/vehicles/bulk", {"items": items}, headers)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "json.items"
    assert count_rows(Vehicle) == 0


def test_a_repeated_idempotency_key_returns_the_first_answer(client, counties, api_token):
    headers, _token = api_token(counties["cg"], "fleet:write")
    body = {"items": [CAR | {"external_id": "a"}]}
    first = post(client, "/api/v1/vehicles/bulk", body, headers, key="k1")
    again = post(client, "/api/v1/vehicles/bulk", body, headers, key="k1")
    assert first.get_json() == again.get_json() == again.get_json() | {"created": 1}
    other = post(client, "/api/v1/vehicles/bulk", {"items": []}, headers, key="k1")
    assert other.status_code == 409
    assert other.get_json()["code"] == "idempotency_key_reused"
    missing = client.post("/api/v1/vehicles/bulk", json=body, headers=headers)
    assert missing.status_code == 428
    assert count_rows(Vehicle) == 1


def test_a_county_token_cannot_touch_another_countys_cars(
    client, counties, api_token, make_vehicle
):
    make_vehicle(counties["ds-jy"], "藏A·99999", external_id="ds-car")
    headers, _token = api_token(counties["cg"], "fleet:write")
    assert client.get("/api/v1/vehicles/ds-car", headers=headers).status_code == 404
    listed = client.get("/api/v1/vehicles", headers=headers).get_json()
    assert listed["items"] == []
    put = client.put("/api/v1/vehicles/ds-car", json=CAR, headers=headers)
    assert put.status_code == 409
    into_ds = client.put("/api/v1/vehicles/new", json=CAR | {"unit": "ds-jy"}, headers=headers)
    assert into_ds.status_code == 422
    assert "不在管辖范围内" in into_ds.get_json()["errors"][0]["message"]
    retire = post(client, "/api/v1/vehicles/ds-car/retire", {"reason": "x"}, headers)
    assert retire.status_code == 404
    car = db.session.execute(select(Vehicle)).scalar_one()
    assert (car.plate, car.status, car.unit.code) == ("藏A·99999", "in_use", "ds-jy")


def test_a_revoked_token_is_refused_at_once(client, counties, api_token):
    headers, token = api_token(counties["cg"], "fleet:write")
    assert client.get("/api/v1/vehicles", headers=headers).status_code == 200
    revoke_token(token, actor=audit.SYSTEM)
    response = client.get("/api/v1/vehicles", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["code"] == "unauthorized"


def test_the_session_cookie_is_no_way_in(counties, login_as):
    client, _user = login_as("fleet_admin", counties["cg"])
    response = client.get("/api/v1/vehicles")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "缺少有效的接口令牌。"


def test_a_token_without_the_scope_is_refused(client, counties, api_token):
    headers, _token = api_token(counties["cg"], "stickers:read")
    response = client.put("/api/v1/vehicles/car-1", json=CAR, headers=headers)
    assert response.status_code == 403
    assert response.get_json()["code"] == "scope_missing"
    assert count_rows(Vehicle) == 0


def test_validation_errors_name_the_field(client, counties, api_token):
    headers, _token = api_token(counties["cg"], "fleet:write")
    response = client.put(
        "/api/v1/vehicles/car-1", json=CAR | {"category": "limousine"}, headers=headers
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["json.category"]


def test_every_call_is_audited_without_its_payload(client, counties, api_token):
    headers, token = api_token(counties["cg"], "fleet:write", name="省平台")
    client.put("/api/v1/vehicles/car-1", json=CAR, headers=headers)
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "api_call")
    ).scalar_one()
    assert entry.actor == "api:省平台"
    assert '"status": 201' in entry.after and "藏A" not in entry.after
    assert db.session.get(ApiToken, token.id).last_used_at is not None


def test_list_pages_with_a_cursor(client, counties, api_token, make_vehicle):
    for n in range(5):
        make_vehicle(counties["cg-jy"], f"藏A·2000{n}")
    headers, _token = api_token(counties["cg"], "fleet:write")
    first = client.get("/api/v1/vehicles?limit=3", headers=headers).get_json()
    rest = client.get(
        f"/api/v1/vehicles?limit=3&cursor={first['next_cursor']}", headers=headers
    ).get_json()
    plates = [v["plate"] for v in first["items"] + rest["items"]]
    assert plates == [f"藏A·2000{n}" for n in range(5)]
    assert rest["next_cursor"] is None


def test_stickers_read_and_reissue(client, counties, api_token, make_vehicle):
    car = make_vehicle(counties["cg-jy"], "藏A·30000", external_id="s-1")
    old = issue_sticker(car, actor=audit.SYSTEM)
    read, _token = api_token(counties["cg"], "stickers:read")
    status = client.get("/api/v1/stickers/s-1", headers=read).get_json()
    assert status["live"]["short_code"] == old.display_code
    png = client.get("/api/v1/stickers/s-1/sticker.png", headers=read)
    assert png.mimetype == "image/png" and png.data.startswith(b"\x89PNG")
    svg = client.get("/api/v1/stickers/s-1/sticker.svg", headers=read)
    assert svg.mimetype == "image/svg+xml"
    refused = post(client, "/api/v1/stickers/s-1/reissue", {"reason": "污损"}, read)
    assert refused.status_code == 403
    write, _token = api_token(counties["cg"], "stickers:write")
    reissued = post(client, "/api/v1/stickers/s-1/reissue", {"reason": "污损"}, write)
    assert reissued.status_code == 200
    body = reissued.get_json()
    assert body["live"]["generation"] == 2
    assert body["history"][0]["revoked_at"] is not None


def test_tokens_are_refused_over_plain_http_where_the_service_is_https(
    make_app, counties, api_token
):
    headers, _token = api_token(counties["cg"], "fleet:write")
    https_app = make_app(PUBLIC_BASE_URL="https://vw.example.cn")
    client = https_app.test_client()
    assert client.get("/api/v1/vehicles", headers=headers).status_code == 403
    secure = client.get("/api/v1/vehicles", headers=headers, base_url="https://vw.example.cn")
    assert secure.status_code == 200


def test_only_a_keyed_hash_of_the_token_is_stored(counties, api_token):
    headers, token = api_token(counties["cg"], "fleet:write")
    clear = headers["Authorization"].removeprefix("Bearer ")
    row = db.session.get(ApiToken, token.id)
    assert clear not in (row.token_hash, row.name) and len(row.token_hash) == 64


def test_the_system_admin_issues_lists_and_revokes_tokens(app, counties, login_as):
    admin, _user = login_as("sysadmin", counties["city"])
    issued = admin.post(
        "/admin/api-tokens",
        data={"name": "城关平台", "unit_id": counties["cg"].id, "scopes": ["fleet:write"]},
    )
    page = issued.get_data(as_text=True)
    assert issued.status_code == 200 and "令牌已签发" in page
    clear = re.search(r"vwt_[A-Za-z0-9_-]+", page)[0]
    platform = app.test_client()
    headers = {"Authorization": f"Bearer {clear}"}
    assert platform.get("/api/v1/vehicles", headers=headers).status_code == 200
    listing = admin.get("/admin/api-tokens").get_data(as_text=True)
    assert "城关平台" in listing and clear not in listing and "从未" not in listing
    token = db.session.execute(select(ApiToken)).scalar_one()
    admin.post(f"/admin/api-tokens/{token.id}/revoke")
    assert platform.get("/api/v1/vehicles", headers=headers).status_code == 401


def test_the_documentation_page_runs_no_inline_script(client):
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.DOTALL)
    assert scripts and all(
        "src=" in attributes and not body.strip() for attributes, body in scripts
    )
    for src in re.findall(r'src="([^"]+)"', html):
        with client.get(src) as asset:
            assert asset.status_code == 200, src
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_rate_limits_count_per_token(make_app, counties, api_token):
    limited = make_app(API_RATE_LIMIT="2/minute").test_client()
    first, _token = api_token(counties["cg"], "fleet:write")
    second, _token = api_token(counties["cg"], "fleet:write")
    statuses = [limited.get("/api/v1/vehicles", headers=first).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = limited.get("/api/v1/vehicles", headers=first)
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["code"] == "rate_limited"
    assert limited.get("/api/v1/vehicles", headers=second).status_code == 200
