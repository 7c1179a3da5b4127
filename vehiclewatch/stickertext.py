"""The wording a sticker prints: its fixed Chinese texts and, for a bilingual sticker, their
Tibetan from the glossary, with whether a reviewer has signed every one of them off."""

import csv
import functools
from dataclasses import dataclass, field
from pathlib import Path

from .publictext import EIGHT_RULES, RULES_TITLE, SLOGAN, TITLE

GLOSSARY = Path(__file__).parent / "translations" / "glossary.csv"
HOTLINE_LABEL = "举报电话"
# Every fixed text a sticker (front or back) prints, in the order a reviewer reads them.
STICKER_TEXTS = (TITLE, HOTLINE_LABEL, *SLOGAN, RULES_TITLE, *EIGHT_RULES)
# Tibetan above Chinese, as public signs in the region are written; Chinese alone as before.
LANGUAGES = {"zh": ("zh",), "bo,zh": ("bo", "zh")}
DRAFT_MARK = "翻译未审核"


class StickerTextError(ValueError):
    """Stickers cannot be printed in the configured languages (the message says why)."""


class MissingTranslation(StickerTextError):
    """A sticker text has no Tibetan in the glossary."""


class UnknownLanguages(StickerTextError):
    """VEHICLEWATCH_STICKER_LANGUAGES names a combination stickers are not printed in."""


@dataclass(frozen=True)
class Entry:
    zh: str
    bo: str
    en: str
    note: str
    reviewed: bool


@functools.cache
def load_glossary(path: Path = GLOSSARY) -> dict[str, Entry]:
    """The glossary's rows by their Chinese text (read once per process)."""
    entries = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            zh = row["zh"].strip()
            entries[zh] = Entry(
                zh=zh,
                bo=row["bo"].strip(),
                en=row["en"].strip(),
                note=row["note"].strip(),
                reviewed=row["reviewed"].strip().lower() == "yes",
            )
    return entries


def tibetan(zh: str, path: Path = GLOSSARY) -> str:
    """The Tibetan of a sticker text; a text without one is an error, never a blank line."""
    entry = load_glossary(path).get(zh)
    if entry is None or not entry.bo:
        raise MissingTranslation(f"术语表 {path} 缺少“{zh}”的藏文")
    return entry.bo


def unreviewed(path: Path = GLOSSARY) -> list[str]:
    """The sticker texts whose Tibetan is not marked reviewed (or is missing)."""
    glossary = load_glossary(path)
    return [zh for zh in STICKER_TEXTS if zh not in glossary or not glossary[zh].reviewed]


def parse_languages(value: str) -> tuple[str, ...]:
    """('zh',) or ('bo', 'zh') from the setting's text (spaces and case ignored)."""
    key = ",".join(part.strip().lower() for part in str(value).split(","))
    if key not in LANGUAGES:
        raise UnknownLanguages(
            f"VEHICLEWATCH_STICKER_LANGUAGES 为 {value!r}，应为 {' 或 '.join(LANGUAGES)}"
        )
    return LANGUAGES[key]


@dataclass(frozen=True)
class Wording:
    """What the fixed texts of a print run say: the Tibetan of each Chinese text (none for
    a Chinese-only sticker), and whether each label carries the draft mark."""

    tibetan: dict[str, str] = field(default_factory=dict)
    draft: bool = False

    def bo(self, zh: str) -> str | None:
        return self.tibetan.get(zh)

    @property
    def bilingual(self) -> bool:
        return bool(self.tibetan)


def wording(languages: str, *, allow_unreviewed: bool, path: Path = GLOSSARY) -> Wording:
    """The wording for the configured languages. With Tibetan, every sticker text must have
    its translation, and the draft mark stays on until all of them are reviewed."""
    if "bo" not in parse_languages(languages):
        return Wording()
    texts = {zh: tibetan(zh, path) for zh in STICKER_TEXTS}
    return Wording(texts, draft=bool(unreviewed(path)) and not allow_unreviewed)
