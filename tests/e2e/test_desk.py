"""The officer's desk in Chromium: the queue offers only the officer's own 辖区 and opens on
open reports; each action has its own form with its fields beside its button; a refused
action stays at the report's address and a done one redirects, so a reload re-sends
nothing."""

from playwright.sync_api import expect

from .conftest import shot
from .test_journey import sticker_token


def _file_report(page, token: str, place: str) -> None:
    page.goto(f"/v/{token}/report")
    page.select_option("select[name=category]", "tourism")
    page.fill("input[name=place]", place)
    page.fill("textarea[name=description]", "公车停在景区停车场。")
    page.check("input[name=plate_matches][value=yes]")
    page.get_by_role("button", name="提交举报").click()
    expect(page.locator("#receipt")).to_be_visible()


def test_action_forms_and_the_address_bar(new_context, server, staff):
    place = "东山县某景区停车场（办理测试）"
    _file_report(new_context().new_page(), sticker_token(server, "ds-ga", 0), place)
    ((report_id,),) = server.query("SELECT id FROM report WHERE place = :p", p=place)

    officer = staff("officer-ds").new_page()
    officer.goto("/review/")
    options = officer.locator("select[name=jurisdiction] option").all_inner_texts()
    assert options == ["全部", "东山县"]
    officer.goto(f"/review/reports/{report_id}")
    shot(officer, "desk-actions")

    forms = officer.locator("form.action-form")
    expect(forms).to_have_count(4)  # 受理, 不予受理, 标为重复件, 转办
    reject = officer.locator("#action-reject")
    expect(reject.locator("textarea[name=reason]")).to_have_count(1)
    expect(reject.get_by_role("button", name="不予受理", exact=True)).to_be_visible()
    expect(officer.locator("#action-accept textarea[name=reason]")).to_have_count(0)
    # The reason's box lies inside its own form's card, above that form's button.
    card = reject.bounding_box()
    field = reject.locator("textarea[name=reason]").bounding_box()
    button = reject.get_by_role("button").bounding_box()
    assert card["x"] <= field["x"] and field["x"] + field["width"] <= card["x"] + card["width"]
    assert card["y"] <= field["y"] < button["y"] <= card["y"] + card["height"]
    # The duplicate number box is as wide and styled as the other text boxes.
    number = officer.locator("#action-mark_duplicate input[name=duplicate_of]")
    text = officer.locator("#action-transfer input[name=transferred_to]")
    assert abs(number.bounding_box()["width"] - text.bounding_box()["width"]) < 2
    assert number.evaluate("e => getComputedStyle(e).borderTopColor") == text.evaluate(
        "e => getComputedStyle(e).borderTopColor"
    )

    # Refused: the message stands beside the field, at the report's own address.
    reject.get_by_role("button", name="不予受理", exact=True).click()
    expect(reject.locator(".error")).to_have_text("请填写不予受理的理由。")
    assert officer.url.endswith(f"/review/reports/{report_id}")
    shot(officer, "desk-refused")

    # Done: redirected to the report; a reload only reads it again.
    reject = officer.locator("#action-reject")
    reject.locator("textarea[name=reason]").fill("举报内容与本车无关。")
    reject.get_by_role("button", name="不予受理", exact=True).click()
    expect(officer.locator("p.flash.info")).to_have_text("已不予受理。")
    assert officer.url.endswith(f"/review/reports/{report_id}")
    officer.reload()
    expect(officer.locator("h1 .state")).to_have_text("不予受理")
    expect(officer.locator("p.flash")).to_have_count(0)
    rejections = server.query(
        "SELECT count(*) FROM report_event WHERE report_id = :r AND kind = 'reject'", r=report_id
    )
    assert rejections == [(1,)]

    # Finished, it leaves the default queue for the 已结束 view.
    officer.goto("/review/")
    expect(officer.locator(f'a[href="/review/reports/{report_id}"]')).to_have_count(0)
    officer.select_option("select[name=state]", "finished")
    officer.get_by_role("button", name="筛选").click()
    expect(officer.locator(f'a[href="/review/reports/{report_id}"]')).to_have_count(1)
