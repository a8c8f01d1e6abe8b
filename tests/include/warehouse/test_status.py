"""The engineer's status (the netralitas page's data) on both databases: each office's newest batch and
outcome, the quarantine by reason, pulls and publications read without a write."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from include.netralitas.ingest.pipeline import ingest_case_reports
from include.netralitas.settings import hmac_key
from include.netralitas.warehouse.build import build_warehouse
from include.netralitas.warehouse.database import sql
from include.netralitas.warehouse.status import engineer_status

HEADER = "kode_kantor,nomor_kasus,tanggal_temuan,pemilihan,instansi,nip,nama_terlapor,jabatan,jenis_pelanggaran,status"
GOOD = "{kode},{n}/PL,2024-11-01,PILKADA-2024,Kementerian Agama,,,pelaksana,lainnya,diproses"
BAD_JABATAN = "{kode},{n}/PL,2024-11-01,PILKADA-2024,Kementerian Agama,,,bupati,lainnya,diproses"
AS_OF = datetime(2024, 12, 2, tzinfo=UTC)


def deliver(settings, name: str, *rows: str) -> None:
    settings.case_report_drop.mkdir(parents=True, exist_ok=True)
    path = settings.case_report_drop / name
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    sent = (AS_OF - timedelta(days=3)).timestamp()
    os.utime(path, (sent, sent))


def test_each_office_has_its_newest_batch_outcome_and_the_quarantine_its_reasons(warehouse, settings):
    deliver(settings, "82.04_20241129.csv", GOOD.format(kode="82.04", n=1), BAD_JABATAN.format(kode="82.04", n=2))
    deliver(settings, "82.05_20241129.csv", GOOD.format(kode="82.05", n=1))
    deliver(settings, "82.06_20241129.csv", "not a case report at all")
    ingest_case_reports(warehouse, settings, hmac_key(settings))
    build_warehouse(warehouse)  # core.region: the offices the page lists
    later = datetime.now(UTC) + timedelta(minutes=1)  # after the batch was ingested
    pull = {"kode_kantor": "82.05", "base_url": "http://127.0.0.1:9", "pulled_at": later,
            "run_id": "scheduled__x", "status": "failed", "rows": 0, "pages": 0, "watermark": None,
            "file_name": None, "error": "HTTP 503"}  # fmt: skip
    with warehouse.begin() as conn:
        conn.execute(sql("landing/insert_api_pull.sql"), pull)

    status = engineer_status(warehouse, as_of=AS_OF)

    assert status.unavailable == {}
    offices = {o["kode_kantor"]: o for p in status.provinces for o in p.offices}
    assert len(offices) == 552
    assert offices["82.04"]["outcome"] == "partly_quarantined"
    assert (offices["82.04"]["rows_loaded"], offices["82.04"]["rows_quarantined"]) == (1, 1)
    assert offices["82.05"]["outcome"] == "pull_failed"  # its pull after the batch failed
    assert offices["82.06"]["outcome"] in ("rejected", "quarantined")
    assert offices["11.01"]["outcome"] == "none"
    [maluku_utara] = [p for p in status.provinces if p.kode == "82"]
    assert maluku_utara.nama == "Maluku Utara"
    assert maluku_utara.counts["partly_quarantined"] == 1
    assert [(q["kode_kantor"], q["kolom"], q["baris"]) for q in status.quarantine if q["kode_kantor"] == "82.04"] == [
        ("82.04", "jabatan", 1)
    ]
    assert [(p["kode_kantor"], p["status"]) for p in status.pulls] == [("82.05", "failed")]
    assert status.publications == []
    assert "82.04" not in {s["kode_kantor"] for s in status.stale}  # reported 3 days before
