"""ISO weeks, their cut-off and their publication (product.md §5): the one place of week arithmetic.

A week runs from Monday 00:00 to Sunday 23:59:59 Asia/Jakarta (WIB); its cut-off is that last second. It is
published the Monday after, at 07:00 WIB. The weekly DAG's timetable (`plugins/netralitas_timetable.py`),
the deadline alert (`alerts.py`), the DAGs' start date and `tools/chain.py` all take their dates from here.

Any week from `FIRST_WEEK` (2018-W01, before Pilkada 2018) up to the last week that has ended can be
published; a week that has not ended is refused unless it is explicitly a preview (never frozen).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
PUBLICATION_TIME = time(7, 0)  # Monday 07:00 WIB, after the week
DEADLINE_TIME = time(10, 0)  # Monday 10:00 WIB: the publication must have finished


class WeekNotPublishable(ValueError):
    """The week lies before the first publishable week, or has not ended (and is not a preview)."""


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        match = _WEEK.match(text.strip()) if isinstance(text, str) else None
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
        """The week a moment falls in, judged in WIB (a naive datetime is taken as WIB)."""
        if isinstance(moment, datetime):
            moment = moment.astimezone(WIB).date() if moment.tzinfo else moment.date()
        year, week, _ = moment.isocalendar()
        return cls(year, week)

    @classmethod
    def last_ended(cls, moment: datetime | None = None) -> IsoWeek:
        """The newest week whose cut-off has passed at `moment` (now by default)."""
        return cls.containing(moment or datetime.now(WIB)).previous()

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 7)

    @property
    def start(self) -> datetime:
        """Monday 00:00 WIB: the start of the weekly DAG's data interval."""
        return datetime.combine(self.monday, time(0, 0), tzinfo=WIB)

    @property
    def end(self) -> datetime:
        """The next Monday 00:00 WIB: the (exclusive) end of the data interval, one second after the cut-off."""
        return datetime.combine(self.monday + timedelta(days=7), time(0, 0), tzinfo=WIB)

    @property
    def cutoff(self) -> datetime:
        """Sunday 23:59:59 WIB: cases found and releases dated up to this moment count."""
        return datetime.combine(self.sunday, time(23, 59, 59), tzinfo=WIB)

    @property
    def publication_time(self) -> datetime:
        """Monday 07:00 WIB after the week: when its scheduled run happens."""
        return datetime.combine(self.monday + timedelta(days=7), PUBLICATION_TIME, tzinfo=WIB)

    @property
    def deadline(self) -> datetime:
        """Monday 10:00 WIB after the week: the scheduled publication must have finished."""
        return datetime.combine(self.monday + timedelta(days=7), DEADLINE_TIME, tzinfo=WIB)

    def has_ended(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(WIB)) >= self.end

    def previous(self) -> IsoWeek:
        return IsoWeek.containing(self.monday - timedelta(days=7))

    def next(self) -> IsoWeek:
        return IsoWeek.containing(self.monday + timedelta(days=7))


FIRST_WEEK = IsoWeek(2018, 1)  # 2018-01-01 to 2018-01-07: before the Pilkada 2018 campaign, the first election covered
FIRST_SCHEDULED_WEEK = "2024-W45"  # the first week of the 2024 regional-election campaign the ranking covers
# Scheduled run's logical date (the data interval's start, Monday 00:00 WIB) to the deadline: Monday 10:00 after.
DEADLINE_AFTER_LOGICAL_DATE = FIRST_WEEK.deadline - FIRST_WEEK.start
EARLIEST_START = FIRST_WEEK.start  # every DAG's start_date: no run of a publishable week lacks task instances


def first_scheduled_week(first_week: str | None = None) -> IsoWeek:
    """The first week the weekly DAG publishes *on schedule* (its catch-up starts there).

    `NETRALITAS_PUBLISH_FIRST_WEEK` (YYYY-Www) overrides the default, e.g. so that a new deployment does not
    catch up on every week since 2024. Earlier weeks stay reachable: the `week` param, `tools/chain.py` and
    `airflow backfill create` publish any week from `FIRST_WEEK` whatever this says.
    """
    week = IsoWeek.parse(first_week or os.environ.get("NETRALITAS_PUBLISH_FIRST_WEEK") or FIRST_SCHEDULED_WEEK)
    if week < FIRST_WEEK:
        raise ValueError(f"NETRALITAS_PUBLISH_FIRST_WEEK={week} lies before {FIRST_WEEK}, the first publishable week")
    return week


def publishable_week(text: str | IsoWeek, *, preview: bool = False, now: datetime | None = None) -> IsoWeek:
    """Parse and check a week to publish: from `FIRST_WEEK` up to the last week that has ended.

    A week that has not ended (its cut-off is in the future, now in WIB) is refused unless `preview`.
    """
    week = text if isinstance(text, IsoWeek) else IsoWeek.parse(text)
    if week < FIRST_WEEK:
        raise WeekNotPublishable(
            f"week {week} lies before {FIRST_WEEK}: the ranking covers the elections since Pilkada 2018"
        )
    if not preview and not week.has_ended(now):
        latest = IsoWeek.last_ended(now)
        raise WeekNotPublishable(
            f"week {week} has not ended: its cut-off is {week.cutoff:%Y-%m-%d %H:%M:%S} WIB; the newest week"
            f" that has ended is {latest}. Publish it as a preview (never frozen) with --preview"
        )
    return week


def today_wib(now: datetime | None = None) -> date:
    """The reporting offices' day (Asia/Jakarta), not the server's: "not in the future" is judged on it."""
    return (now or datetime.now(WIB)).astimezone(WIB).date()
