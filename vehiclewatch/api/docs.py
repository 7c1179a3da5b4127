"""The API's documentation page: Swagger UI from static/apidocs/ (vendored, no CDN), started
by a static script (the CSP allows no inline script)."""

from flask import Blueprint, Flask, render_template

from ..auth.access import public

bp = Blueprint("api_docs", __name__)


@bp.get("/api/v1/docs")
@public
def page():
    return render_template("api/docs.html")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # The document is public too: it describes the API, never data.
    spec = app.view_functions["api-docs.openapi_json"]
    app.view_functions["api-docs.openapi_json"] = public(lambda: spec())
