"""The ISO-week timetable and the scheduled-run deadline reference of plugins/netralitas_schedule.py."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from airflow.timetables.base import DataInterval, TimeRestriction

from include.netralitas.weeks import FIRST_WEEK, WIB, IsoWeek

from netralitas_schedule import IsoWeekTimetable, ScheduledRunLogicalDate  # isort: skip  (plugins/ on the path)


def wib(*args: int) -> datetime:
    return datetime(*args, tzinfo=WIB)


def weeks_between(timetable: IsoWeekTimetable, earliest: datetime, latest: datetime | None, n: int = 400):
    """The weeks the timetable yields for a restriction, as backfill (and the scheduler) iterate it."""
    restriction = TimeRestriction(earliest, latest, catchup=True)
    found, info = [], None
    for _ in range(n):
        info = timetable.next_dagrun_info_v2(last_dagrun_info=info, restriction=restriction)
        if info is None:
            break
        found.append(info)
    return found


def test_a_run_covers_exactly_its_iso_week_and_runs_monday_07_wib():
    (info,) = weeks_between(IsoWeekTimetable("2024-W45"), wib(2020, 11, 2), wib(2020, 11, 2))
    assert info.data_interval == DataInterval(wib(2020, 11, 2), wib(2020, 11, 9))  # Monday 00:00 to Monday 00:00
    assert info.logical_date == wib(2020, 11, 2)
    assert info.run_after == wib(2020, 11, 9, 7)
    week = IsoWeek.parse("2020-W45")
    assert info.data_interval.end - timedelta(seconds=1) == week.cutoff
    assert (week.start, week.end, week.publication_time) == (wib(2020, 11, 2), wib(2020, 11, 9), wib(2020, 11, 9, 7))


def test_a_bounded_range_gives_every_week_of_history_in_order():
    """What `airflow backfill create --from-date 2020-11-02 --to-date 2020-11-16` asks (dates as UTC midnight)."""
    utc = datetime.fromisoformat
    infos = weeks_between(IsoWeekTimetable("2024-W45"), utc("2020-11-02T00:00+00:00"), utc("2020-11-16T00:00+00:00"))
    assert [str(IsoWeek.containing(i.data_interval.start)) for i in infos] == ["2020-W45", "2020-W46", "2020-W47"]
    across_the_year = weeks_between(IsoWeekTimetable(), wib(2020, 12, 21), wib(2021, 1, 4))
    assert [str(IsoWeek.containing(i.logical_date)) for i in across_the_year] == [
        "2020-W52",
        "2020-W53",  # 2020 has 53 ISO weeks
        "2021-W01",
    ]


def test_nothing_before_the_first_week_of_2018():
    infos = weeks_between(IsoWeekTimetable(), wib(2017, 12, 1), wib(2018, 1, 15))
    assert [str(IsoWeek.containing(i.logical_date)) for i in infos] == ["2018-W01", "2018-W02", "2018-W03"]
    assert IsoWeek.containing(infos[0].logical_date) == FIRST_WEEK


def test_the_schedule_catches_up_from_the_first_scheduled_week_only():
    """Open-ended, as the scheduler asks from the DAG's start (2018-W01): catch-up starts at the bound."""
    timetable = IsoWeekTimetable("2024-W45")
    first, second = weeks_between(timetable, FIRST_WEEK.start, None, n=2)
    assert IsoWeek.containing(first.logical_date) == IsoWeek.parse("2024-W45")
    assert IsoWeek.containing(second.logical_date) == IsoWeek.parse("2024-W46")
    after_backfill = timetable.next_dagrun_info(
        last_automated_data_interval=DataInterval(wib(2020, 11, 2), wib(2020, 11, 9)),
        restriction=TimeRestriction(FIRST_WEEK.start, None, catchup=True),
    )
    assert IsoWeek.containing(after_backfill.logical_date) == IsoWeek.parse("2024-W45")


def test_without_catchup_the_schedule_starts_at_the_last_week_that_ended():
    info = IsoWeekTimetable("2024-W45").next_dagrun_info(
        last_automated_data_interval=None, restriction=TimeRestriction(FIRST_WEEK.start, None, catchup=False)
    )
    assert IsoWeek.containing(info.logical_date) >= IsoWeek.last_ended()


