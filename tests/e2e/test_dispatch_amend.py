"""A fleet admin corrects a trip approval in Chromium, from the list, and the officer reading
a report about that car sees every version, and 补录: the correction made it cover the
sighting only after the report."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from .conftest import shot
from .test_desk import _file_report
from .test_journey import sticker_token

ZONE = ZoneInfo("Asia/Shanghai")  # the served deployment's default zone


def _field(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def test_fleet_admin_amends_a_trip_and_the_officer_sees_the_history(new_context, server, staff):
    token = sticker_token(server, "ds-ga", 1)
    ((plate,),) = server.query(
        "SELECT v.plate FROM vehicle v JOIN sticker s ON s.vehicle_id = v.id WHERE s.token = :t",
        t=token,
    )
    tomorrow = datetime.now(ZONE).replace(second=0, microsecond=0) + timedelta(days=1)

    # A trip approval for tomorrow, entered before the report: it does not cover today.
    fleet = staff("fleet-ds").new_page()
    fleet.goto("/fleet/trips/new")
    fleet.fill("input[name=plate]", plate)
    fleet.fill("input[name=purpose]", "赴乡镇督导（修改测试）")
    fleet.fill("input[name=start_at]", _field(tomorrow))
    fleet.fill("input[name=end_at]", _field(tomorrow + timedelta(hours=2)))
    fleet.get_by_role("button", name="保存").click()
    expect(fleet.locator("p.flash.info")).to_contain_text(plate)

    place = "东山县某农家乐门口（派车单修改测试）"
    _file_report(new_context().new_page(), token, place)
    ((report_id,),) = server.query("SELECT id FROM report WHERE place = :p", p=place)

    # From the list, 修改 opens the form filled in with the approval as it stands.
    fleet.goto("/fleet/trips?q=" + plate)
    row = fleet.locator("tr", has_text="赴乡镇督导（修改测试）")
    row.get_by_role("link", name="修改").click()
    expect(fleet.locator("input[name=purpose]")).to_have_value("赴乡镇督导（修改测试）")
    expect(fleet.locator("input[name=start_at]")).to_have_value(_field(tomorrow))
    fleet.fill("input[name=start_at]", _field(tomorrow - timedelta(days=2)))
    expect(fleet.locator("input[name=reason]")).to_have_attribute("required", "")
    fleet.fill("input[name=reason]", "出车日期填错，应为前一天")
    fleet.get_by_role("button", name="保存修改").click()
    expect(fleet.locator("p.flash.info")).to_contain_text("已修改")
    versions = fleet.locator("table.versions tbody tr")
    expect(versions).to_have_count(2)
    expect(versions.nth(1)).to_contain_text("出车日期填错，应为前一天")
    expect(versions.nth(1)).to_contain_text("演示车管员（东山县）")
    shot(fleet, "trip-amended")

    officer = staff("officer-ds").new_page()
    officer.goto(f"/review/reports/{report_id}")
    expect(officer.locator("ul.dispatch")).to_contain_text("赴乡镇督导（修改测试）")
    expect(officer.locator("ul.dispatch .badge")).to_have_text("补录")
    history = officer.locator("table.versions tbody tr")
    expect(history).to_have_count(2)
    expect(history.nth(0)).to_contain_text("登记")
    expect(history.nth(1)).to_contain_text("出车日期填错，应为前一天")
    shot(officer, "trip-history-for-officer")
