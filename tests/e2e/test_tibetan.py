"""A Tibetan reader on a phone: scan a sticker, switch to བོད་ཡིག, file a report, keep the
receipt, track it — every step in Tibetan, drawn with a Tibetan font."""

from playwright.sync_api import Page, expect

from .conftest import shot
from .test_journey import PHONE, RECEIPT, sticker_token


def platform_fonts(page: Page, selector: str) -> list[str]:
    """The fonts Chromium actually drew the element's text with (DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    return [
        font["familyName"]
        for font in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    ]


def test_scan_switch_report_receipt_and_track_in_tibetan(new_context, playwright_instance, server):
    phone = new_context(playwright_instance.devices[PHONE]).new_page()
    fonts_fetched = []
    phone.on("request", lambda r: "/static/fonts/" in r.url and fonts_fetched.append(r.url))

    # The phone runs in Chinese: the page opens in Chinese, with the switch on top.
    phone.goto(f"/v/{sticker_token(server, 'cg-jy', 5)}")
    expect(phone.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(phone.locator("nav.languages a")).to_have_text(["བོད་ཡིག", "中文", "English"])
    shot(phone, "tibetan-scan-chinese")
    # A phone with its own Tibetan font (here Debian's Noto) downloads no font at all.
    assert fonts_fetched == []

    phone.get_by_role("link", name="བོད་ཡིག").tap()
    expect(phone.locator("html")).to_have_attribute("lang", "bo")
    expect(phone.locator("section.identity .label")).to_have_text("གཞུང་ལས་ཁ་ལོའི་ལྟ་སྐུལ་ཨང་རྟགས།")
    expect(phone.locator("section.rules li").first).to_have_text("ཆང་འཐུང་རྗེས་གཞུང་ལས་ཁ་ལོ་བཏང་མི་ཆོག")
    fonts = platform_fonts(phone, "section.identity .label")
    assert any("Tibetan" in name for name in fonts), fonts
    shot(phone, "tibetan-scan")

    # The choice sticks: the form comes in Tibetan without ?lang=.
    phone.get_by_role("link", name="གསལ་ཞུ་བྱེད།", exact=True).tap()
    phone.wait_for_url("**/report")
    expect(phone.locator("html")).to_have_attribute("lang", "bo")
    phone.select_option("select[name=category]", "tourism")
    phone.fill("input[name=place]", "ནོར་བུ་གླིང་ཀའི་ཁ་ལོ་འཇོག་ས།")
    phone.fill("textarea[name=description]", "ཁ་ལོ་ལྟ་ཡུལ་དུ་བཞག་འདུག")
    phone.check("input[name=plate_matches][value=yes]")
    shot(phone, "tibetan-report-form")
    phone.get_by_role("button", name="གསལ་ཞུ་འབུལ།").tap()

    expect(phone.locator("h1")).to_have_text("གསལ་ཞུ་ཕུལ་ཟིན། ཐུགས་རྗེ་ཆེ།")
    receipt = phone.locator("#receipt").inner_text().strip()
    assert RECEIPT.fullmatch(receipt), receipt  # codes keep Latin letters and digits
    shot(phone, "tibetan-receipt")

    phone.get_by_role("link", name="མྱུར་ཚད་བཤེར་འཚོལ།").tap()
    phone.wait_for_url("**/track")
    phone.fill("input[name=receipt]", receipt)
    phone.get_by_role("button", name="བཤེར་འཚོལ།").tap()
    expect(phone.locator("h1")).to_have_text("ཐག་གཅོད་མྱུར་ཚད།")
    expect(phone.locator("dd.state")).to_have_text("འབྱོར་ཟིན། ལེན་རྒྱུར་སྒུག་བཞིན།")
    assert any("Tibetan" in name for name in platform_fonts(phone, "dd.state")), "state font"
    shot(phone, "tibetan-track")
