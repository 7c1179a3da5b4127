"""Holiday periods: entered as data by the system admin each year, never hard-coded."""

from datetime import date
from enum import StrEnum

from sqlalchemy import Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class Region(StrEnum):
    NATIONAL = "national"
    LOCAL = "local"


class HolidayPeriod(db.Model):
    __tablename__ = "holiday_period"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    start: Mapped[date] = mapped_column(Date, index=True)
    end: Mapped[date] = mapped_column(Date)
    region: Mapped[str] = mapped_column(String(20), default=Region.NATIONAL)
    # ISO dates separated by ";": weekend days that are worked (调休上班日).
    makeup_workdays: Mapped[str] = mapped_column(Text, default="")

    @property
    def makeup_dates(self) -> list[date]:
        return [date.fromisoformat(d) for d in self.makeup_workdays.split(";") if d]

    def snapshot(self) -> dict:
        return {
            "name": self.name,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "region": self.region,
            "makeup_workdays": self.makeup_workdays,
        }
