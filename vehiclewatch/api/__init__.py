"""The integration API (/api/v1/): JSON for fleet platforms, described by an OpenAPI 3.1
document generated from the views (flask-smorest), with a documentation page."""

import http

from flask import Flask
from flask_smorest import Api as SmorestApi
from flask_smorest.utils import prepare_response

from ..extensions import csrf, limiter
from . import (
    admin,
    bulletins,
    dispatch,
    docs,
    guard,
    problems,
    reports,
    rounds,
    stickers,
    vehicles,
)
from .schemas import ProblemSchema

PREFIX = "/api/v1"


class Api(SmorestApi):
    """Errors are problem details: documented as application/problem+json, and handled by
    each API blueprint (the pages keep their own error pages)."""

    ERROR_SCHEMA = ProblemSchema

    def __init__(self, app: Flask):
        self._undocumented: list = []
        super().__init__(app)

    def _register_error_handlers(self):
        pass

    def register_blueprint(self, blp, **options):
        """Route now, describe when the document is first asked for: building the
        description costs more than the rest of create_app, and most apps never serve it."""
        self._app.extensions["flask-smorest"]["blp_name_to_api"][blp.name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append(blp)

    def _openapi_json(self):
        while self._undocumented:
            blp = self._undocumented.pop(0)
            blp.register_views_in_doc(self, self._app, self.spec, name=blp.name, parameters=None)
            self.spec.tag({"name": blp.name, "description": blp.description})
        return super()._openapi_json()

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, problems.PROBLEM_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "problem details", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, problems.PROBLEM_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


BLUEPRINTS = (
    vehicles.blp,
    stickers.blp,
    dispatch.trips,
    dispatch.sealings,
    reports.blp,
    rounds.blp,
    bulletins.blp,
)
for _blueprint in BLUEPRINTS:
    _blueprint.before_request(guard.authenticate)
    _blueprint.after_request(guard.audit_call)
    problems.register(_blueprint)
    csrf.exempt(_blueprint)
    # One budget per token across the API (VEHICLEWATCH_API_RATE_LIMIT).
    limiter.shared_limit(
        guard.rate_limit, scope="api", key_func=guard.rate_limit_key, error_message=None
    )(_blueprint)


def init_app(app: Flask) -> None:
    app.config.update(
        API_TITLE="vehiclewatch 一车一码 integration API",
        API_VERSION="1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": "Fleet platforms keep vehicles, trip approvals and sealing in "
                "step; case-handling systems read reports (read only). A reporter's contact is "
                "never returned: revealing a real-name reporter is an audited act of a named "
                "officer, on the officers' pages only."
            },
            "servers": [{"url": "/"}],
            "security": [{"token": []}],
            "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
        },
    )
    api = Api(app)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(
            blueprint, url_prefix=blueprint.url_prefix or f"{PREFIX}/{blueprint.name}"
        )
    docs.init_app(app)
    app.register_blueprint(admin.bp)
