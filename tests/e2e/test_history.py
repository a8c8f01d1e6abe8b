"""History: a week of 2020 runs and publishes like any other, with the counts of its cut-off and the 2020
release's lineage; a DAG run that did no work fails the chain; Airflow's own backfill publishes 2020 weeks."""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from datetime import datetime

import pytest

from include.netralitas.weeks import WIB, IsoWeek
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import chain  # noqa: E402

pytestmark = pytest.mark.e2e
HEADER = "kode_kantor,nomor_kasus,tanggal_temuan,pemilihan,instansi,nip,nama_terlapor,jabatan,jenis_pelanggaran,status"
CASES = [  # Halmahera Selatan: 3 before the release, 1 after it, 1 after the week's cut-off; Kemenag: 2
    "82.04,1/PL/2020,20/10/2020,Pilkada 2020,Pemkab Halsel,,Ani,pelaksana,kampanye_medsos,diproses",
    "82.04,2/PL/2020,20/10/2020,Pilkada 2020,Pemkab Halsel,,Budi,pelaksana,lainnya,sanksi",
    "82.04,3/PL/2020,21/10/2020,Pilkada 2020,Pemkab Halsel,,Citra,pengawas,lainnya,direkomendasikan",
    "82.04,4/PL/2020,03/11/2020,Pilkada 2020,Pemkab Halsel,,Dedi,pelaksana,lainnya,diproses",
    "82.04,5/PL/2020,20/11/2020,Pilkada 2020,Pemkab Halsel,,Eka,pelaksana,lainnya,diproses",
    "82.04,6/PL/2020,10/10/2020,Pilkada 2020,Kemenag,,Fajar,fungsional,lainnya,diproses",
    "82.04,7/PL/2020,12/10/2020,Pilkada 2020,Kemenag,,Gita,fungsional,lainnya,diproses",
    "82.04,8/PL/2020,12/10/2020,Pilkada 2020,Pemkab Atlantis,,Hadi,pelaksana,lainnya,diproses",  # quarantined
]
RELEASE = {"penerbit": "KASN", "judul": "Rilis Pilkada 2020", "tanggal_data": "2020-10-31", "pemilihan": "PILKADA-2020"}


def drop_2020(settings) -> None:
    """Case reports and a national release of 2020 in the drop folder, settled (mtime an hour ago)."""
    settings.case_report_drop.mkdir(parents=True, exist_ok=True)
    settings.national_release_drop.mkdir(parents=True, exist_ok=True)
    files = [settings.case_report_drop / "82.04_2020-11.csv", settings.national_release_drop / "kasn-2020.csv"]
    files[0].write_text("\n".join([HEADER, *CASES]) + "\n", encoding="utf-8")
    files[1].write_text("instansi,jumlah,peringkat\nKementerian Agama,12,1\nPemkab Halmahera Selatan,5,2\n")
    files.append(settings.national_release_drop / "kasn-2020.meta.json")
    files[2].write_text(json.dumps(RELEASE))
    old = time.time() - 3600
    for path in files:
        os.utime(path, (old, old))


def ranked(folder, pemilihan: str) -> list[dict[str, str]]:
    with (folder / "ranking.csv").open(newline="") as handle:
        return [r for r in csv.DictReader(handle) if r["pemilihan"] == pemilihan]


