"""The receipt on a phone: large, in groups a line never splits, copied with one tap; and the
manual look-up of a plate that has no sticker, carried into 按车牌号举报."""

from playwright.sync_api import expect

from .conftest import shot
from .test_journey import RECEIPT, sticker_token


def test_receipt_groups_stay_whole_and_copy_on_an_iphone(new_context, playwright_instance, server):
    iphone = playwright_instance.devices["iPhone 13"]
    context = new_context(iphone)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    token = sticker_token(server, "ds-ny", 1)
    page.goto(f"/v/{token}/report")
    page.fill("textarea[name=description]", "回执显示测试：车停在饭店门口。")
    page.get_by_role("button", name="提交举报").click()
    receipt = page.locator("#receipt")
    expect(receipt).to_have_text(RECEIPT)
    # Each group of four sits on one line: one box per group, however the line wraps.
    boxes = page.eval_on_selector_all(
        "#receipt .receipt-group", "groups => groups.map(g => g.getClientRects().length)"
    )
    assert boxes == [1, 1, 1, 1, 1]
    shot(page, "iphone-receipt")
    copy = page.locator("button.copy")
    expect(copy).to_have_text("复制查询码")
    expect(copy).to_be_visible()
    copy.click()
    expect(copy).to_have_text("已复制")
    assert page.evaluate("navigator.clipboard.readText()") == receipt.inner_text().strip()


def test_an_unknown_plate_leads_to_reporting_it(new_context, server):
    page = new_context().new_page()
    page.goto("/v")
    page.fill("#q", "藏B99999")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_role("heading", name="未找到该车辆")).to_be_visible()
    page.get_by_role("link", name="按车牌号 藏B99999 举报").click()
    expect(page.locator("input[name=plate]")).to_have_value("藏B99999")
    shot(page, "unknown-plate-to-report")
