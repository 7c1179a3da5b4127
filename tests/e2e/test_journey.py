"""The whole path through real pages in Chromium: a fleet admin prints stickers, a citizen
scans one with a phone and reports, an officer and a leader handle the report, and the
citizen reads the reply — plus the report form without JavaScript and by keyboard alone."""

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdfium2
import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

from .conftest import artifact, shot

RECEIPT = re.compile(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){4}")
PHONE = "Pixel 7"  # from Playwright's device list; an Android phone, so Chromium fits it


def act(page: Page, label: str, state: str) -> None:
    """Press one of a report's action buttons and wait for the state it leads to."""
    page.get_by_role("button", name=label, exact=True).click()
    expect(page.locator("p.flash.info")).to_have_text(f"已{label}。")
    expect(page.locator("h1 .state")).to_have_text(state)


def photo(folder: Path) -> Path:
    path = folder / "IMG_0001.jpg"
    image = Image.new("RGB", (640, 480), (70, 90, 120))
    image.paste((200, 40, 40), (200, 150, 440, 330))
    image.save(path, "JPEG", quality=85)
    return path


def decode_first_page(pdf: Path, png: Path) -> list[str]:
    """Rasterize page 1 at 200 dpi (saved beside the screenshots) and read every QR code."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        image = page.render(scale=200 / 72).to_pil()
        page.close()
    finally:
        document.close()
    image.save(png)
    return [
        r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode
    ]


def sticker_token(server, unit_code: str, nth: int) -> str:
    """A live sticker of a car of the given unit, read straight from the server's database."""
    rows = server.query(
        "SELECT s.token FROM sticker s JOIN vehicle v ON v.id = s.vehicle_id "
        "JOIN unit u ON u.id = v.unit_id "
        "WHERE u.code = :unit AND s.revoked_at IS NULL ORDER BY s.id",
        unit=unit_code,
    )
    return rows[nth][0]


def test_sticker_scan_report_review_and_reply(
    new_context, staff, playwright_instance, server, artifacts, tmp_path
):
    # 1. The fleet admin of 城关区 prints the sheet of 城关区教育局 (not escalated, so the
    # district's own officers review reports about these cars).
    fleet = staff("fleet-cg").new_page()
    fleet.goto("/fleet/stickers/print")
    fleet.select_option("select[name=unit_id]", label="城关区教育局")
    fleet.select_option("select[name=layout]", value="a4-8")
    shot(fleet, "fleet-print-form")
    with fleet.expect_download() as info:
        fleet.get_by_role("button", name="生成 PDF").click()
    download = info.value
    assert download.suggested_filename == "stickers.pdf"
    pdf = artifacts / "stickers.pdf"
    download.save_as(pdf)
    urls = decode_first_page(pdf, artifact("sticker-sheet-page1.png"))
    assert len(urls) == 8, urls  # a full A4 sheet of 8 (the unit has 10 cars)
    assert all(re.fullmatch(re.escape(server.base_url) + r"/v/[A-Z2-7]+", u) for u in urls)
    url = urls[0]

    # 2. A citizen scans it with a phone and reports, with a photo.
    phone = new_context(playwright_instance.devices[PHONE]).new_page()
    phone.goto(url)
    expect(phone.locator("section.identity .label")).to_have_text("公务用车监督码")
    expect(phone.locator("dd").first).to_have_text("城关区教育局")
    plate = phone.locator("h1.plate").inner_text().strip()
    assert plate.startswith("藏")
    shot(phone, "phone-scan")
    phone.get_by_role("link", name="我要举报").tap()
    phone.wait_for_url("**/report")
    expect(phone.locator("h1")).to_have_text(f"我要举报 · {plate}")
    phone.select_option("select[name=category]", "wedding_funeral")
    phone.fill("input[name=place]", "城关区某某大酒店门口")
    phone.fill("textarea[name=description]", "车停在婚宴酒店门口，有人从车上搬运喜糖。")
    phone.check("input[name=plate_matches][value=yes]")
    phone.set_input_files("input[name=photos]", photo(tmp_path))
    shot(phone, "phone-report-form")
    phone.get_by_role("button", name="提交举报").tap()
    expect(phone.locator("h1")).to_have_text("举报已提交，谢谢您！")
    receipt = phone.locator("#receipt").inner_text().strip()
    assert RECEIPT.fullmatch(receipt), receipt
    shot(phone, "phone-receipt")

    # 3. The district officer finds it at the top of the queue and handles it.
    officer = staff("officer-cg").new_page()
    officer.goto("/review/")
    first = officer.locator("table.queue tbody tr").first
    expect(first.locator("td").nth(2)).to_have_text(plate)
    expect(first.locator("td").nth(6)).to_have_text("待受理")
    link = first.locator("td a").first
    report_id = int(link.inner_text().lstrip("#"))
    shot(officer, "officer-queue")
    link.click()
    officer.wait_for_url(f"**/review/reports/{report_id}")
    expect(officer.locator("h1 .state")).to_have_text("待受理")
    image = officer.locator(".photos img")
    expect(image).to_have_count(1)
    assert image.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    shot(officer, "officer-report")
    act(officer, "受理", "已受理")
    officer.select_option("select[name=method]", label="初步核实")
    act(officer, "开始核查", "核查中")
    officer.select_option("select[name=finding]", label="属实")
    officer.select_option("select[name=outcome]", label="批评教育")
    act(officer, "提出处理意见", "待审批")
    shot(officer, "officer-proposed")

    # The district leader approves.
    leader = staff("leader-cg").new_page()
    leader.goto(f"/review/reports/{report_id}")
    expect(leader.locator("h1 .state")).to_have_text("待审批")
    act(leader, "批准办结", "已办结")
    shot(leader, "leader-approved")

    # The officer replies to the reporter.
    reply = "经核实，该车确有婚宴期间私用情况，已对相关责任人批评教育。感谢您的监督！"
    officer.goto(f"/review/reports/{report_id}")
    officer.fill("textarea[name=reply]", reply)
    act(officer, "答复举报人", "已反馈")
    shot(officer, "officer-replied")

    # 4. The citizen enters the receipt on /track and reads the reply.
    phone.goto("/track")
    phone.fill("input[name=receipt]", receipt)
    phone.get_by_role("button", name="查询", exact=True).tap()
    expect(phone.locator("dd.state")).to_have_text("已办结")
    expect(phone.locator("ul.replies")).to_contain_text(reply)
    expect(phone.get_by_text(plate, exact=True)).to_be_visible()
    shot(phone, "phone-track-reply")


