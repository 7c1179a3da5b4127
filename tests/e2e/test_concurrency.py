"""Many phones filing about one car at once, against the real service: gunicorn with four
workers, every rate limit off. Writers queue for the database (SQLite's BEGIN IMMEDIATE,
PostgreSQL's row lock) instead of failing: every answer is a receipt, every report is
stored with the corroboration of all the others, and the audit log stays one chain."""

import http.cookiejar
import json
import re
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from .conftest import serve

REPORTS = 200
CLIENTS = 32
WINDOW = timedelta(hours=2)
ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory):
    # No burst marking either: every report gives and gets corroboration.
    instance = tmp_path_factory.mktemp("load-instance")
    with serve(instance, workers=4, RATELIMIT_ENABLED="false", CAR_BURST_PER_HOUR="100000") as s:
        yield s


def _as_datetime(value) -> datetime:
    """A stored time as SQLite (text) or PostgreSQL (a datetime) gives it back."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" type="hidden" value="([^"]+)"', page).group(1)


def _file_one(base_url: str, token: str, n: int) -> int:
    """One phone: open the form (own cookies), file it; returns the HTTP status."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with opener.open(f"{base_url}/v/{token}/report", timeout=60) as response:
        page = response.read().decode()
    # Spread over the last days: groups of two or three reports, each group alone in its
    # two-hour window, so that corroboration is counted both below and at the cap.
    seen = datetime.now(ZONE) - timedelta(hours=1 + (n % 80) * 2.5)
    form = {
        "csrf_token": _hidden(page, "csrf_token"),
        "submission_id": _hidden(page, "submission_id"),
        "category": "private_use",
        "seen_at": seen.strftime("%Y-%m-%dT%H:%M"),
        "place": f"饭店门口 {n}",
        "description": "停在饭店门口",
        "plate_matches": "yes",
        "website": "",
    }
    request = urllib.request.Request(
        f"{base_url}/v/{token}/report", data=urllib.parse.urlencode(form).encode()
    )
    try:
        with opener.open(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_parallel_reports_on_one_car_all_land(busy_server):
    (token,) = busy_server.query(
        "SELECT s.token FROM sticker s JOIN vehicle v ON v.id = s.vehicle_id"
        " WHERE s.revoked_at IS NULL ORDER BY v.plate LIMIT 1"
    )[0]
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        statuses = list(
            pool.map(lambda n: _file_one(busy_server.base_url, token, n), range(REPORTS))
        )
    assert statuses.count(200) == REPORTS, {s: statuses.count(s) for s in set(statuses)}
    (stored,) = busy_server.query(
        "SELECT count(*) FROM report r JOIN sticker s ON s.id = r.sticker_id WHERE s.token = :t",
        t=token,
    )[0]
    assert stored == REPORTS
    assert "database is locked" not in busy_server.log.read_text()


def _expected_corroboration(reports: list[tuple]) -> dict[int, int]:
    """What scoring every report from scratch gives: 15 points for each other report of the
    car seen within two hours, at most three."""
    return {
        report_id: 15
        * min(3, sum(1 for other, at in reports if other != report_id and abs(at - seen) <= WINDOW))
        for report_id, seen in reports
    }


def test_parallel_reports_on_one_car_corroborate_each_other(busy_server):
    """Run after the filing above: the scores stored under load are those a full rescore
    gives, and the audit log has no gap or fork."""
    rows = busy_server.query(
        "SELECT r.id, r.seen_at, r.score_details, r.vehicle_id FROM report r"
        " WHERE r.vehicle_id = (SELECT vehicle_id FROM report GROUP BY vehicle_id"
        " ORDER BY count(*) DESC LIMIT 1)"
    )
    assert len(rows) >= REPORTS
    seen = [(row[0], _as_datetime(row[1])) for row in rows]
    stored = {row[0]: json.loads(row[2]).get("corroboration", 0) for row in rows}
    assert stored == _expected_corroboration(seen)
    assert set(stored.values()) == {15, 30}  # groups of two and three
    entries = busy_server.query("SELECT seq, prev_hash, hash FROM audit_entry ORDER BY seq")
    assert [seq for seq, _prev, _hash in entries] == list(range(1, len(entries) + 1))
    assert all(entry[1] == before[2] for before, entry in zip(entries, entries[1:], strict=False))
    ((head_seq, head_hash),) = busy_server.query("SELECT seq, last_hash FROM audit_head")
    assert (head_seq, head_hash) == (len(entries), entries[-1][2])