def test_a_2020_week_is_published_with_the_counts_of_its_cut_off(airflow_db, settings, tmp_path, capsys):
    drop_2020(settings)
    summary_file = tmp_path / "run.summary"
    assert chain.main(["--week", "2020-W45", "--summary", str(summary_file)]) == 0

    folder = settings.publish_dir / "2020-W45"
    for name in ("ranking.csv", "ranking.json", "index.html", "chart.png", "datapackage.json"):
        assert (folder / name).is_file(), name
    rows = ranked(folder, "PILKADA-2020")
    assert [(r["peringkat"], r["instansi"], r["jumlah_pelanggaran"]) for r in rows] == [
        ("1", "Kementerian Agama", "12"),  # max(N 12 + 0 after the release, 2 regional)
        ("2", "Pemerintah Kabupaten Halmahera Selatan", "6"),  # max(5 + 1, 4): the case of 20/11 is after the week
    ]
    assert [(r["n_rilis"], r["tanggal_rilis"], r["r_setelah"], r["r_total"]) for r in rows] == [
        ("12", "2020-10-31", "0", "2"),
        ("5", "2020-10-31", "1", "4"),
    ]
    doc = json.loads((folder / "ranking.json").read_text())
    assert doc["batas_waktu"] == "2020-11-08T23:59:59+07:00"
    assert [(s["penerbit"], s["tanggal_data"]) for s in doc["sumber"]] == [("KASN", "2020-10-31")]
    assert os.readlink(settings.publish_dir / "latest") == "2020-W45"

    summary = summary_file.read_text()
    assert "Week 2020-W45 (cut-off 2020-11-08 23:59:59 WIB): newly published (snapshot frozen), " in summary
    assert "case-report/v1 (file): 1 files, 8 rows in, 7 loaded, 1 quarantined, 0 duplicates" in summary
    assert "national-release/v1 (file): 1 files, 2 rows in, 2 loaded, 0 quarantined, 0 duplicates" in summary
    assert "python tools/ops.py quarantine" in summary
    assert f"  ranking.csv:      {folder / 'ranking.csv'}" in summary
    assert f"  provinsi/:        {folder / 'provinsi'} (1 province page)" in summary
    assert (
        "peringkat 1 di Maluku Utara (Pilkada 2020, data per 8 November 2020)"
        in (folder / "provinsi" / "82.html").read_text()
    )
    assert capsys.readouterr().out.endswith(summary + "\n")

    # the same week again: nothing new lands, the frozen snapshot is rendered again, byte for byte
    before = (folder / "ranking.csv").read_bytes()
    assert chain.main(["--week", "2020-W45", "--summary", str(summary_file)]) == 0
    again = summary_file.read_text()
    assert "re-rendered from its frozen snapshot (unchanged)" in again
    assert "no new batch landed" in again
    assert (folder / "ranking.csv").read_bytes() == before


def test_weeks_that_have_not_ended_or_precede_2018_are_refused(capsys):
    this_week = IsoWeek.containing(datetime.now(WIB))
    assert chain.main(["--week", str(this_week)]) == 2
    assert f"week {this_week} has not ended" in capsys.readouterr().err
    assert chain.main(["--week", "2017-W52"]) == 2
    assert "lies before 2018-W01" in capsys.readouterr().err
    assert chain.main(["--week", "2020-W54"]) == 2
    assert "does not exist" in capsys.readouterr().err


LATE_DAG = """
from datetime import datetime
from zoneinfo import ZoneInfo

from airflow.sdk import dag, task


@dag(schedule=None, start_date=datetime(2024, 1, 1, tzinfo=ZoneInfo("Asia/Jakarta")), catchup=False)
def history_late_start():
    @task
    def work() -> None:
        pass

    work()


history_late_start()
"""


def test_the_chain_fails_when_a_dag_run_has_no_task_instance(airflow_db, tmp_path, monkeypatch):
    """A DAG whose start lies after the week: Airflow creates the run without task instances and marks it a
    success; the chain calls that a failure and says which DAG and why."""
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "history_late_start.py").write_text(LATE_DAG)
    local = "airflow.dag_processing.bundles.local.LocalDagBundle"
    config = [{"name": "history-test", "classpath": local, "kwargs": {"path": str(folder)}}]
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps(config))

    with pytest.raises(chain.ChainFailed) as failed:
        chain.run_chain(IsoWeek.parse("2020-W45"), dag_folder=folder, chain=("history_late_start",))
    message = str(failed.value)
    assert message.startswith("history_late_start: no task instance: logical date 2020-11-09 00:00 UTC")
    assert "before the DAG's start 2023-12-31 17:00 UTC" in message
    assert "Airflow marked the run success, nothing ran" in message


