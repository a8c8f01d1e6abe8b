"""ISO weeks and their cut-off (product.md §5): a week ends Sunday 23:59:59 Asia/Jakarta."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        match = _WEEK.match(text.strip())
        if not match:
            raise ValueError(f"week {text!r} is not of the form YYYY-Www (e.g. 2024-W48)")
        year, week = int(match.group(1)), int(match.group(2))
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError as exc:
            raise ValueError(f"week {text!r} does not exist: {exc}") from None
        return cls(year, week)

    @classmethod
    def containing(cls, moment: datetime | date) -> IsoWeek:
        if isinstance(moment, datetime):
            moment = moment.astimezone(WIB).date() if moment.tzinfo else moment.date()
        year, week, _ = moment.isocalendar()
        return cls(year, week)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 7)

    @property
    def cutoff(self) -> datetime:
        """Sunday 23:59:59 WIB: cases found and releases dated up to this moment count."""
        return datetime.combine(self.sunday, time(23, 59, 59), tzinfo=WIB)

    def previous(self) -> IsoWeek:
        return IsoWeek.containing(self.monday - timedelta(days=7))


FIRST_PUBLISHED_WEEK = "2024-W45"  # the first week of the 2024 regional-election campaign the ranking covers


def publication_start(first_week: str | None = None) -> datetime:
    """The weekly DAG's start date: Monday 07:00 WIB of the first week it publishes on schedule.

    `NETRALITAS_PUBLISH_FIRST_WEEK` (YYYY-Www) overrides the default, e.g. so that a new deployment does not
    catch up on every week since 2024; a week given by the `week` param is published whatever this says.
    """
    week = IsoWeek.parse(first_week or os.environ.get("NETRALITAS_PUBLISH_FIRST_WEEK") or FIRST_PUBLISHED_WEEK)
    return datetime.combine(week.monday, time(7, 0), tzinfo=WIB)


def today_wib(now: datetime | None = None) -> date:
    """The reporting offices' day (Asia/Jakarta), not the server's: "not in the future" is judged on it."""
    return (now or datetime.now(WIB)).astimezone(WIB).date()
