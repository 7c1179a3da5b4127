"""The scan page and report form in WeChat's in-app browser (its user agent on a phone),
with a photo, with and without JavaScript; the location button only where a browser would
give a position (a secure context)."""

from playwright.sync_api import expect

from .conftest import LAUNCH_ARGS, shot
from .test_journey import PHONE, RECEIPT, photo, sticker_token

# WeChat 8.0 on Android: its XWEB WebView says MicroMessenger.
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230805.001; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 "
    "MMWEBSDK/20231202 MMWEBID/2585 MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 "
    "Weixin NetType/WIFI Language/zh_CN ABI/arm64"
)


def _wechat(new_context, playwright_instance, **options):
    return new_context(playwright_instance.devices[PHONE], user_agent=WECHAT_UA, **options)


def _photos_of(server, description: str) -> list[tuple]:
    return server.query(
        "SELECT r.category, COUNT(p.id) FROM report r LEFT JOIN report_photo p "
        "ON p.report_id = r.id WHERE r.description = :text GROUP BY r.id, r.category",
        text=description,
    )


def _scan_and_report(page, token: str, category: str, description: str, photo_path) -> None:
    """From the scan page, tap 我要举报, fill the form with a photo, send, get a receipt."""
    page.goto(f"/v/{token}")
    expect(page.locator("section.identity .label")).to_have_text("公务用车监督码")
    page.get_by_role("link", name="我要举报").tap()
    page.wait_for_url(f"**/v/{token}/report")
    page.select_option("select[name=category]", category)
    page.fill("textarea[name=description]", description)
    page.set_input_files("input[name=photos]", photo_path)
    page.get_by_role("button", name="提交举报").tap()
    expect(page.locator("#receipt")).to_have_text(RECEIPT)


def test_wechat_scan_and_report_with_a_photo(new_context, playwright_instance, server, tmp_path):
    page = _wechat(new_context, playwright_instance).new_page()
    assert "MicroMessenger" in page.evaluate("navigator.userAgent")
    text = "微信里扫码举报：公车停在农家乐。"
    _scan_and_report(
        page, sticker_token(server, "ds-ny", 2), "entertainment", text, photo(tmp_path)
    )
    shot(page, "wechat-receipt")
    assert _photos_of(server, text) == [("entertainment", 1)]


def test_wechat_without_javascript(new_context, playwright_instance, server, tmp_path):
    page = _wechat(new_context, playwright_instance, java_script_enabled=False).new_page()
    text = "微信无脚本：公车接送孩子。"
    _scan_and_report(page, sticker_token(server, "ds-ny", 3), "private_use", text, photo(tmp_path))
    shot(page, "wechat-nojs-receipt")
    assert _photos_of(server, text) == [("private_use", 1)]


def test_location_button_only_in_a_secure_context(
    new_context, playwright_instance, chromium, server
):
    token = sticker_token(server, "ds-ny", 0)
    # 127.0.0.1 is this machine: a secure context, so the button is offered.
    local = new_context(playwright_instance.devices[PHONE]).new_page()
    local.goto(f"/v/{token}/report")
    expect(local.locator("#use-location")).to_be_visible()
    # The same server under a LAN-style name over plain HTTP, as a phone sees `make demo`.
    port = server.base_url.rsplit(":", 1)[1]
    browser = playwright_instance.chromium.launch(
        executable_path=str(chromium),
        headless=True,
        args=[*LAUNCH_ARGS, "--host-resolver-rules=MAP demo.lan 127.0.0.1"],
    )
    try:
        device = playwright_instance.devices[PHONE]
        settings = {k: v for k, v in device.items() if k != "default_browser_type"}
        page = browser.new_page(**settings, locale="zh-CN")  # a phone in Chinese
        page.goto(f"http://demo.lan:{port}/v/{token}/report")
        assert page.evaluate("window.isSecureContext") is False
        expect(page.locator("h1")).to_contain_text("我要举报")
        expect(page.locator("#use-location")).to_be_hidden()
        shot(page, "insecure-context-report-form")
    finally:
        browser.close()