@pytest.mark.parametrize("warehouse_url", ["duckdb"], indirect=True)
def test_airflow_backfill_publishes_three_2020_weeks_in_order(airflow_db, settings):
    """`airflow backfill create --dag-id publish_weekly_ranking --from-date 2020-11-02 --to-date 2020-11-16`
    (Airflow's `_create_backfill`, which the CLI calls), its runs then executed task by task as the scheduler
    and a worker would: each week is published with the counts of its own cut-off, and no run gets a deadline."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.models.backfill import BackfillDagRun, _create_backfill
    from airflow.models.dagrun import DagRun
    from airflow.models.deadline import Deadline
    from airflow.sdk.definitions.dag import _run_task
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState, TaskInstanceState
    from sqlalchemy import select

    drop_2020(settings)
    chain.run_chain(IsoWeek.parse("2020-W47"), chain=chain.CHAIN[:3])  # ingest and build; nothing published

    DagBundlesManager().sync_bundles_to_db()
    bag = BundleDagBag(dag_folder=str(ROOT / "dags"), bundle_path=ROOT / "dags", bundle_name="dags-folder")
    sync_bag_to_db(bag, "dags-folder", None)
    dag = bag.dags["publish_weekly_ranking"]
    backfill = _create_backfill(
        dag_id=dag.dag_id,
        from_date=datetime.fromisoformat("2020-11-02T00:00:00+00:00"),  # what the CLI makes of 2020-11-02
        to_date=datetime.fromisoformat("2020-11-16T00:00:00+00:00"),
        max_active_runs=1,
        reverse=False,
        dag_run_conf=None,
        triggering_user_name="test",
    )
    with create_session() as session:
        runs = session.scalars(
            select(DagRun)
            .join(BackfillDagRun, BackfillDagRun.dag_run_id == DagRun.id)
            .where(BackfillDagRun.backfill_id == backfill.id)
            .order_by(BackfillDagRun.sort_ordinal)
        ).all()
        weeks = [str(IsoWeek.containing(r.data_interval_start)) for r in runs]
        assert weeks == ["2020-W45", "2020-W46", "2020-W47"]
        assert session.scalars(select(Deadline).where(Deadline.dagrun_id.in_([r.id for r in runs]))).all() == []
        run_ids = [r.run_id for r in runs]

    from airflow.models.dagbag import DBDagBag

    for run_id in run_ids:  # in order, one at a time (max_active_runs=1)
        ran = []
        with create_session() as session:
            run = session.scalars(select(DagRun).where(DagRun.run_id == run_id, DagRun.dag_id == dag.dag_id)).one()
            run.dag = DBDagBag().get_dag_for_run(run, session=session)
            run.state = DagRunState.RUNNING
            for _task in dag.tasks:  # stage, sign_off (NETRALITAS_PUBLISH_APPROVAL=auto), publish: in turn
                schedulable, _ = run.update_state(session=session)
                assert len(schedulable) == 1, [ti.task_id for ti in schedulable]
                ti = schedulable[0]
                ti.try_number += 1
                ti.state = TaskInstanceState.SCHEDULED
                session.commit()
                _run_task(ti=ti, task=dag.task_dict[ti.task_id])
                ran.append(ti.task_id)
                session.expire_all()
            run.update_state(session=session)
            session.commit()
            assert run.state == DagRunState.SUCCESS, run_id
        assert ran == ["stage", "sign_off", "publish"]  # the run has its task instances

    halsel = {}
    for week in weeks:
        folder = settings.publish_dir / week
        assert (folder / "ranking.csv").is_file()
        rows = {r["instansi"]: r for r in ranked(folder, "PILKADA-2020")}
        halsel[week] = rows["Pemerintah Kabupaten Halmahera Selatan"]["jumlah_pelanggaran"]
        assert rows["Kementerian Agama"]["tanggal_rilis"] == "2020-10-31"
    assert halsel == {"2020-W45": "6", "2020-W46": "6", "2020-W47": "7"}  # the case of 20/11 counts from W47 on
    assert os.readlink(settings.publish_dir / "latest") == "2020-W47"
