"""The language of a page: Tibetan, Chinese or English on the citizen's pages, Chinese or
English on the staff pages. A person chooses with the switch at the top of the page (`?lang=`,
then remembered in a cookie that holds only the language); the browser's Accept-Language
counts only while nothing was chosen, since most phones in the region run in Chinese."""

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from babel.dates import format_date
from flask import Flask, current_app, has_request_context, request
from flask_babel import force_locale, get_locale, get_translations
from jinja2 import pass_context
from markupsafe import Markup

from .timeutil import format_local, to_local

COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


@dataclass(frozen=True)
class Language:
    code: str  # what ?lang= and the cookie carry
    locale: str  # Babel's locale: catalogues, dates and numbers
    html: str  # <html lang>
    name: str  # in its own script, as the switch shows it


LANGUAGES = {
    language.code: language
    for language in (
        Language("bo", "bo", "bo", "བོད་ཡིག"),
        Language("zh", "zh_Hans_CN", "zh-Hans", "中文"),
        Language("en", "en", "en", "English"),
    )
}
# Staff work in Chinese; their strings are ready for Tibetan, which is not offered yet.
STAFF_LANGUAGES = ("zh", "en")


class UnknownLanguage(ValueError):
    """PUBLIC_LOCALES or DEFAULT_LOCALE names a language without a catalogue."""


def check_settings(app: Flask) -> None:
    """Refuse at start a language this service cannot show."""
    public = public_languages(app)
    unknown = [code for code in public if code not in LANGUAGES]
    default = app.config["DEFAULT_LOCALE"]
    if unknown or not public:
        raise UnknownLanguage(
            f"VEHICLEWATCH_PUBLIC_LOCALES: unknown {unknown or 'empty list'}; "
            f"choose among {', '.join(LANGUAGES)}"
        )
    if default not in public:
        raise UnknownLanguage(
            f"VEHICLEWATCH_DEFAULT_LOCALE={default} is not in VEHICLEWATCH_PUBLIC_LOCALES"
        )


def public_languages(app: Flask | None = None) -> list[str]:
    setting = (app or current_app).config["PUBLIC_LOCALES"]
    return [code.strip() for code in setting.split(",") if code.strip()]


def _citizen_page() -> bool:
    """Citizens' pages (and any unknown address) offer the public languages; the staff pages,
    sign-in included, offer Chinese and English."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if view is None:
        return True
    return getattr(view, "is_public", False) and request.blueprint != "auth"


def offered() -> list[str]:
    if _citizen_page():
        return public_languages()
    return [code for code in STAFF_LANGUAGES if code in LANGUAGES]


def _chosen() -> str | None:
    for choice in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if choice in LANGUAGES:
            return choice
    return None


def current_code() -> str:
    """The language of this request: a choice this page offers, else (nothing chosen) the
    browser's preference among them, else the default."""
    here = offered()
    chosen = _chosen()
    if chosen in here:
        return chosen
    if chosen is None:
        preferred = request.accept_languages.best_match(here)
        if preferred:
            return preferred
    default = current_app.config["DEFAULT_LOCALE"]
    return default if default in here else here[0]


def select_locale() -> str:
    """Flask-Babel's locale selector; commands (no request) speak Chinese."""
    return LANGUAGES[current_code() if has_request_context() else "zh"].locale


def page_language() -> Language:
    """The language the page is rendered in (after Babel chose it)."""
    locale = str(get_locale())
    return next((lang for lang in LANGUAGES.values() if lang.locale == locale), LANGUAGES["zh"])


# How a day is written per language; Chinese keeps the compact form staff and citizens know.
DAY_FORMATS = {"bo": "long", "en": "medium"}


def local_time(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Jinja filter `localtime`: a UTC time in the deployment's time zone, written the way the
    page's language writes dates (Babel's CLDR data); the hour stays 24-hour HH:MM and every
    digit of a time stays Latin, as plates and codes do. `fmt` is the Chinese form."""
    language = page_language()
    if language.code not in DAY_FORMATS:
        return format_local(value, fmt)
    local = to_local(value)
    if local is None:
        return ""
    day = format_date(local.date(), DAY_FORMATS[language.code], locale=language.locale)
    return day if "%H" not in fmt else f"{day} {local:%H:%M}"


def language_switch() -> list[tuple[Language, str, bool]]:
    """The switch's links: each language this page offers, the current address with ?lang=,
    and whether it is the page's. None where only one language is offered, and none on an
    answer to a form (a receipt shown once): its address would open an empty form."""
    here = offered()
    if len(here) < 2 or request.method != "GET":
        return []
    current = page_language().code
    path = quote(request.script_root + request.path)
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    return [
        (
            LANGUAGES[code],
            f"{path}?{urlencode([*args, ('lang', code)])}",
            code == current,
        )
        for code in here
    ]


def in_chinese():
    """Official documents (a bulletin's stored title and cases, its PDF) are written in
    Chinese whatever the language of the page that makes them."""
    return force_locale(LANGUAGES["zh"].locale)


def remember_choice(response):
    """after_request: a ?lang= this page offers is kept in the cookie, for the pages after."""
    chosen = request.args.get("lang")
    if chosen in offered() and request.cookies.get(COOKIE) != chosen:
        response.set_cookie(
            COOKIE,
            chosen,
            max_age=COOKIE_MAX_AGE,
            samesite="Lax",
            secure=current_app.session_interface.get_cookie_secure(current_app),
            httponly=True,
        )
    return response


def page_translations() -> dict:
    """Context processor: the templates' `_()` with the page's catalogue looked up once per
    render. Flask-Babel's own template callable looks the request's catalogue up again for
    every string (a walk through the request context each time, the larger part of rendering
    the scan page); this one behaves the same (Jinja's newstyle gettext: escaped, then
    formatted with its keyword arguments)."""
    translations = get_translations()

    @pass_context
    def gettext(context, string: str, **variables) -> str:
        text = translations.ugettext(string)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return {"gettext": gettext}


def init_app(app: Flask, babel) -> None:
    check_settings(app)
    # Citizens' strings in their own domain, staff strings in the main one; one lookup
    # finds either.
    babel.init_app(
        app,
        default_domain="messages;public",
        default_translation_directories="translations;translations",
        locale_selector=select_locale,
    )
    app.after_request(remember_choice)
    app.context_processor(page_translations)
    app.jinja_env.globals.update(page_language=page_language, language_switch=language_switch)
