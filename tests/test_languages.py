"""Which language a page speaks: the switch, the lang cookie, ?lang= and Accept-Language, the
public and staff sets, and a citizen's whole path in Tibetan."""

import re
from datetime import date, datetime, timedelta

import pytest

from vehiclewatch.calendar.rounds import Campaign
from vehiclewatch.languages import UnknownLanguage, in_chinese
from vehiclewatch.timeutil import local_zone

from .conftest import receipt_on

THREE = {"PUBLIC_LOCALES": "bo,zh,en"}
REPORT_BUTTON = {"bo": "གསལ་ཞུ་བྱེད།", "zh": "我要举报", "en": "Report"}
HTML_LANG = {"bo": "bo", "zh": "zh-Hans", "en": "en"}


def _lang(page: str) -> str:
    return re.search(r'<html lang="([^"]+)">', page).group(1)


@pytest.fixture
def tri(make_app, photo_location, car):
    """A client of an app whose public pages offer Tibetan, Chinese and English."""
    app = make_app(**THREE, **photo_location())
    return app.test_client()


@pytest.mark.parametrize("language", ["bo", "zh", "en"])
def test_the_scan_page_speaks_each_language(tri, car, language):
    page = tri.get(f"/v/{car.live_sticker.token}?lang={language}").get_data(as_text=True)
    assert _lang(page) == HTML_LANG[language]
    assert REPORT_BUTTON[language] in page
    assert "藏B·12345" in page  # data stays as it is
    # The switch: every language in its own script, this one marked.
    switch = re.search(r'<nav class="languages".*?</nav>', page, re.S).group(0)
    assert re.findall(r">([^<>·]+)</a>", switch) == ["བོད་ཡིག", "中文", "English"]
    current = re.search(r'<a href="([^"]+)"[^>]*aria-current="true"', switch).group(1)
    assert current.endswith(f"lang={language}")


def test_tibetan_comes_with_its_rules_and_states(tri, car):
    page = tri.get(f"/v/{car.live_sticker.token}?lang=bo").get_data(as_text=True)
    assert "ཆང་འཐུང་རྗེས་གཞུང་ལས་ཁ་ལོ་བཏང་མི་ཆོག" in page  # the first of the eight rules
    assert "ཁྲིམས་སྲུང་ལས་འགན་ཁ་ལོ།" in page  # the car's category
    assert "不准" not in page and "执法执勤用车" not in page


