"""DAG integrity: every file imports, no cycles, tags from the closed list, owner and retries set, no
connection or variable lookup while parsing; the parse time of each file is reported at the end."""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import pytest

from include.netralitas.orchestration import assets
from include.netralitas.orchestration.tags import ALL_TAGS, OWNER
from tests.conftest import PARSE_TIMES, ROOT

DAG_FILES = sorted((ROOT / "dags").glob("*.py"))
EXPECTED = {
    "ingest_case_reports", "ingest_national_releases", "build_warehouse", "publish_weekly_ranking", "replay_quarantine",
}  # fmt: skip


def _forbidden(*_args, **_kwargs):
    raise AssertionError("a connection or variable was looked up while parsing a DAG file")


@pytest.fixture(scope="session")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk import BaseHook, Variable

    with (
        mock.patch.object(BaseHook, "get_connection", _forbidden),
        mock.patch.object(Variable, "get", _forbidden),
    ):
        bag = DagBag(dag_folder=str(ROOT / "dags"))
    for stat in bag.dagbag_stats:
        PARSE_TIMES[Path(stat.file).name] = stat.duration.total_seconds()
    return bag


def test_every_dag_file_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == EXPECTED


def test_one_dag_per_file_named_after_its_id(dagbag):
    assert {p.stem for p in DAG_FILES} == EXPECTED
    for dag_id, dag in dagbag.dags.items():
        assert Path(dag.fileloc).stem == dag_id


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_dag_settings(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert dag.tags, f"{dag_id} has no tags"
    assert set(dag.tags) <= ALL_TAGS, f"{dag_id} uses tags outside the closed list: {set(dag.tags) - ALL_TAGS}"
    assert dag.doc_md
    assert "When it fails" in dag.doc_md
    assert dag.max_active_runs == 1
    assert dag.start_date.tzinfo is not None
    for task in dag.tasks:
        assert task.owner == OWNER
        assert task.retries >= 1


def test_chain_is_wired_through_assets(dagbag):
    from airflow.sdk import Asset

    produced = {
        outlet.uri
        for dag_id in ("ingest_case_reports", "ingest_national_releases")
        for task in dagbag.dags[dag_id].tasks
        for outlet in task.outlets
        if isinstance(outlet, Asset)
    }
    condition = dagbag.dags["build_warehouse"].timetable.asset_condition
    consumed = {asset.uri for asset in condition.objects}
    assert consumed == {assets.uri("staging.case_report"), assets.uri("staging.national_release")}
    assert consumed <= produced


def test_every_table_and_file_written_is_an_asset_of_its_task(dagbag):
    """Lineage: each task declares what it writes; every table of the migrations is written by some task."""
    import re

    declared = {
        (dag_id, task.task_id): {outlet.name for outlet in task.outlets}
        for dag_id, dag in dagbag.dags.items()
        for task in dag.tasks
        if task.outlets
    }
    tasks = {
        ("ingest_case_reports", "pull_office_apis"): "pull_office_apis",
        ("ingest_case_reports", "ingest"): "ingest_case_reports",
        ("ingest_national_releases", "ingest"): "ingest_national_releases",
        ("replay_quarantine", "replay"): "replay_quarantine",
        ("build_warehouse", "build"): "build_warehouse",
        ("publish_weekly_ranking", "publish"): "publish_weekly_ranking",
    }
    assert declared == {task: set(assets.PRODUCED[producer]) for task, producer in tasks.items()}
    migrations = " ".join(p.read_text() for p in (ROOT / "sql" / "migrations").glob("*.sql"))
    tables = set(re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+\.\w+)", migrations))
    assert {"landing.batch", "core.case_current", "mart.publication"} <= tables  # the regex finds them
    written = {name for names in assets.PRODUCED.values() for name in names}
    assert tables - written == set()
    files = {name for name in written if assets.uri(name).startswith(assets.PUBLICATION_ROOT)}
    assert files == {
        "ranking.csv", "ranking.json", "index.html", "chart.png", "datapackage.json", "feed.xml", "corrections.json",
    }  # fmt: skip


def test_publication_runs_on_the_iso_week_timetable_with_its_deadline(dagbag):
    dag = dagbag.dags["publish_weekly_ranking"]
    assert type(dag.timetable).__qualname__ == "IsoWeekTimetable"  # plugins/netralitas_schedule.py
    assert str(dag.timetable.first_scheduled) == os.environ.get("NETRALITAS_PUBLISH_FIRST_WEEK", "2024-W45")
    assert dag.catchup  # missed weeks since the first scheduled week are published, in order
    assert dag.max_active_runs == 1
    assert dag.deadline  # the lateness alert, kept for scheduled runs
    assert type(dag).__name__ == "DeadlineDag"  # whose dag.test() runs without it (Airflow 3.3.2)


def test_every_dag_starts_at_the_first_publishable_week(dagbag):
    """A run for any week since 2018-W01 has its task instances: no task's start lies after its logical date."""
    from include.netralitas.weeks import FIRST_WEEK

    for dag_id, dag in dagbag.dags.items():
        assert dag.start_date == FIRST_WEEK.start, dag_id
        assert all(t.start_date == FIRST_WEEK.start for t in dag.tasks), dag_id


def test_no_dag_file_imports_another_or_heavy_libraries_at_top_level():
    for path in DAG_FILES:
        top_level = [ln for ln in path.read_text().splitlines() if ln.startswith(("import ", "from "))]
        for line in top_level:
            assert "dags" not in line.split()[1], f"{path.name} imports another DAG file: {line}"
            for heavy in ("great_expectations", "pandas", "duckdb", "sqlalchemy"):
                assert heavy not in line, f"{path.name} imports {heavy} at parse time: {line}"