def test_report_form_submits_without_javascript(new_context, server, tmp_path):
    # A car of 东山县, so these reports never reach 城关区's queue in the journey above.
    token = sticker_token(server, "ds-ny", 0)
    page = new_context(java_script_enabled=False).new_page()
    page.goto(f"/v/{token}")
    page.get_by_role("link", name="我要举报").click()
    page.wait_for_url(f"**/v/{token}/report")
    page.select_option("select[name=category]", "tourism")
    page.fill("input[name=place]", "某景区停车场")
    page.fill("textarea[name=description]", "无脚本提交：公车停在景区停车场。")
    page.set_input_files("input[name=photos]", photo(tmp_path))
    shot(page, "nojs-report-form")
    page.get_by_role("button", name="提交举报").click()
    expect(page.locator("#receipt")).to_have_text(RECEIPT)
    shot(page, "nojs-receipt")
    rows = server.query(
        "SELECT r.category, r.place, COUNT(p.id) FROM report r "
        "LEFT JOIN report_photo p ON p.report_id = r.id "
        "WHERE r.description = :text GROUP BY r.id, r.category, r.place",
        text="无脚本提交：公车停在景区停车场。",
    )
    assert rows == [("tourism", "某景区停车场", 1)]


def test_location_button_stays_hidden_without_javascript(new_context, server):
    token = sticker_token(server, "ds-ny", 0)
    page = new_context(java_script_enabled=False).new_page()
    page.goto(f"/v/{token}/report")
    expect(page.locator("#use-location")).to_be_hidden(timeout=1000)


def focus_name(page: Page) -> str:
    return page.evaluate("document.activeElement && (document.activeElement.name || '')")