def test_a_choice_is_remembered_and_beats_the_browser(tri, car):
    token = car.live_sticker.token
    first = tri.get(f"/v/{token}", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert _lang(first.get_data(as_text=True)) == "en"  # nothing chosen: the browser's
    assert "lang" not in (first.headers.get("Set-Cookie") or "")

    chosen = tri.get(f"/v/{token}?lang=bo", headers={"Accept-Language": "en"})
    cookie = chosen.headers["Set-Cookie"]
    assert cookie.startswith("lang=bo;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # The cookie says only the language; later pages follow it, whatever the browser says.
    later = tri.get("/track", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert _lang(later) == "bo" and "བཤེར་འཚོལ་ཨང་རྟགས།" in later
    # A link with ?lang= wins over the cookie, and replaces it.
    linked = tri.get("/track?lang=zh")
    assert _lang(linked.get_data(as_text=True)) == "zh-Hans"
    assert linked.headers["Set-Cookie"].startswith("lang=zh;")


def test_nothing_chosen_and_nothing_offered_gives_the_default(make_app, car):
    client = make_app(PUBLIC_LOCALES="bo,zh,en", DEFAULT_LOCALE="bo").test_client()
    page = client.get("/", headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)
    assert _lang(page) == "bo"
    zh = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert _lang(zh) == "zh-Hans"


def test_a_city_that_keeps_chinese_shows_no_switch(client, car):
    page = client.get(f"/v/{car.live_sticker.token}?lang=bo", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert _lang(text) == "zh-Hans" and "我要举报" in text
    assert 'class="languages"' not in text and "བོད་ཡིག" not in text
    assert "Set-Cookie" not in page.headers


def test_staff_pages_offer_chinese_and_english(tri):
    login = tri.get("/login?lang=bo").get_data(as_text=True)
    assert _lang(login) == "zh-Hans"
    assert re.findall(r'hreflang="([^"]+)"', login) == ["zh-Hans", "en"]
    assert _lang(tri.get("/login?lang=en").get_data(as_text=True)) == "en"


def test_error_pages_speak_the_chosen_language(tri):
    tri.get("/?lang=bo")
    page = tri.get("/no-such-page")
    assert page.status_code == 404
    text = page.get_data(as_text=True)
    assert _lang(text) == "bo" and "ཤོག་ངོས་འདི་མི་འདུག" in text


def test_an_answer_to_a_form_has_no_switch(tri, car):
    """Its address would open an empty form: the receipt, shown once, would be gone."""
    page = tri.post("/track?lang=bo", data={"receipt": "ABCD-EFGH-JKLM-NPQR-STUV"})
    assert page.status_code in (404, 422)
    text = page.get_data(as_text=True)
    assert _lang(text) == "bo" and 'class="languages"' not in text


def test_a_citizen_can_report_and_track_in_tibetan(tri, car):
    token = car.live_sticker.token
    form = tri.get(f"/v/{token}/report?lang=bo").get_data(as_text=True)
    assert "གསལ་ཞུ་འབུལ།" in form and "问题类型" not in form
    submission = re.search(r'name="submission_id" type="hidden" value="([^"]+)"', form).group(1)
    missing = tri.post(f"/v/{token}/report", data={"submission_id": submission})
    assert missing.status_code == 422
    assert "མཐོང་བའི་དུས་ཚོད་བྲི་རོགས།" in missing.get_data(as_text=True)
    filed = tri.post(
        f"/v/{token}/report",
        data={
            "submission_id": submission,
            "category": "tourism",
            "seen_at": (datetime.now(local_zone()) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "place": "ལྷ་ས།",
            "description": "",
            "plate_matches": "yes",
        },
    )
    receipt_page = filed.get_data(as_text=True)
    assert filed.status_code == 200, receipt_page
    assert "གསལ་ཞུ་ཕུལ་ཟིན། ཐུགས་རྗེ་ཆེ།" in receipt_page
    status = tri.post("/track", data={"receipt": receipt_on(receipt_page)})
    text = status.get_data(as_text=True)
    assert "འབྱོར་ཟིན། ལེན་རྒྱུར་སྒུག་བཞིན།" in text  # 已收到，待受理
    assert "གཞུང་ལས་ཁ་ལོས་ཡུལ་སྐོར། / ལྟ་ཡུལ་དུ་འགྲོ་འོང་།" in text  # the category
    filed_at = re.search(r"<dd>(སྤྱི་ལོ་\d{4} ཟླ་བ་[^<]*ཚེས་\d+ \d\d:\d\d)</dd>", text)
    assert filed_at, "the filing time is written as Tibetan writes dates"
    # The same tracking page in English and Chinese writes the day their way.
    english = tri.post("/track?lang=en", data={"receipt": receipt_on(receipt_page)})
    assert re.search(
        r"<dd>[A-Z][a-z]{2} \d{1,2}, \d{4} \d\d:\d\d</dd>", english.get_data(as_text=True)
    )
    chinese = tri.post("/track?lang=zh", data={"receipt": receipt_on(receipt_page)})
    assert re.search(r"<dd>\d{4}-\d\d-\d\d \d\d:\d\d</dd>", chinese.get_data(as_text=True))


def test_campaign_names_follow_the_page(app):
    campaign = Campaign(date(2026, 12, 25), date(2027, 1, 10), ("元旦",), 2027)
    with app.app_context():  # its own, as a command has
        assert campaign.name == "2027年元旦专项监督"  # a command speaks Chinese
    with app.test_request_context("/?lang=en"):
        app.config["PUBLIC_LOCALES"] = "zh,en"
        assert campaign.name == "2027 元旦 special supervision"
        with in_chinese():  # what a bulletin's stored title is built from
            assert campaign.name == "2027年元旦专项监督"


@pytest.mark.parametrize(
    "setting", [{"PUBLIC_LOCALES": "bo,fr"}, {"PUBLIC_LOCALES": "zh", "DEFAULT_LOCALE": "bo"}]
)
def test_a_language_the_service_cannot_show_is_refused_at_start(make_app, setting):
    with pytest.raises(UnknownLanguage):
        make_app(**setting)


def test_the_tibetan_font_is_served_for_tibetan_only(client):
    with client.get("/static/style.css") as response:
        css = response.get_data(as_text=True)
    faces = re.findall(r"@font-face \{[^}]*\}", css)
    assert len(faces) == 2
    for face in faces:
        assert "unicode-range: U+0F00-0FFF" in face
        (url,) = re.findall(r'url\("([^"]+)"\)', face)
        with client.get(f"/static/{url}") as font:
            assert font.status_code == 200 and font.mimetype == "font/woff2"
            assert font.get_data()[:4] == b"wOF2"