def test_a_manual_run_covers_the_week_that_had_ended_at_its_logical_date():
    timetable = IsoWeekTimetable()
    week = IsoWeek.parse("2020-W45")
    for moment in (week.publication_time, week.end, wib(2020, 11, 15, 3)):  # Monday 07:00, Monday 00:00, Sunday
        expected = week if moment >= week.end else week.previous()
        assert timetable.infer_manual_data_interval(run_after=moment) == DataInterval(expected.start, expected.end)


def test_the_first_scheduled_week_comes_from_the_environment_and_is_checked(monkeypatch):
    monkeypatch.setenv("NETRALITAS_PUBLISH_FIRST_WEEK", "2026-W10")
    assert str(IsoWeekTimetable().first_scheduled) == "2026-W10"
    monkeypatch.setenv("NETRALITAS_PUBLISH_FIRST_WEEK", "2017-W52")
    with pytest.raises(ValueError, match="before 2018-W01"):
        IsoWeekTimetable()
    monkeypatch.setenv("NETRALITAS_PUBLISH_FIRST_WEEK", "2024-W54")
    with pytest.raises(ValueError, match="does not exist"):
        IsoWeekTimetable()


def test_serialisation_round_trip_as_the_scheduler_reads_the_dag():
    """The DAG is serialised to JSON by the dag-processor and read back by the scheduler, which finds the class
    through the plugin registry; the timetable it gets schedules the same weeks."""
    from airflow.sdk import DAG
    from airflow.serialization.serialized_objects import DagSerialization

    with DAG(
        "timetable_round_trip", schedule=IsoWeekTimetable("2024-W45"), start_date=FIRST_WEEK.start, catchup=True
    ) as dag:
        pass
    encoded = json.loads(json.dumps(DagSerialization.to_dict(dag)))
    assert encoded["dag"]["timetable"] == {
        "__type": "netralitas_schedule.IsoWeekTimetable",
        "__var": {"first_scheduled": "2024-W45"},
    }
    scheduler_dag = DagSerialization.from_dict(encoded)
    timetable = scheduler_dag.timetable
    assert type(timetable).__qualname__ == "IsoWeekTimetable"
    assert timetable == IsoWeekTimetable("2024-W45")
    assert timetable.summary == "ISO week, Mon 07:00 WIB (scheduled from 2024-W45)"
    original = [i.data_interval for i in weeks_between(IsoWeekTimetable("2024-W45"), wib(2020, 1, 1), wib(2020, 3, 1))]
    assert [i.data_interval for i in weeks_between(timetable, wib(2020, 1, 1), wib(2020, 3, 1))] == original
    assert len(original) == 8  # the Mondays 6 January to 24 February 2020
    infos = list(scheduler_dag.iter_dagrun_infos_between(wib(2020, 11, 2), wib(2020, 11, 16)))
    assert [str(IsoWeek.containing(i.logical_date)) for i in infos] == ["2020-W45", "2020-W46", "2020-W47"]


def test_the_deadline_reference_serialises_with_a_class_path_the_plugin_registry_resolves():
    from airflow.sdk import DAG
    from airflow.serialization.decoders import decode_deadline_reference
    from airflow.serialization.serialized_objects import DagSerialization

    from include.netralitas.orchestration import alerts

    deadline = alerts.publication_deadline(ScheduledRunLogicalDate())
    with DAG("reference_round_trip", schedule=None, deadline=deadline) as dag:
        pass
    (encoded,) = json.loads(json.dumps(DagSerialization.to_dict(dag)))["dag"]["deadline"]
    reference = encoded["__var"]["reference"] if "__var" in encoded else encoded["reference"]
    assert reference == {
        "reference_type": "ScheduledRunLogicalDate",
        "__class_path": "netralitas_schedule.ScheduledRunLogicalDate",
    }
    decoded = decode_deadline_reference(reference)
    assert type(decoded.inner_ref).__qualname__ == "ScheduledRunLogicalDate"
    assert decoded.inner_ref.required_kwargs == {"dag_id", "run_id"}