def tab_to(page: Page, name: str, limit: int = 30) -> None:
    """Press Tab until the field called `name` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focus_name(page) == name:
            return
    raise AssertionError(f"{limit} presses of Tab never reached the field {name!r}")


def test_report_form_by_keyboard_alone(new_context, server):
    token = sticker_token(server, "ds-ny", 1)
    page = new_context().new_page()
    page.goto(f"/v/{token}/report")
    keys = page.keyboard
    tab_to(page, "category")
    keys.press("ArrowDown")
    keys.press("ArrowDown")  # the third category
    assert page.input_value("select[name=category]") == "tourism"
    tab_to(page, "place")
    keys.type("某景区停车场（键盘）")
    tab_to(page, "description")
    keys.type("只用键盘填写的举报。")
    tab_to(page, "plate_matches")  # lands on the checked option, 没注意
    keys.press("ArrowDown")  # wraps round to the first option, 一致
    assert page.locator("input[name=plate_matches]:checked").get_attribute("value") == "yes"
    tab_to(page, "reporter_name")
    keys.type("张三")
    tab_to(page, "reporter_phone")
    keys.type("13800000000")
    for _ in range(5):  # past the hidden trap field (tabindex -1) to the submit button
        keys.press("Tab")
        if page.evaluate("document.activeElement.type") == "submit":
            break
    expect(page.locator("button[type=submit]:focus")).to_have_text("提交举报")
    shot(page, "keyboard-report-form")
    keys.press("Enter")
    expect(page.locator("#receipt")).to_have_text(RECEIPT)
    shot(page, "keyboard-receipt")
    rows = server.query(
        "SELECT category, place, plate_matches, real_name FROM report WHERE description = :text",
        text="只用键盘填写的举报。",
    )
    assert [(c, p, bool(m), bool(r)) for c, p, m, r in rows] == [
        ("tourism", "某景区停车场（键盘）", True, True)
    ]


def test_sealed_car_says_so_and_its_report_arrives_flagged(
    new_context, staff, playwright_instance, server
):
    """A holiday under way, a car sealed for it: the scan page says 节假日封存中 and the
    report about it reaches the officers flagged. Runs last: the holiday it adds puts every
    later report into a campaign round."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    plate = server.query(
        "SELECT v.plate FROM vehicle v JOIN unit u ON u.id = v.unit_id JOIN sticker s "
        "ON s.vehicle_id = v.id WHERE u.code = 'xh-wj' AND s.revoked_at IS NULL ORDER BY v.id"
    )[0][0]
    token = server.query(
        "SELECT s.token FROM sticker s JOIN vehicle v ON v.id = s.vehicle_id "
        "WHERE v.plate = :plate AND s.revoked_at IS NULL",
        plate=plate,
    )[0][0]

    # The system admin enters the holiday; the city's fleet admin seals the car for it.
    admin = staff("admin").new_page()
    admin.goto("/admin/holidays")
    admin.fill("input[name=name]", "端到端测试假期")
    admin.fill("input[name=start]", today.isoformat())
    admin.fill("input[name=end]", (today + timedelta(days=1)).isoformat())
    admin.get_by_role("button", name="添加", exact=True).click()
    expect(admin.locator("table")).to_contain_text("端到端测试假期")
    fleet = staff("fleet-city").new_page()
    fleet.goto("/fleet/sealing/new")
    fleet.fill("input[name=plate]", plate)
    option = fleet.locator("select[name=holiday_period_id] option", has_text="端到端测试假期")
    fleet.select_option("select[name=holiday_period_id]", option.get_attribute("value"))
    fleet.fill("input[name=place]", "县卫健局院内")
    fleet.fill("input[name=key_holder]", "办公室")
    fleet.get_by_role("button", name="保存", exact=True).click()
    expect(fleet.locator("table")).to_contain_text(plate)
    shot(fleet, "fleet-sealed")

    # A passer-by scans it on a phone.
    phone = new_context(device=playwright_instance.devices[PHONE]).new_page()
    phone.goto(f"/v/{token}")
    expect(phone.locator("section.identity")).to_contain_text("节假日封存中")
    shot(phone, "phone-sealed-car")
    phone.get_by_role("link", name="我要举报").tap()
    phone.select_option("select[name=category]", "holiday_unsealed")
    phone.fill("textarea[name=description]", "封存期间在餐馆门口看到这辆车")
    phone.get_by_role("button", name="提交举报").tap()
    expect(phone.locator("h1")).to_have_text("举报已提交，谢谢您！")

    # The city officer sees it among the flagged reports, with the reason.
    officer = staff("officer-city").new_page()
    officer.goto("/review/?flagged=1")
    row = officer.locator("table.queue tbody tr", has_text=plate).first
    expect(row).to_contain_text("疑点")
    row.locator("td a").first.click()
    expect(officer.locator("main")).to_contain_text("节假日封存期间出车")
    shot(officer, "officer-flagged-sealed")
