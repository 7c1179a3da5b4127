"""Campaigns (专项监督) and their weekly rounds (每周一督), derived from the holiday data.

A campaign runs from some days before its holiday periods to some days after (by default
7 and 7); holiday periods whose windows overlap or touch share one campaign, so campaigns
never overlap. A round is a calendar week, Monday to Sunday, clipped to its campaign, and is
named by its first day. Nothing here is stored: campaigns follow the holiday data.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from .models import HolidayPeriod


class UnknownRound(LookupError):
    """No campaign round starts on that day."""


@dataclass(frozen=True)
class Round:
    start: date
    end: date
    number: int  # 1 for the campaign's first week

    @property
    def key(self) -> str:
        return self.start.isoformat()


@dataclass(frozen=True)
class Campaign:
    start: date
    end: date
    holidays: tuple[str, ...]
    year: int  # the year its first holiday starts in, which names it (not its window's)

    @property
    def name(self) -> str:
        """In the page's language; holiday names are data and stay as entered."""
        return _(
            "%(year)s年%(holidays)s专项监督",
            year=self.year,
            holidays="、".join(dict.fromkeys(self.holidays)),
        )

    def rounds(self) -> list[Round]:
        rounds = []
        day = self.start
        number = 1
        while day <= self.end:
            sunday = day + timedelta(days=6 - day.weekday())
            rounds.append(Round(day, min(sunday, self.end), number))
            day = sunday + timedelta(days=1)
            number += 1
        return rounds

    def round_for(self, day: date) -> Round | None:
        return next((r for r in self.rounds() if r.start <= day <= r.end), None)


def build_campaigns(
    periods: Iterable[tuple[str, date, date]], before: int = 7, after: int = 7
) -> list[Campaign]:
    """Merge each holiday's window [start - before, end + after] with any it overlaps or
    touches; the result never overlaps itself. A campaign is named by the year its first
    holiday starts in: 元旦 2027's window opens in December 2026, but it is 2027年元旦专项监督."""
    windows = sorted(
        (start - timedelta(days=before), end + timedelta(days=after), name, start.year)
        for name, start, end in periods
    )
    campaigns: list[Campaign] = []
    for start, end, name, holiday_year in windows:
        last = campaigns[-1] if campaigns else None
        if last is not None and start <= last.end + timedelta(days=1):
            campaigns[-1] = Campaign(
                last.start, max(last.end, end), (*last.holidays, name), last.year
            )
        else:
            campaigns.append(Campaign(start, end, (name,), holiday_year))
    return campaigns


def load_campaigns() -> list[Campaign]:
    rows = db.session.execute(
        select(HolidayPeriod.name, HolidayPeriod.start, HolidayPeriod.end)
    ).all()
    config = current_app.config
    return build_campaigns(rows, config["CAMPAIGN_DAYS_BEFORE"], config["CAMPAIGN_DAYS_AFTER"])


def round_for(day: date, campaigns: list[Campaign] | None = None) -> Round | None:
    """The round a local date falls in, if any."""
    for campaign in campaigns if campaigns is not None else load_campaigns():
        if campaign.start <= day <= campaign.end:
            return campaign.round_for(day)
    return None


def find_round(key: str, campaigns: list[Campaign] | None = None) -> tuple[Campaign, Round] | None:
    for campaign in campaigns if campaigns is not None else load_campaigns():
        for candidate in campaign.rounds():
            if candidate.key == key:
                return campaign, candidate
    return None
