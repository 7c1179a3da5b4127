"""Many phones filing about one car at once, against the real service: gunicorn with four
workers, every rate limit off. Writers queue for the database (SQLite's BEGIN IMMEDIATE,
PostgreSQL's row lock) instead of failing: every answer is a receipt and every report is
stored."""

import http.cookiejar
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
ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("load-instance"), workers=4, RATELIMIT_ENABLED="false") as s:
        yield s


def _hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" type="hidden" value="([^"]+)"', page).group(1)


def _file_one(base_url: str, token: str, n: int) -> int:
    """One phone: open the form (own cookies), file it; returns the HTTP status."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with opener.open(f"{base_url}/v/{token}/report", timeout=60) as response:
        page = response.read().decode()
    # Spread over the last days, a few reports in each two-hour window.
    seen = datetime.now(ZONE) - timedelta(hours=1 + (n % 50) * 3)
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
