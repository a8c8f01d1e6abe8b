"""Office freshness on both databases: the offices silent for N days, the ones that never reported first."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import pytest

from include.netralitas.ingest.pipeline import ingest_case_reports
from include.netralitas.reference.catalogue import load_catalogue
from include.netralitas.settings import hmac_key
from include.netralitas.warehouse.freshness import freshness_days, stale_offices, warning_text
from include.netralitas.weeks import WIB

HEADER = "kode_kantor,nomor_kasus,tanggal_temuan,pemilihan,instansi,nip,nama_terlapor,jabatan,jenis_pelanggaran,status"
ROW = "{kode},{n}/PL,2024-11-01,PILKADA-2024,Kementerian Agama,,,pelaksana,lainnya,diproses"
AS_OF = datetime(2024, 12, 2, 7, 0, tzinfo=WIB)


def deliver(settings, kode: str, received: datetime) -> None:
    """A report from office `kode`, received (file time) at `received`."""
    settings.case_report_drop.mkdir(parents=True, exist_ok=True)
    path = settings.case_report_drop / f"{kode}_{received:%Y%m%d}.csv"
    path.write_text(f"{HEADER}\n{ROW.format(kode=kode, n=f'{received:%Y%m%d}')}\n")
    os.utime(path, (received.timestamp(), received.timestamp()))


def test_offices_silent_for_n_days_are_listed_and_the_fresh_ones_are_not(warehouse, settings):
    deliver(settings, "82.04", AS_OF - timedelta(days=2))  # fresh
    deliver(settings, "82", AS_OF - timedelta(days=20))  # silent for 20 days
    deliver(settings, "11.01", AS_OF - timedelta(days=40))  # silent for 40 days...
    deliver(settings, "11.01", AS_OF + timedelta(days=1))  # ...its later report is after as_of: not counted
    results = ingest_case_reports(warehouse, settings, hmac_key(settings))
    assert [r.status for r in results] == ["loaded"] * 4

    stale = stale_offices(warehouse, as_of=AS_OF, days=14)
    offices = len(load_catalogue().regions)
    assert offices == 552
    assert len(stale) == offices - 1  # all but 82.04
    never = [s for s in stale if s.laporan_terakhir is None]
    assert len(never) == offices - 3
    assert [s.kode_kantor for s in stale[len(never) :]] == ["11.01", "82"]  # the longest silent first
    assert stale[len(never)].laporan_terakhir == AS_OF - timedelta(days=40)
    assert "40 hari" in stale[len(never)].describe(AS_OF)
    assert "no report yet" in stale[0].describe(AS_OF)
    text = warning_text(stale, as_of=AS_OF, days=14, shown=3).splitlines()
    assert text[0].startswith(f"{offices - 1} offices sent no case report for 14 days up to 2024-12-02 07:00")
    assert f"({offices - 3} with none at all by then)" in text[0]
    assert text[1:4] == [office.describe(AS_OF) for office in stale[:3]]
    assert text[4] == f"... and {offices - 4} more (SELECT * FROM mart.office_freshness)"

    assert {s.kode_kantor for s in stale_offices(warehouse, as_of=AS_OF, days=30)} >= {"11.01"}
    assert "82" not in {s.kode_kantor for s in stale_offices(warehouse, as_of=AS_OF, days=30)}


def test_the_threshold_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("NETRALITAS_FRESHNESS_DAYS", raising=False)
    assert freshness_days() == 14
    monkeypatch.setenv("NETRALITAS_FRESHNESS_DAYS", "7")
    assert freshness_days() == 7
    monkeypatch.setenv("NETRALITAS_FRESHNESS_DAYS", "seminggu")
    with pytest.raises(ValueError, match="whole number of days"):
        freshness_days()


def test_an_api_pulled_batch_counts_at_its_report_date_not_when_it_was_fetched(warehouse, settings):
    """The demo's (and a backfill's) case: the pull runs long after the rows were reported. The office's
    report date is the pull's watermark (the received-at of the newest row it served)."""
    import json

    from include.netralitas.warehouse.database import sql

    reported, fetched = AS_OF - timedelta(days=3), AS_OF + timedelta(days=300)
    name = f"82.04_api_{fetched:%Y%m%dT%H%M%S%fZ}.json"
    settings.api_pull_drop.mkdir(parents=True, exist_ok=True)
    row = dict(zip(HEADER.split(","), ROW.format(kode="82.04", n="1").split(","), strict=True))
    (settings.api_pull_drop / name).write_text(json.dumps({"rows": [row]}))
    os.utime(settings.api_pull_drop / name, (fetched.timestamp(), fetched.timestamp()))
    pull = {"kode_kantor": "82.04", "base_url": "http://127.0.0.1:9", "pulled_at": fetched, "run_id": None,
            "status": "ok", "rows": 1, "pages": 1, "watermark": reported.isoformat(), "file_name": name,
            "error": None}  # fmt: skip
    with warehouse.begin() as conn:
        conn.execute(sql("landing/insert_api_pull.sql"), pull)
    assert [r.status for r in ingest_case_reports(warehouse, settings, hmac_key(settings))] == ["loaded"]

    assert "82.04" not in {s.kode_kantor for s in stale_offices(warehouse, as_of=AS_OF, days=14)}
    early = AS_OF - timedelta(days=4)  # before the office reported: it had sent nothing yet
    assert "82.04" in {s.kode_kantor for s in stale_offices(warehouse, as_of=early, days=14) if not s.laporan_terakhir}
    from include.netralitas.warehouse.build import build_warehouse

    build_warehouse(warehouse)  # core.region, which the mart view lists the offices from
    with warehouse.session() as conn:
        [(_, latest)] = conn.execute(
            sql("audit/select_latest_report_per_office.sql"), {"as_of": AS_OF + timedelta(days=400)}
        ).all()
        [[view]] = conn.exec_driver_sql(
            "SELECT laporan_terakhir FROM mart.office_freshness WHERE kode_kantor = '82.04'"
        ).all()
    assert latest == view
    assert abs((latest - reported).total_seconds()) < 1
