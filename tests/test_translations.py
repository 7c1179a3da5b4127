"""The catalogues: every citizen's string has its Tibetan and English translation with the
same placeholders, the catalogues compile and match the code, the glossary agrees with them,
and a wheel carries them compiled."""

import csv
import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from vehiclewatch import PACKAGE_DIR

ROOT = PACKAGE_DIR.parent
TRANSLATIONS = PACKAGE_DIR / "translations"
LANGUAGES = ("bo", "en")
DOMAINS = ("public", "messages")
KEYWORDS = DEFAULT_KEYWORDS | {"_l": None, "lazy_gettext": None}  # as `make translations`
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")
REVIEW = "needs review"


def catalogue(language: str, domain: str = "public"):
    with (TRANSLATIONS / language / "LC_MESSAGES" / f"{domain}.po").open("rb") as po:
        return read_po(po, locale=language)


def entries(language: str, domain: str = "public"):
    return [m for m in catalogue(language, domain) if m.id]


def glossary() -> list[dict]:
    with (TRANSLATIONS / "glossary.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# Staff pages are offered in Chinese and English; their Tibetan waits for a translator.
@pytest.mark.parametrize(
    ("language", "domain"), [("bo", "public"), ("en", "public"), ("en", "messages")]
)
def test_every_string_offered_is_translated(language, domain):
    missing = [m.id for m in entries(language, domain) if not m.string or m.fuzzy]
    assert missing == []


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_are_the_same_in_every_translation(language, domain):
    wrong = [
        (m.id, m.string)
        for m in entries(language, domain)
        if m.string and sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string))
    ]
    assert wrong == []


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogues_compile(language, domain):
    catalog = catalogue(language, domain)
    assert [problem for problem in catalog.check()] == []
    write_mo(io.BytesIO(), catalog)


def _extracted(domain: str) -> set[str]:
    with (TRANSLATIONS / f"{domain}.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    return {
        message
        for _, _, message, _, _ in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS
        )
    }


@pytest.mark.parametrize("domain", DOMAINS)
def test_catalogues_hold_exactly_the_strings_of_the_code(domain):
    """A string added to a page without `make translations` is caught here, not by a
    Tibetan reader."""
    in_code = _extracted(domain)
    for language in LANGUAGES:
        assert {m.id for m in entries(language, domain)} == in_code, (language, domain)


def test_the_staff_domain_leaves_out_exactly_the_citizens_files():
    listed = re.compile(r"^\[(?:python|jinja2|ignore): (.+)\]$", re.MULTILINE)
    public = listed.findall((TRANSLATIONS / "public.cfg").read_text())
    staff = (TRANSLATIONS / "messages.cfg").read_text()
    ignored = re.findall(r"^\[ignore: (.+)\]$", staff, re.MULTILINE)
    assert public and ignored == public


def test_the_glossary_agrees_with_the_catalogue():
    bo = {m.id: m for m in entries("bo")}
    en = {m.id: m.string for m in entries("en")}
    rows = glossary()
    assert {"纪委监委", "公务用车", "举报", "查询码"} <= {row["zh"] for row in rows}
    assert all(row["reviewed"] in ("yes", "no") and row["bo"] and row["en"] for row in rows)
    shared = [row for row in rows if row["zh"] in bo]
    assert len(shared) >= 40
    for row in shared:
        assert (row["bo"], row["en"]) == (bo[row["zh"]].string, en[row["zh"]]), row["zh"]
        if row["reviewed"] == "no":
            assert any(REVIEW in c for c in bo[row["zh"]].user_comments), row["zh"]


def test_a_wheel_carries_the_compiled_catalogues(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = Path(tmp_path).glob("vehiclewatch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for language in LANGUAGES:
        for domain in DOMAINS:
            assert f"vehiclewatch/translations/{language}/LC_MESSAGES/{domain}.mo" in names
