"""Errors as RFC 9457 problem details (application/problem+json): a stable `code`, the
Chinese message the pages show as `title`, and for invalid input the fields at fault."""

from flask import Response, json
from flask_babel import gettext as _
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from ..extensions import db
from ..tables import ImportRejected

PROBLEM_TYPE = "application/problem+json"
# The message each status gets when nothing more specific is said (the pages' own words).
STATUS_MESSAGES = {
    400: lambda: _("请求无效。"),
    401: lambda: _("缺少有效的接口令牌。"),
    403: lambda: _("您没有权限访问此页面。"),
    404: lambda: _("页面不存在。"),
    405: lambda: _("不支持此操作。"),
    409: lambda: _("与现有数据冲突。"),
    412: lambda: _("数据已被修改，请重新读取。"),
    413: lambda: _("上传的内容过大，请压缩照片或减少数量后重试。"),
    415: lambda: _("请求须为 JSON。"),
    422: lambda: _("请求无效。"),
    428: lambda: _("缺少 Idempotency-Key 请求头。"),
    429: lambda: _("操作过于频繁，请稍后再试。"),
    500: lambda: _("服务暂时出错，请稍后再试。"),
}
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    428: "idempotency_key_required",
    429: "rate_limited",
    500: "server_error",
}


class Problem(Exception):
    """Raised by an API view: the answer is this problem."""

    def __init__(self, status: int, code: str, title: str | None = None, errors=None):
        super().__init__(code)
        self.status, self.code, self.title, self.errors = status, code, title, errors


def problem_response(
    status: int, code: str | None = None, title: str | None = None, errors=None
) -> Response:
    body = {
        "type": "about:blank",
        "status": status,
        "code": code or STATUS_CODES.get(status, "error"),
        "title": title or STATUS_MESSAGES.get(status, STATUS_MESSAGES[400])(),
    }
    if errors:
        body["errors"] = errors
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)


def _field_errors(messages, prefix: str = "") -> list[dict]:
    """webargs' nested {location: {field: [messages]}} as a flat list naming each field."""
    found = []
    for key, value in messages.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            found.extend(_field_errors(value, name))
        else:
            found.extend({"field": name, "message": str(m)} for m in value)
    return found


def handle_http(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        db.session.rollback()
    messages = (getattr(error, "data", None) or {}).get("messages")
    if status == 422 and messages:
        return problem_response(422, "invalid", errors=_field_errors(messages))
    response = problem_response(status)
    if status == 405 and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def handle_problem(error: Problem) -> Response:
    return problem_response(error.status, error.code, error.title, error.errors)


def handle_rejected(error: ImportRejected) -> Response:
    """Rows that fail the import's checks: `item` is the position in the request (from 1)."""
    errors = [{"item": e.line, "message": e.message} for e in error.errors]
    return problem_response(422, "rows_rejected", _("数据未导入：以下各项有误。"), errors)


def handle_out_of_range(error: Exception) -> Response:
    """A value no column can hold (SQLite's OverflowError, PostgreSQL's DataError)."""
    db.session.rollback()
    return problem_response(400)


def register(blueprint) -> None:
    # By status as well: Flask prefers the app's handler for a status (its HTML error page)
    # to a blueprint's handler for a class.
    for status in STATUS_MESSAGES:
        blueprint.register_error_handler(status, handle_http)
    blueprint.register_error_handler(HTTPException, handle_http)
    blueprint.register_error_handler(Problem, handle_problem)
    blueprint.register_error_handler(ImportRejected, handle_rejected)
    blueprint.register_error_handler(OverflowError, handle_out_of_range)
    blueprint.register_error_handler(DataError, handle_out_of_range)
