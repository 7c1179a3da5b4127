"""vehiclewatch: 一车一码 — QR stickers on official cars, public reports, officers' review."""

import os
import sys
from pathlib import Path

from flask import Flask, g, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DataError

from . import languages
from .clients import trust_proxies
from .config import load_config
from .extensions import babel, csrf, db, limiter, login_manager, migrate
from .inputs import CleanRequest, IdConverter
from .logs import configure as configure_logging

PACKAGE_DIR = Path(__file__).resolve().parent
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"


def asset_dir(name: str) -> Path:
    """templates/, static/ and seeds/ sit beside the package in a checkout; a wheel
    installs them under <prefix>/share/vehiclewatch/."""
    beside = PACKAGE_DIR.parent / name
    if beside.is_dir():
        return beside
    return Path(sys.prefix) / "share" / "vehiclewatch" / name


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    """The application. Its instance folder (the SQLite database, photos) is `instance_path`,
    else VEHICLEWATCH_INSTANCE_PATH, else ./instance."""
    app = Flask(
        __name__,
        instance_path=instance_path
        or os.environ.get("VEHICLEWATCH_INSTANCE_PATH")
        or str(Path.cwd() / "instance"),
        template_folder=str(asset_dir("templates")),
        static_folder=str(asset_dir("static")),
    )
    # Before any route exists: every <int:…> is an id the database can hold.
    app.url_map.converters["int"] = IdConverter
    app.request_class = CleanRequest
    load_config(app, test_config)
    configure_logging(app)
    trust_proxies(app)
    os.makedirs(app.instance_path, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    csrf.init_app(app)
    limiter.init_app(app)
    languages.init_app(app, babel)
    _init_requests(app)
    _init_login(app)
    _register_blueprints(app)
    _connect_signals()
    _register_cli(app)
    _register_templates(app)
    _register_errors(app)
    return app


def _init_requests(app: Flask) -> None:
    """Request ids, metrics and the request log; before the login check, which may answer
    a request itself."""
    from .ops.requests import init_app

    init_app(app)


def _init_login(app: Flask) -> None:
    from .auth.access import enforce_login
    from .auth.sessions import load_session

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("请先登录。")
    login_manager.login_message_category = "warning"

    @login_manager.user_loader
    def load_user(token: str):
        user, g.session_end_reason = load_session(token)
        return user

    app.before_request(enforce_login)


def _register_blueprints(app: Flask) -> None:
    from .api import init_app as init_api
    from .auth.views import bp as auth_bp
    from .bulletins.views import bp as bulletins_bp
    from .calendar.views import bp as calendar_bp
    from .campaigns.views import bp as campaigns_bp
    from .dispatch.views import bp as dispatch_bp
    from .fleet.views import bp as fleet_bp
    from .main.views import bp as main_bp
    from .ops.views import bp as ops_bp
    from .review.views import bp as review_bp
    from .scan.views import bp as scan_bp
    from .security import set_security_headers

    for bp in (
        main_bp,
        auth_bp,
        fleet_bp,
        dispatch_bp,
        scan_bp,
        review_bp,
        calendar_bp,
        campaigns_bp,
        bulletins_bp,
        ops_bp,
    ):
        app.register_blueprint(bp)
    init_api(app)
    app.after_request(set_security_headers)


def _connect_signals() -> None:
    from .reports.evidence import connect_signals

    connect_signals()


def _register_cli(app: Flask) -> None:
    from .auditcheck import audit_cli
    from .auth.cli import api_token_cli, create_user_command
    from .backup.cli import backup_command, restore_command
    from .calendar.cli import holidays_cli
    from .campaigns.cli import spot_check_cli
    from .cli import init_command, serve_command
    from .demo import demo_command
    from .fleet.cli import (
        export_vehicles_command,
        import_vehicles_command,
        print_stickers_command,
    )
    from .reports.cli import keys_cli, photos_cli, retention_cli
    from .seeding import seed_command
    from .webhooks.cli import webhooks_cli

    for command in (
        api_token_cli,
        audit_cli,
        backup_command,
        restore_command,
        create_user_command,
        demo_command,
        holidays_cli,
        init_command,
        serve_command,
        export_vehicles_command,
        import_vehicles_command,
        print_stickers_command,
        photos_cli,
        keys_cli,
        retention_cli,
        seed_command,
        spot_check_cli,
        webhooks_cli,
    ):
        app.cli.add_command(command)


def _register_templates(app: Flask) -> None:
    from .languages import local_time

    app.jinja_env.filters["localtime"] = local_time
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals["hotline_local"] = lambda: app.config["HOTLINE_LOCAL"]


def _register_errors(app: Flask) -> None:
    messages = {
        400: lambda: _("请求无效。"),
        403: lambda: _("您没有权限访问此页面。"),
        404: lambda: _("页面不存在。"),
        405: lambda: _("不支持此操作。"),
        413: lambda: _("上传的内容过大，请压缩照片或减少数量后重试。"),
        429: lambda: _("操作过于频繁，请稍后再试。"),
        500: lambda: _("服务暂时出错，请稍后再试。"),
    }

    from .api import PREFIX as API_PREFIX
    from .api.problems import problem_response

    def handler(error):
        code = getattr(error, "code", 500) or 500
        if code == 500:
            db.session.rollback()
        if request.path.startswith(API_PREFIX + "/"):
            # An API address no route matched: answered as the API answers.
            return problem_response(code)
        return render_template("error.html", code=code, message=messages[code]()), code

    for code in messages:
        app.register_error_handler(code, handler)

    def out_of_range(error):
        # A value no column can hold (a number past its range, in a form field the view did
        # not bound): bad input, not a fault. SQLite's driver raises OverflowError, PostgreSQL
        # a DataError.
        db.session.rollback()
        return render_template("error.html", code=400, message=messages[400]()), 400

    app.register_error_handler(OverflowError, out_of_range)
    app.register_error_handler(DataError, out_of_range)
