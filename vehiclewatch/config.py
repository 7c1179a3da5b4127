"""Configuration defaults; secrets and the database come from the environment."""

import os

DEFAULT_SECRET_KEY = "insecure-development-secret-key"
# A Fernet key for development only; production refuses to start with it.
DEFAULT_CONTACT_KEY = "ZGV2LW9ubHktY29udGFjdC1rZXktMDEyMzQ1Njc4OWE="
DEFAULT_RECEIPT_KEY = "insecure-development-receipt-key"
DEFAULT_AUDIT_KEY = "insecure-development-audit-key"


class Defaults:
    SECRET_KEY = DEFAULT_SECRET_KEY
    CONTACT_KEYS = DEFAULT_CONTACT_KEY
    # HMAC keys for receipt codes, newest first (comma-separated); an old key stays until
    # `vehiclewatch keys receipt-status` shows no report depends on it.
    RECEIPT_KEY = DEFAULT_RECEIPT_KEY
    # HMAC key for the audit chain; never stored in the database. Changing it makes the
    # entries written since the switch unverifiable.
    AUDIT_KEY = DEFAULT_AUDIT_KEY
    REPORT_MAX_AGE_DAYS = 30
    # A campaign runs this many days before and after its holiday periods (节前提醒、节后问责).
    CAMPAIGN_DAYS_BEFORE = 7
    CAMPAIGN_DAYS_AFTER = 7
    OBJECTION_WINDOW_DAYS = 30
    # Retention (README "Retention"), counted from the day a report can no longer change.
    RETAIN_CONTACT_DAYS = 180
    RETAIN_PHOTO_DAYS = 365
    # Photos of reports found 属实/部分属实 with an outcome: as long as the case may be reviewed.
    RETAIN_FINDING_DAYS = 1825
    SQLALCHEMY_DATABASE_URI = None  # set in load_config from DATABASE_URL or instance/
    # pool_pre_ping: a connection the database closed (a restart, pg_terminate_backend) is
    # noticed and replaced before a request uses it, instead of failing that request.
    # (load_config adds hide_parameters to whatever is set: an error's message, and so the
    # log, never carries the values of a statement — contacts, plates.)
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # The role that owns the schema and runs migrations (PostgreSQL); unset: DATABASE_URL's.
    MIGRATION_DATABASE_URL = None
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    TIMEZONE = "Asia/Shanghai"
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    # Languages of the citizens' pages (comma-separated among bo, zh, en), the switch's order;
    # `make demo` offers bo,zh,en. A city outside Tibet keeps Chinese alone.
    PUBLIC_LOCALES = "zh"
    # The language of a first visit whose browser asks for none of them.
    DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    HOTLINE_LOCAL = "0891-12388"
    # The issuing commission's 文号 prefix: bulletins are numbered 示纪通〔2026〕3号, a
    # sequence per year assigned at approval.
    BULLETIN_NUMBER_PREFIX = "示纪通"
    # A CJK TrueType/TrueType-collection font to embed in sticker PDFs and PNGs; when unset,
    # a system font (Debian's fonts-wqy-microhei) is used, else reportlab's STSong-Light.
    CJK_FONT_PATH = None
    # "zh", or "bo,zh": the fixed sticker texts in Tibetan above Chinese (from the glossary).
    STICKER_LANGUAGES = "zh"
    # A Tibetan TrueType font; when unset, Debian's fonts-noto-core (Noto Serif Tibetan),
    # else fonts-tibetan-machine. Tibetan stickers are refused without one.
    TIBETAN_FONT_PATH = None
    # Print Tibetan the glossary has not marked reviewed without the 翻译未审核 draft mark.
    STICKER_ALLOW_UNREVIEWED = False
    # Report photos live outside static/; default: <instance>/photos.
    PHOTO_DIR = None
    # s3://bucket/prefix: photos in an S3-compatible store instead of PHOTO_DIR.
    PHOTO_STORE = None
    PHOTO_STORE_ENDPOINT = None  # e.g. https://minio.example.cn:9000; unset: AWS's
    PHOTO_STORE_REGION = None
    PHOTO_STORE_ACCESS_KEY = None
    PHOTO_STORE_SECRET_KEY = None
    # Addresses (CIDRs, comma-separated) that may read /metrics; others get 404.
    METRICS_ALLOW = "127.0.0.1/32"
    # "text" (one line per event) or "json" (one JSON object per line).
    LOG_FORMAT = "text"
    # age public keys (age1…, comma-separated) that `backup` encrypts archives to.
    BACKUP_RECIPIENT = None
    IDLE_TIMEOUT_MINUTES = 30
    # A staff session ends this long after its login, however active (besides the idle timeout).
    SESSION_MAX_HOURS = 12
    # Every staff account signs in with a TOTP code after its password (enrols at first login).
    REQUIRE_TOTP = True
    LOGIN_FAILURE_LIMIT = 5
    LOGIN_FAILURE_WINDOW_SECONDS = 60
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    # Over HTTPS Flask-WTF would demand a same-site Referer, which our pages never send
    # (Referrer-Policy: no-referrer, so a sticker token cannot leak); the form's CSRF token
    # and SameSite cookies do the work.
    WTF_CSRF_SSL_STRICT = False
    # Explicit, so that every app gets it: the shared limiter would otherwise keep the value
    # of the last app it was attached to.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    # memory:// keeps each worker's own counts; production refuses it unless this says the
    # service runs one worker.
    RATELIMIT_ALLOW_MEMORY = False
    # Proxy hops whose X-Forwarded-For/-Proto/-Host are believed; 0 ignores those headers.
    TRUSTED_PROXIES = 0
    # Per client address (an IPv6 /64), generous because carrier-grade NAT puts many phones
    # behind one address; see README "Limits".
    REPORT_RATE_LIMIT = "30/hour;200/day"
    SCAN_RATE_LIMIT = "300/minute"
    # Rendered scan pages each worker keeps (about 4 KB each; 0 renders every scan).
    SCAN_PAGES_KEPT = 4096
    TRACK_RATE_LIMIT = "60/minute"
    # Integration API calls per token (VEHICLEWATCH_API_RATE_LIMIT), all routes together.
    API_RATE_LIMIT = "600/minute"
    # Reports of one car within an hour past which new ones are marked as a burst.
    CAR_BURST_PER_HOUR = 10
    # When set (e.g. "/_photos/"), photos are handed to nginx with X-Accel-Redirect.
    PHOTO_ACCEL_PREFIX = None
    RATELIMIT_HEADERS_ENABLED = False
    # Webhooks (README "Webhooks"): each POST's timeout; attempts before a delivery is marked
    # failed; the wait before the first retry, doubled after each failure up to the cap.
    WEBHOOK_TIMEOUT_SECONDS = 10
    WEBHOOK_MAX_ATTEMPTS = 10
    WEBHOOK_RETRY_SECONDS = 30
    WEBHOOK_RETRY_MAX_SECONDS = 3600


