"""The replay DAG, run with `dag.test()` on both warehouses: after an alias is added, the batch's quarantined
row loads exactly once, and each replay is in the manifest."""

from __future__ import annotations

from sqlalchemy import text

from include.netralitas.ingest.pipeline import ingest_case_reports
from include.netralitas.settings import get_settings, hmac_key
from include.netralitas.warehouse.database import Warehouse

HEADER = "kode_kantor,nomor_kasus,tanggal_temuan,pemilihan,instansi,nip,nama_terlapor,jabatan,jenis_pelanggaran,status"
ROWS = [
    "82.04,1/PL,2024-11-01,PILKADA-2024,Pemkab Halsel,,,pelaksana,lainnya,diproses",
    "82.04,9/PL,2024-11-01,PILKADA-2024,Pemda Bima,,,pelaksana,lainnya,diproses",  # ambiguous: Kabupaten or Kota
]


def replay_run(batch_ids: list[str]) -> str:
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import ROOT

    dag = DagBag(dag_folder=str(ROOT / "dags" / "replay_quarantine.py")).dags["replay_quarantine"]
    for task in dag.tasks:
        task.retries = 0
    run = dag.test(run_conf={"batch_ids": batch_ids})
    return str(run.state).rsplit(".", 1)[-1].lower()


def test_the_replay_dag_loads_a_quarantined_row_once_after_its_alias_is_added(
    airflow_db, warehouse_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("NETRALITAS_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("NETRALITAS_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("NETRALITAS_HMAC_KEY", "test-key-not-secret")
    settings = get_settings()
    settings.case_report_drop.mkdir(parents=True)
    (settings.case_report_drop / "82.04_bima.csv").write_text("\n".join([HEADER, *ROWS]) + "\n")
    warehouse = Warehouse(warehouse_url)
    [batch] = ingest_case_reports(warehouse, settings, hmac_key(settings))
    assert (batch.rows_loaded, batch.rows_quarantined) == (1, 1)

    aliases = tmp_path / "aliases.csv"
    aliases.write_text("alias,instansi_kode,catatan\nPemda Bima,52.06,dipastikan dengan Bawaslu Bima\n")
    monkeypatch.setenv("NETRALITAS_ALIASES_FILE", str(aliases))
    assert replay_run([batch.batch_id]) == "success"
    assert replay_run([batch.batch_id]) == "success"  # a second replay finds nothing left to load

    with warehouse.session() as conn:
        manifest = conn.execute(text("SELECT * FROM landing.batch")).mappings().one()
        staged = conn.execute(text("SELECT nomor_kasus, instansi_kode FROM staging.case_report ORDER BY 1")).all()
        replays = conn.execute(text("SELECT rows_loaded FROM audit.replay ORDER BY replayed_at")).scalars().all()
        open_rows = conn.execute(text("SELECT COUNT(*) FROM audit.quarantine WHERE dilepas_pada IS NULL")).scalar()
    assert (manifest["rows_loaded"], manifest["rows_quarantined"], manifest["replay_count"]) == (2, 0, 2)
    assert [tuple(r) for r in staged] == [("1/PL", "82.04"), ("9/PL", "52.06")]
    assert replays == [1, 0]
    assert open_rows == 0

    assert replay_run(["0" * 64]) == "failed"  # an unknown batch is refused, and the run says so
