"""The weekly publication's schedule, as an Airflow plugin: its timetable and its deadline reference.

`IsoWeekTimetable`: the data interval of a run is exactly one ISO week in Asia/Jakarta, from Monday 00:00
to the next Monday 00:00 (exclusive; the week's cut-off is the second before), its logical date is that
Monday 00:00 WIB, and the run happens Monday 07:00 WIB after the week. The dates come from
`include.netralitas.weeks`, the project's one place of week arithmetic.

Which weeks:
* On schedule (an open-ended restriction, as the scheduler asks), catch-up starts at the later of the DAG's
  start and `first_scheduled_week` (`NETRALITAS_PUBLISH_FIRST_WEEK`, default 2024-W45): a new deployment
  does not publish every week since 2018 by itself.
* Asked for a bounded range (`airflow backfill create --from-date ... --to-date ...`), every week whose
  Monday falls in the range, by its date in WIB, from 2018-W01 on: history stays reachable. Only weeks that
  have ended are backfilled (Airflow keeps runs whose data interval has ended).
* A manual run (a trigger, `airflow dags test`, `dag.test()`) covers the newest week that had ended at its
  logical date: Monday 07:00 WIB after a week gives that week.

`ScheduledRunLogicalDate`: the deadline reference of the publication's lateness alert. It is the run's
logical date for a *scheduled* run and nothing (no deadline) for a backfill, a manual run or a test: a week
of 2020 published today is late on purpose and must not alert "not finished by Monday 10:00" for 2020.

The DAG imports both as `from netralitas_schedule import ...` (Airflow puts `plugins/` on the path): the
module name under which the plugin manager registers them for deserialisation in the scheduler.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.plugins_manager import AirflowPlugin
from airflow.sdk.definitions.deadline import BaseDeadlineReference
from airflow.timetables.base import DagRunInfo, DataInterval, Timetable
from pendulum import instance

from include.netralitas.weeks import FIRST_WEEK, WIB, IsoWeek, first_scheduled_week

if TYPE_CHECKING:
    from datetime import datetime

    from airflow.timetables.base import TimeRestriction
    from pendulum import DateTime
    from sqlalchemy.orm import Session


def week_interval(week: IsoWeek) -> DataInterval:
    return DataInterval(instance(week.start), instance(week.end))


def week_of_interval(interval: DataInterval) -> IsoWeek:
    return IsoWeek.containing(interval.start)


class IsoWeekTimetable(Timetable):
    """One run per ISO week (Asia/Jakarta), Monday 07:00 WIB after it."""

    periodic = True
    can_be_scheduled = True
    description = "Every ISO week, Monday 00:00 to Sunday 23:59:59 WIB; runs Monday 07:00 WIB after it"

    def __init__(self, first_scheduled: str | IsoWeek | None = None) -> None:
        week = first_scheduled if isinstance(first_scheduled, IsoWeek) else first_scheduled_week(first_scheduled)
        self.first_scheduled = week

    @property
    def summary(self) -> str:
        return f"ISO week, Mon 07:00 WIB (scheduled from {self.first_scheduled})"

    def serialize(self) -> dict[str, Any]:
        return {"first_scheduled": str(self.first_scheduled)}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> IsoWeekTimetable:
        return cls(IsoWeek.parse(data["first_scheduled"]))

    def __eq__(self, other: object) -> bool:
        # by name: the plugin manager loads this file as its own module, so the class may exist twice
        if type(other).__qualname__ != type(self).__qualname__:
            return NotImplemented
        return self.serialize() == other.serialize()

    def __hash__(self) -> int:
        return hash(self.first_scheduled)

    def validate(self) -> None:
        if self.first_scheduled < FIRST_WEEK:
            raise ValueError(f"first scheduled week {self.first_scheduled} lies before {FIRST_WEEK}")

    def infer_manual_data_interval(self, *, run_after: DateTime) -> DataInterval:
        return week_interval(IsoWeek.last_ended(run_after))

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        if last_automated_data_interval is not None:
            week = week_of_interval(last_automated_data_interval).next()
        elif restriction.earliest is None:
            return None  # no start date: nothing to schedule
        else:
            week = _first_week_on_or_after(restriction.earliest)
        if not restriction.catchup:
            week = max(week, IsoWeek.last_ended())
        week = max(week, FIRST_WEEK)
        if restriction.latest is None:
            week = max(week, self.first_scheduled)
        elif week.monday > restriction.latest.astimezone(WIB).date():
            return None
        return DagRunInfo(run_after=instance(week.publication_time), data_interval=week_interval(week))


def _first_week_on_or_after(moment: datetime) -> IsoWeek:
    """The first week whose Monday (in WIB) is on or after the moment's day in WIB."""
    day = moment.astimezone(WIB).date()
    week = IsoWeek.containing(day)
    return week if week.monday >= day else week.next()


class ScheduledRunLogicalDate(BaseDeadlineReference):
    """A scheduled run's logical date; None (no deadline is created) for every other kind of run."""

    required_kwargs = {"dag_id", "run_id"}

    def _evaluate_with(self, *, session: Session, dag_id: str, run_id: str, **_: Any) -> datetime | None:
        from airflow.models import DagRun
        from airflow.utils.types import DagRunType
        from sqlalchemy import select

        row = session.execute(
            select(DagRun.run_type, DagRun.logical_date).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
        ).one_or_none()
        if row is None or row.run_type != DagRunType.SCHEDULED:
            return None
        return row.logical_date


class NetralitasSchedulePlugin(AirflowPlugin):
    name = "netralitas_schedule"
    timetables = [IsoWeekTimetable]
    deadline_references = [ScheduledRunLogicalDate]
