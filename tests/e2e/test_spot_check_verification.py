"""A spot-check draw followed from the public's side in Chromium: the commitment is public
before any list exists, a second officer enters the lottery numbers, and after the round
anyone re-runs the draw in the browser from the published data, which reports a match, and
a mismatch as soon as one published value differs."""

import json
import urllib.request
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from .conftest import TIMEOUT_MS, serve, shot, sign_in

ZONE = ZoneInfo("Asia/Shanghai")  # the service's default VEHICLEWATCH_TIMEZONE
LOTTERY = "中国福利彩票双色球第2026141期"
NUMBERS = "03 07 12 19 25 31 09"


@pytest.fixture(scope="module")
def spot_server(chromium, tmp_path_factory):
    """A service of its own: the holiday this test adds must not move other tests' reports."""
    with serve(tmp_path_factory.mktemp("spot-check-instance"), workers=2) as running:
        yield running


@pytest.fixture
def open_page(browser, spot_server):
    contexts = []

    def factory() -> Page:
        context = browser.new_context(
            base_url=spot_server.base_url, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield factory
    for context in contexts:
        context.close()


def test_anyone_can_re_run_a_draw_and_sees_a_changed_value(open_page, spot_server):
    today = datetime.now(ZONE).date()
    # The system admin imports a holiday under way today, so this week is a round.
    admin = open_page()
    sign_in(admin, "admin")
    admin.goto("/admin/holidays/import")
    table = "名称,开始日期,结束日期,范围,调休上班日\n"
    table += f"抽查演练,{today},{today + timedelta(days=2)},全国,\n"
    admin.set_input_files(
        "input[name=file]",
        {"name": "holidays.csv", "mimeType": "text/csv", "buffer": table.encode()},
    )
    admin.get_by_role("button", name="导入", exact=True).click()
    expect(admin.locator("p.flash.info")).to_contain_text("已导入 1 个节假日")

    # The city leader draws, naming the lottery draw; the commitment is public at once.
    leader = open_page()
    sign_in(leader, "leader-city")
    leader.goto("/review/spot-checks")
    this_week = today - timedelta(days=today.weekday())
    leader.select_option("select[name=round_key]", this_week.isoformat())
    leader.fill("input[name=per_jurisdiction]", "2")
    leader.fill("input[name=public_source]", LOTTERY)
    leader.get_by_role("button", name="抽取", exact=True).click()
    expect(leader.locator("p.flash.info")).to_contain_text("已抽取并公示承诺")
    ((draw_id, seed_hash, candidates),) = spot_server.query(
        "SELECT id, seed_hash, candidates FROM spot_check_draw"
    )
    citizen = open_page()
    citizen.goto("/spot-checks")
    row = citizen.locator("tbody tr").first
    expect(row).to_contain_text(seed_hash)
    expect(row).to_contain_text(LOTTERY)
    expect(row).to_contain_text("待开奖后录入")
    assert spot_server.query("SELECT count(*) FROM spot_check_item") == [(0,)]

    # Another city officer enters the numbers: only now are the lists made.
    officer = open_page()
    sign_in(officer, "officer-city")
    officer.goto("/review/spot-checks")
    officer.fill("input[name=value]", NUMBERS)
    officer.get_by_role("button", name="录入开奖号码").click()
    expect(officer.locator("p.flash.info")).to_contain_text("开奖号码已录入")
    assert spot_server.query("SELECT count(*) FROM spot_check_item")[0][0] > 0

    # The round ends (time is the one thing a test cannot wait for).
    engine = sa.create_engine(spot_server.database_url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE spot_check_draw SET round_end = :day"),
            {"day": today - timedelta(days=1)},
        )
    engine.dispose()

    # Anyone re-runs it in the browser, from the page alone.
    citizen.goto(f"/spot-checks/{draw_id}")
    result = citizen.locator("#verify-result")
    expect(result).to_have_attribute("data-state", "match")
    expect(result).to_contain_text("一致：种子、候选名单与公示的哈希相符")
    expect(citizen.locator("#public-value")).to_have_value(NUMBERS)
    shot(citizen, "spot-check-verified")
    requests = []
    citizen.on("request", lambda request: requests.append(request.url))
    citizen.fill("#public-value", "03 07 12 19 25 31 10")
    citizen.get_by_role("button", name="重新核验").click()
    expect(result).to_have_attribute("data-state", "mismatch")
    expect(result).to_contain_text("不一致：")
    shot(citizen, "spot-check-mismatch")
    assert requests == []  # the re-run asked the server nothing

    # A page whose published candidate list was altered on the way is caught as well.
    plate = next(iter(json.loads(candidates).values()))[0]
    altered = plate[:-1] + ("0" if plate[-1] != "0" else "1")

    with urllib.request.urlopen(f"{spot_server.base_url}/spot-checks/{draw_id}") as response:
        published = response.read().decode()
    assert plate in published

    def alter(route):
        route.fulfill(
            content_type="text/html; charset=utf-8",
            body=published.replace(plate, altered, 1),
        )

    reader = open_page()
    reader.route(f"**/spot-checks/{draw_id}", alter)
    reader.goto(f"/spot-checks/{draw_id}")
    verdict = reader.locator("#verify-result")
    expect(verdict).to_have_attribute("data-state", "mismatch")
    expect(verdict).to_contain_text("候选名单与公示的哈希不符")
