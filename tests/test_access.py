"""Deny by default: a role × route matrix over every rule in app.url_map, and a scope × route
matrix over the integration API's token-only routes."""

import pytest
from werkzeug.routing import AnyConverter, IntegerConverter

PUBLIC = "public"
ANY = "any logged-in user"
# The second step of a login: reachable without a session, but only after a password was
# accepted (else it sends the visitor back to the login page).
LOGIN_STEP = "login step"
EXPECTED = {
    "main.index": PUBLIC,
    "main.icon": PUBLIC,
    "auth.login": PUBLIC,
    "auth.second_factor": LOGIN_STEP,
    "auth.enrol": LOGIN_STEP,
    "scan.vehicle": PUBLIC,
    "scan.lookup": PUBLIC,
    "scan.report": PUBLIC,
    "scan.report_by_plate": PUBLIC,
    "scan.track": PUBLIC,
    "scan.add_information": PUBLIC,
    "scan.object_to_reply": PUBLIC,
    "review.photo": {"officer", "leader"},
    "review.queue": {"officer", "leader"},
    "review.todo": {"officer", "leader"},
    "review.report": {"officer", "leader"},
    "review.reveal": {"officer", "leader"},
    "review.acknowledge": {"officer", "leader"},
    "review.legal_hold": {"officer", "leader"},
    "review.act": {"officer", "leader"},
    "review.enter": {"officer", "leader"},
    "review.dashboard": {"officer", "leader"},
    "review.export": {"officer", "leader"},
    # No login; /metrics answers only the allow-list (tests/test_ops.py).
    "ops.healthz": PUBLIC,
    "ops.readyz": PUBLIC,
    "ops.scrape": PUBLIC,
    "bulletins.published": PUBLIC,
    "bulletins.page": PUBLIC,
    "bulletins.pdf": PUBLIC,
    "bulletins.index": {"officer", "leader"},
    "bulletins.new": {"officer", "leader"},
    "bulletins.edit": {"officer", "leader"},
    "bulletins.approve": {"officer", "leader"},
    "bulletins.publish": {"officer", "leader"},
    "bulletins.withdraw": {"officer", "leader"},
    "bulletins.correct": {"officer", "leader"},
    "bulletins.preview_pdf": {"officer", "leader"},
    "calendar.holidays": {"sysadmin"},
    "calendar.edit_holiday": {"sysadmin"},
    "calendar.import_holidays": {"sysadmin"},
    "calendar.delete_holiday": {"sysadmin"},
    "campaigns.campaigns": {"officer", "leader"},
    "campaigns.spot_checks": {"officer", "leader"},
    "campaigns.record_spot_check": {"officer", "leader"},
    "campaigns.enter_public_value": {"officer", "leader"},
    "campaigns.public_draws": PUBLIC,
    "campaigns.public_draw": PUBLIC,
    "main.workbench": ANY,
    "auth.logout": ANY,
    "auth.change_password": ANY,
    "auth.account_sessions": ANY,
    "auth.end_other_sessions": ANY,
    "auth.confirmations": {"leader"},
    "auth.decide_change": {"leader"},
    "auth.reset_totp": {"sysadmin"},
    "auth.users": {"sysadmin"},
    "auth.new_user": {"sysadmin"},
    "auth.edit_user": {"sysadmin"},
    "auth.units": {"sysadmin"},
    "auth.new_unit": {"sysadmin"},
    "auth.edit_unit": {"sysadmin"},
    "fleet.vehicles": {"fleet_admin"},
    "fleet.new_vehicle": {"fleet_admin"},
    "fleet.edit_vehicle": {"fleet_admin"},
    "fleet.retire_vehicle": {"fleet_admin"},
    "fleet.import_vehicles": {"fleet_admin"},
    "fleet.export_vehicles": {"fleet_admin"},
    "fleet.issue_sticker": {"fleet_admin"},
    "fleet.reissue_sticker": {"fleet_admin"},
    "fleet.download_sticker": {"fleet_admin"},
    "fleet.print_stickers": {"fleet_admin"},
    "fleet.print_queue": {"fleet_admin"},
    "dispatch.trips": {"fleet_admin"},
    "dispatch.new_trip": {"fleet_admin"},
    "dispatch.import_trips": {"fleet_admin"},
    "dispatch.sealings": {"fleet_admin"},
    "dispatch.new_sealing": {"fleet_admin"},
    "dispatch.import_sealings": {"fleet_admin"},
    "dispatch.record": {"fleet_admin"},
    "dispatch.amend_record": {"fleet_admin"},
    "dispatch.cancel_record": {"fleet_admin"},
    "api_admin.index": {"sysadmin"},
    "api_admin.create": {"sysadmin"},
    "api_admin.revoke": {"sysadmin"},
    "api_admin.decide": {"leader"},
    "api_admin.webhooks_index": {"sysadmin"},
    "api_admin.subscribe": {"sysadmin"},
    "api_admin.disable_webhook": {"sysadmin"},
    "api_admin.deliveries": {"sysadmin"},
    "api_admin.redeliver": {"sysadmin"},
    # The API's description and its documentation page describe it, never data.
    "api-docs.openapi_json": PUBLIC,
    "api_docs.page": PUBLIC,
}
# Token-only routes (the integration API) and the one scope each needs; a session is no way in.
ANY_TOKEN = "any working token"
TOKEN_ONLY = {
    "vehicles.list_vehicles": "fleet:write",
    "vehicles.get_vehicle": "fleet:write",
    "vehicles.put_vehicle": "fleet:write",
    "vehicles.bulk_vehicles": "fleet:write",
    "vehicles.retire": "fleet:write",
    "trips.list_records": "fleet:write",
    "trips.create": "fleet:write",
    "trips.create_many": "fleet:write",
    "trips.get": "fleet:write",
    "trips.amend": "fleet:write",
    "trips.cancel": "fleet:write",
    "sealings.list_records": "fleet:write",
    "sealings.create": "fleet:write",
    "sealings.create_many": "fleet:write",
    "sealings.get": "fleet:write",
    "sealings.amend": "fleet:write",
    "sealings.cancel": "fleet:write",
    "stickers.sticker_status": "stickers:read",
    "stickers.sticker_png": "stickers:read",
    "stickers.sticker_svg": "stickers:read",
    "stickers.reissue": "stickers:write",
    "reports.list_reports": "reports:read",
    "reports.get_report": "reports:read",
    "reports.photo": "reports:read",
    "rounds.list_rounds": "reports:read",
    "rounds.get_round": "reports:read",
    # Published bulletins are public: any working token reads them.
    "api_bulletins.list_bulletins": ANY_TOKEN,
    "api_bulletins.get_bulletin": ANY_TOKEN,
}
ROLES = ("sysadmin", "fleet_admin", "officer", "leader")
# What an anonymous visitor gets from each public route when called with placeholder values
# (id 1, token "csv"): nothing by that id or token exists, so a detail page is a 404.
ANONYMOUS = {
    "main.index": 200,
    "main.icon": 200,
    "auth.login": 200,
    "scan.vehicle": 404,
    "scan.lookup": 200,
    "scan.report": 404,
    "scan.report_by_plate": 200,
    "scan.track": 200,
    "scan.add_information": 404,
    "scan.object_to_reply": 404,
    "ops.healthz": 200,
    "ops.readyz": 200,
    "ops.scrape": 200,  # the test client comes from 127.0.0.1, in the default allow-list
    "bulletins.published": 200,
    "bulletins.page": 404,
    "bulletins.pdf": 404,
    "campaigns.public_draws": 200,
    "campaigns.public_draw": 404,
    "api-docs.openapi_json": 200,
    "api_docs.page": 200,
}