def load_config(app, test_config: dict | None) -> None:
    """Defaults, then VEHICLEWATCH_* and DATABASE_URL from the environment, then test overrides."""
    app.config.from_object(Defaults)
    app.config.from_prefixed_env("VEHICLEWATCH")
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(os.environ["DATABASE_URL"])
    if test_config:
        app.config.update(test_config)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        path = os.path.join(app.instance_path, "vehiclewatch.sqlite3")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    for name in ("SQLALCHEMY_DATABASE_URI", "MIGRATION_DATABASE_URL"):
        if app.config[name]:
            app.config[name] = normalise_database_url(app.config[name])
    if app.config["PUBLIC_BASE_URL"].startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        "hide_parameters": True,
    }


def normalise_database_url(url: str) -> str:
    """PostgreSQL URLs always go through psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class InsecureConfiguration(RuntimeError):
    """Production was asked to start with a development secret or debug on."""


def check_production(app, workers: int | None = None) -> None:
    """Refuse to serve in production with default secrets, debug on, or limits that each of
    several workers would count on its own. Check the app that will serve (its debug flag
    included), and give the number of workers where it is known."""
    problems = []
    if app.config["SECRET_KEY"] == DEFAULT_SECRET_KEY or len(str(app.config["SECRET_KEY"])) < 32:
        problems.append("VEHICLEWATCH_SECRET_KEY is the default or shorter than 32 characters")
    if DEFAULT_CONTACT_KEY in str(app.config["CONTACT_KEYS"]).split(","):
        problems.append("VEHICLEWATCH_CONTACT_KEYS contains the development key")
    receipt_keys = [k.strip() for k in str(app.config["RECEIPT_KEY"]).split(",") if k.strip()]
    if not receipt_keys or any(k == DEFAULT_RECEIPT_KEY or len(k) < 32 for k in receipt_keys):
        problems.append(
            "VEHICLEWATCH_RECEIPT_KEY holds the default or a key shorter than 32 characters"
        )
    if app.config["AUDIT_KEY"] == DEFAULT_AUDIT_KEY or len(str(app.config["AUDIT_KEY"])) < 32:
        problems.append("VEHICLEWATCH_AUDIT_KEY is the default or shorter than 32 characters")
    if app.debug:
        problems.append("debug is on")
    problems.extend(_memory_limits(app.config, workers))
    if problems:
        raise InsecureConfiguration("; ".join(problems))


def _memory_limits(config, workers: int | None) -> list[str]:
    if not config["RATELIMIT_ENABLED"]:
        return []
    if not str(config["RATELIMIT_STORAGE_URI"]).startswith("memory://"):
        return []
    if not config["RATELIMIT_ALLOW_MEMORY"]:
        return [
            "VEHICLEWATCH_RATELIMIT_STORAGE_URI is memory://, so every worker keeps its own "
            "limits: use redis://… (or VEHICLEWATCH_RATELIMIT_ALLOW_MEMORY=true with one worker)"
        ]
    if workers is not None and workers > 1:
        return [
            f"VEHICLEWATCH_RATELIMIT_ALLOW_MEMORY allows memory:// for one worker, not {workers}"
        ]
    return []
