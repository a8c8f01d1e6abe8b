"""API pulls over real HTTP into the ordinary ingestion: incremental, one failing office never stops the
others, every pull recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from include.netralitas.ingest.pipeline import ingest_case_reports
from include.netralitas.sample.office_api import Fault, SampleOfficeApi
from include.netralitas.settings import hmac_key
from include.netralitas.sources.api_client import OfficeApiClient
from include.netralitas.sources.office_pull import OfficeEndpoint, load_endpoints, pull_offices


def rows(kode: str, numbers: range, received: str) -> list[dict[str, str]]:
    return [
        {"kode_kantor": kode, "nomor_kasus": f"{n}/PL", "tanggal_temuan": "2024-11-01", "pemilihan": "PILKADA-2024",
         "instansi": "Kemenag", "nip": "", "nama_terlapor": "", "jabatan": "pelaksana",
         "jenis_pelanggaran": "lainnya", "status": "diproses", "diterima_pada": received}
        for n in numbers
    ]  # fmt: skip


@pytest.fixture
def api():
    data = {
        "82.04": rows("82.04", range(1, 61), "2024-11-20T01:00:00+00:00"),
        "82.01": rows("82.01", range(1, 4), "2024-11-20T02:00:00+00:00"),
        "82.02": rows("82.02", range(1, 4), "2024-11-20T03:00:00+00:00"),
    }
    with SampleOfficeApi(
        data, token="s3cret", page_size=25, faults={"82.02": Fault("status", 503, times=99)}
    ) as server:
        yield server


def test_pull_loads_good_offices_marks_the_failing_one_and_is_incremental(api, warehouse, settings):
    endpoints = [OfficeEndpoint(k, api.base_url, "netralitas_office_api") for k in ("82.04", "82.01", "82.02")]

    def client_for(endpoint: OfficeEndpoint) -> OfficeApiClient:
        return OfficeApiClient(
            endpoint.base_url, "s3cret", timeout=2, max_attempts=2, backoff_s=0, sleep=lambda s: None
        )

    first = {r.kode_kantor: r for r in pull_offices(warehouse, settings, endpoints, client_for, run_id="p1")}
    assert (first["82.04"].status, first["82.04"].rows, first["82.04"].pages) == ("ok", 60, 3)
    assert first["82.01"].status == "ok"
    assert first["82.02"].status == "failed"
    assert "503" in first["82.02"].error
    results = ingest_case_reports(warehouse, settings, hmac_key(settings))
    assert sorted((r.kode_kantor, r.rows_loaded) for r in results) == [("82.01", 3), ("82.04", 60)]

    second = {r.kode_kantor: r.status for r in pull_offices(warehouse, settings, endpoints, client_for)}
    assert second == {"82.04": "no_change", "82.01": "no_change", "82.02": "failed"}

    api.add_rows("82.04", rows("82.04", range(61, 63), "2024-11-21T01:00:00+00:00"))
    api.set_fault("82.02", None)
    third = {r.kode_kantor: r for r in pull_offices(warehouse, settings, endpoints, client_for)}
    assert (third["82.04"].status, third["82.04"].rows) == ("ok", 2)  # only the rows after the watermark
    assert (third["82.02"].status, third["82.02"].rows) == ("ok", 3)
    ingest_case_reports(warehouse, settings, hmac_key(settings))
    with warehouse.session() as conn:
        staged = conn.execute(text("SELECT kode_kantor, COUNT(*) FROM staging.case_report GROUP BY 1 ORDER BY 1")).all()
        sources = conn.execute(text("SELECT DISTINCT source FROM landing.batch")).scalars().all()
        pulls = conn.execute(text("SELECT COUNT(*) FROM landing.api_pull")).scalar_one()
    assert [tuple(r) for r in staged] == [("82.01", 3), ("82.02", 3), ("82.04", 62)]
    assert sources == ["api"]
    assert pulls == 9
    assert len(list((settings.landing_dir / "api-page").rglob("*.json"))) >= 5  # raw pages landed


def test_an_office_whose_connection_is_missing_fails_alone(api, warehouse, settings):
    endpoints = [
        OfficeEndpoint("82.04", api.base_url, "netralitas_office_api"),
        OfficeEndpoint("82.01", "https://api.bawaslu-halbar.example", "bawaslu_halbar"),  # no such connection
    ]

    def client_for(endpoint: OfficeEndpoint) -> OfficeApiClient:
        if endpoint.conn_id == "bawaslu_halbar":
            raise LookupError("The conn_id `bawaslu_halbar` isn't defined")
        return OfficeApiClient(endpoint.base_url, "s3cret", timeout=2, max_attempts=1, sleep=lambda s: None)

    results = {r.kode_kantor: r for r in pull_offices(warehouse, settings, endpoints, client_for, run_id="p1")}
    assert (results["82.04"].status, results["82.04"].rows) == ("ok", 60)
    assert results["82.01"].status == "failed"
    assert "bawaslu_halbar" in results["82.01"].error
    with warehouse.session() as conn:
        pulls = conn.execute(text("SELECT kode_kantor, status, base_url FROM landing.api_pull ORDER BY 1")).all()
    assert [tuple(p) for p in pulls] == [
        ("82.01", "failed", "https://api.bawaslu-halbar.example"),
        ("82.04", "ok", api.base_url),
    ]


def test_endpoints_file(tmp_path):
    path = tmp_path / "endpoints.csv"
    path.write_text("kode_kantor,base_url,conn_id\n82.04,https://api.halsel.example/,\n82.01,,bawaslu_halbar\n")
    assert load_endpoints(path, {"82.04", "82.01"}) == [
        OfficeEndpoint("82.04", "https://api.halsel.example", "netralitas_office_api"),
        OfficeEndpoint("82.01", "", "bawaslu_halbar"),
    ]
    path.write_text("kode_kantor,base_url,conn_id\n99.99,,\n")
    with pytest.raises(ValueError, match="line 2: kode_kantor '99.99'"):
        load_endpoints(path, {"82.04"})