def build_url(rule) -> str:
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg]
        if isinstance(converter, IntegerConverter):
            values[arg] = 1
        elif isinstance(converter, AnyConverter):
            values[arg] = min(converter.items)
        else:
            values[arg] = "csv"
    return rule.build(values)[1]


def _rules(app, token_only: bool = False):
    return [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint != "static" and (r.endpoint in TOKEN_ONLY) == token_only
    ]


def _method(rule) -> str:
    return next(m for m in ("GET", "POST", "PUT", "PATCH") if m in rule.methods)


def test_every_route_is_classified(app):
    assert {r.endpoint for r in _rules(app)} == set(EXPECTED)
    assert {r.endpoint for r in _rules(app, token_only=True)} == set(TOKEN_ONLY)
    assert {e for e, who in EXPECTED.items() if who == PUBLIC} == set(ANONYMOUS)


def test_anonymous_is_sent_to_login_except_on_public_routes(app, org):
    client = app.test_client()
    for rule in _rules(app):
        method = "GET" if "GET" in rule.methods else "POST"
        # Closed at once: a file sent unread (the icons) would otherwise stay open.
        with client.open(build_url(rule), method=method) as response:
            status, location = response.status_code, response.headers.get("Location", "")
        if EXPECTED[rule.endpoint] == PUBLIC:
            assert status == ANONYMOUS[rule.endpoint], rule.rule
        else:
            assert status == 302, rule.rule
            assert "/login" in location


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(app, org, login_as, role, make_vehicle, make_user):
    make_vehicle(org["city-ga"])  # id 1 exists for routes that take an id
    make_user("fleet_admin", org["city-ga"])  # account 1 is not the one signed in
    unit = org["city"]
    client, _ = login_as(role, unit)
    for rule in _rules(app):
        if rule.endpoint == "auth.logout":
            continue
        expected = EXPECTED[rule.endpoint]
        method = "GET" if "GET" in rule.methods else "POST"
        with client.open(build_url(rule), method=method) as response:
            status = response.status_code
        if expected in (PUBLIC, ANY, LOGIN_STEP) or role in expected:
            assert status not in (401, 403), (role, rule.rule, status)
        else:
            assert status in (403, 404), (role, rule.rule, status)


@pytest.mark.parametrize("role", (None, *ROLES))
def test_token_only_routes_refuse_anonymous_visitors_and_sessions(app, org, login_as, role):
    client = app.test_client() if role is None else login_as(role, org["city"])[0]
    for rule in _rules(app, token_only=True):
        response = client.open(build_url(rule), method=_method(rule))
        assert response.status_code == 401, (role, rule.rule)
        assert response.mimetype == "application/problem+json"


def test_each_token_only_route_needs_its_scope(app, org, api_token):
    from vehiclewatch.auth.tokens import SCOPES

    tokens = {scope: api_token(org["city"], scope)[0] for scope in SCOPES}
    client = app.test_client()
    for rule in _rules(app, token_only=True):
        needed = TOKEN_ONLY[rule.endpoint]
        for scope, headers in tokens.items():
            headers = headers | {"Idempotency-Key": f"{scope}-{rule.endpoint}"}
            response = client.open(build_url(rule), method=_method(rule), headers=headers)
            if scope == needed or needed == ANY_TOKEN:
                assert response.status_code not in (401, 403), (scope, rule.rule)
            else:
                assert response.status_code == 403, (scope, rule.rule)
                assert response.get_json()["code"] == "scope_missing"
