"""The OpenAPI document drives schemathesis against the live app, a token per scope: no 5xx,
every answer matches the document, and data outside it is refused with problem details."""

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from vehiclewatch import audit
from vehiclewatch.api.guard import ANY_SCOPE
from vehiclewatch.auth.tokens import SCOPES
from vehiclewatch.bulletins import services as bulletins
from vehiclewatch.fleet.stickers import issue_sticker

# Bounded, so that the suite keeps its time budget: examples per operation and mode.
EXAMPLES = 6


@pytest.fixture
def live_api(app, org, make_vehicle, make_report, make_user, spring):
    """The app with a car to find (external id "car-1", with a sticker), a holiday, a
    real-name report (id 1) in the tokens' scope and a published bulletin (id 1), and its
    OpenAPI document as schemathesis reads it. The report has no photo: a photo sent as a
    file stays open in a response schemathesis never closes (test_api_reports reads them)."""
    car = make_vehicle(org["a-jy"], plate="藏A·11111", external_id="car-1")
    issue_sticker(car, actor=audit.SYSTEM)
    make_report(car, reporter_name="实名", reporter_phone="13900000000")
    leader = make_user("leader", org["a"])
    bulletin = bulletins.create_draft("2026-02-16", org["a"], make_user("officer", org["a"]))
    bulletins.publish(bulletins.approve(bulletin, leader), leader)
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    loaded.config.generation.update(max_examples=EXAMPLES)
    return loaded


@pytest.fixture
def tokens(org, api_token):
    made = {scope: api_token(org["a"], scope)[0] for scope in SCOPES}
    return made | {ANY_SCOPE: made["stickers:read"]}


def test_the_document_is_openapi_3_1(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


def _scope(app, operation) -> str:
    """The scope the operation's view needs (its path filled with placeholder values)."""
    path = re.sub(r"\{(\w+)\}", lambda m: "x" if m[1] == "external_id" else "1", operation.path)
    endpoint, _args = app.url_map.bind("localhost").match(path, operation.method.upper())
    return app.view_functions[endpoint].api_scope


def _conformance(operation, mode, headers):
    """A hypothesis test of one operation, calling it with a token of the scope it needs."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def keeps_to_it(case):
        # Data the document allows may still break a rule the document cannot state (a
        # plate's format, a unit outside the token's): a problem, not a conformance fault.
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    return keeps_to_it


@pytest.mark.parametrize("mode", list(GenerationMode))
def test_the_api_keeps_to_its_document(app, live_api, tokens, mode):
    """Driven by hypothesis directly (schemathesis' pytest plugin needs an older pytest)."""
    for result in live_api.get_all_operations():
        operation = result.ok()
        _conformance(operation, mode, tokens[_scope(app, operation)])()


@pytest.mark.parametrize(
    "path, parameters",
    [
        ("/api/v1/reports", {}),
        ("/api/v1/reports/{report_id}", {"report_id": 1}),
        ("/api/v1/rounds", {}),
        ("/api/v1/rounds/{key}", {"key": "2026-02-16"}),
        ("/api/v1/bulletins", {}),
        ("/api/v1/bulletins/{bulletin_id}", {"bulletin_id": 1}),
    ],
)
def test_the_reads_answer_as_documented(app, live_api, tokens, path, parameters):
    """Real data, nulls and all, matches the document (generated ids mostly miss)."""
    operation = live_api[path]["GET"]
    case = operation.Case(path_parameters=parameters)
    response = case.call_and_validate(headers=tokens[_scope(app, operation)])
    assert response.status_code == 200
