"""tools/ops.py and tools/publish.py, the runbook's read and publish commands, on both databases."""

from __future__ import annotations

import json
import sys

import pytest
from sqlalchemy import text

from include.netralitas import METHODOLOGY_VERSION
from include.netralitas.ingest.pipeline import ingest_case_reports
from include.netralitas.settings import hmac_key
from include.netralitas.warehouse.build import build_warehouse
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import ops  # noqa: E402
import publish  # noqa: E402

HEADER = "kode_kantor,nomor_kasus,tanggal_temuan,pemilihan,instansi,nip,nama_terlapor,jabatan,jenis_pelanggaran,status"
NIP = "199001012015031001"
ROWS = [
    f"82.04,1/PL,2024-11-01,PILKADA-2024,Pemkab Halsel,{NIP},Ani Lestari,pelaksana,lainnya,diproses",
    "82.04,2/PL,2024-11-02,PILKADA-2024,Bima,199203032016041002,Budi Santoso,pelaksana,lainnya,diproses",
    "82.04,3/PL,2024-11-03,PILKADA-2024,Kemenag,19900101201503100,Citra Dewi,pelaksana,lainnya,diproses",
]


def run(capsys, *argv: str) -> tuple[int, str]:
    code = ops.main(list(argv))
    return code, capsys.readouterr().out


@pytest.fixture
def loaded(warehouse, settings):
    settings.case_report_drop.mkdir(parents=True, exist_ok=True)
    (settings.case_report_drop / "82.04_20241125.csv").write_text("\n".join([HEADER, *ROWS]) + "\n")
    [batch] = ingest_case_reports(warehouse, settings, hmac_key(settings))
    assert (batch.rows_loaded, batch.rows_quarantined) == (1, 2)
    return batch


def test_quarantine_lists_rules_and_reasons_without_personal_data(loaded, capsys):
    code, out = run(capsys, "quarantine")
    assert code == 0
    assert loaded.batch_id in out
    assert "instansi ambigu: 'Bima' cocok dengan Pemerintah Kabupaten Bima, Pemerintah Kota Bima" in out
    assert "nip bukan 18 digit" in out
    for personal in ("Ani Lestari", "Budi Santoso", "Citra Dewi", NIP, "19900101201503100"):
        assert personal not in out

    code, out = run(capsys, "quarantine", "--reason", "'bima'", "--ids")
    assert (code, out.split()) == (0, [loaded.batch_id])
    code, out = run(capsys, "quarantine", "--reason", "no such reason", "--ids")
    assert (code, out) == (0, "")
    code, out = run(capsys, "quarantine", "--column", "nip", "--conf")
    assert json.loads(out) == {"batch_ids": [loaded.batch_id]}

    code, out = run(capsys, "quarantine", "--summary")
    lines = out.splitlines()
    assert lines[0].split() == ["kolom", "aturan", "tingkat", "baris", "batch"]
    assert sorted(line.split()[0] for line in lines[1:]) == ["instansi", "nip"]

    code, out = run(capsys, "batches", "--problems")
    assert code == 0
    assert "82.04_20241125.csv" in out
    assert out.splitlines()[1].split()[-3:] == ["0", "loaded", "0"]  # duplicates, status, replays


def test_a_replay_after_an_alias_empties_the_quarantine_listing(
    loaded, warehouse, settings, tmp_path, monkeypatch, capsys
):
    from include.netralitas.ingest.pipeline import replay_batch
    from include.netralitas.settings import get_settings

    code, out = run(capsys, "resolve", "Bima", "--strict")
    assert code == 1
    assert "candidates: 52.06 Pemerintah Kabupaten Bima; 52.72 Pemerintah Kota Bima" in out

    aliases = tmp_path / "aliases.csv"
    aliases.write_text("alias,instansi_kode,catatan\nBima,52.06,dipastikan\n")
    monkeypatch.setenv("NETRALITAS_ALIASES_FILE", str(aliases))
    replay_batch(warehouse, get_settings(), loaded.batch_id, hmac_key(settings))
    code, out = run(capsys, "resolve", "Bima", "--strict")
    assert code == 0
    assert "'Bima': 52.06 Pemerintah Kabupaten Bima" in out

    code, out = run(capsys, "quarantine", "--reason", "bima", "--ids")
    assert out == ""
    code, out = run(capsys, "quarantine", "--all", "--reason", "bima")
    assert loaded.batch_id in out  # still on record, with when it was released
    code, out = run(capsys, "quarantine", "--ids")
    assert out.split() == [loaded.batch_id]  # the NIP row still fails


@pytest.mark.data_docs
def test_validation_lists_failed_expectations_and_the_data_docs(loaded, capsys):
    code, out = run(capsys, "validation", "--failed")
    assert code == 0
    rows = [line.split() for line in out.splitlines()[1:-1]]
    assert {(r[0], r[2]) for r in rows} == {("case_report_v1", "instansi"), ("case_report_v1", "nip")}
    assert out.splitlines()[-1].startswith("Data Docs: ")
    code, out = run(capsys, "validation", "--batch", loaded.batch_id)
    assert out.count("case_report_v1") >= 10  # every expectation of the suite, passed or not
    assert run(capsys, "validation", "--batch", "not-a-batch")[0] == 2


def test_publish_tool_publishes_reuses_and_forces_with_a_reason(loaded, warehouse, settings, capsys):
    build_warehouse(warehouse)
    assert publish.main(["--week", "2024-W48"]) == 0
    assert "frozen and published" in capsys.readouterr().out
    assert publish.main(["--week", "2024-W48"]) == 0
    assert "re-rendered from its frozen snapshot" in capsys.readouterr().out
    assert publish.main(["--week", "2024-W48", "--force-reason", "koreksi alias Bima"]) == 0
    with pytest.raises(SystemExit):
        publish.main(["--week", "2024-W48", "--force-reason", " "])
    with warehouse.session() as conn:
        log = conn.execute(text("SELECT tindakan, alasan FROM audit.publication_log ORDER BY dicatat_pada")).all()
    assert [tuple(r) for r in log] == [("terbit", None), ("terbit_ulang", "koreksi alias Bima")]
    capsys.readouterr()
    code, out = run(capsys, "publications", "--week", "2024-W48")
    assert code == 0
    assert "koreksi alias Bima" in out
    assert out.splitlines()[1].split()[:2] == ["2024-W48", METHODOLOGY_VERSION]  # week, methodology version


@pytest.mark.parametrize("warehouse_url", ["duckdb"], indirect=True)
def test_endpoints_are_checked(settings, tmp_path, monkeypatch, capsys):
    path = tmp_path / "endpoints.csv"
    monkeypatch.setenv("NETRALITAS_OFFICE_ENDPOINTS", str(path))
    path.write_text("kode_kantor,base_url,conn_id\n82.04,,\n82.01,https://api.example,bawaslu_halbar\n")
    code, out = run(capsys, "endpoints")
    assert code == 0
    rows = [line.split("  ") for line in out.splitlines()[1:3]]
    rows = [[cell.strip() for cell in row if cell.strip()] for row in rows]
    assert rows == [
        ["82.04", "Kabupaten Halmahera Selatan", "(host of netralitas_office_api)", "netralitas_office_api"],
        ["82.01", "Kabupaten Halmahera Barat", "https://api.example", "bawaslu_halbar"],
    ]
    assert out.splitlines()[-1].endswith("connection(s) needed: bawaslu_halbar, netralitas_office_api")

    path.write_text("kode_kantor,base_url,conn_id\n82.04,,\n82.04,https://api.example,x\n")
    assert ops.main(["endpoints"]) == 2
    assert "listed more than once: 82.04" in capsys.readouterr().err
    path.write_text("kode_kantor,base_url,conn_id\n99.99,,\n")
    assert ops.main(["endpoints"]) == 2
    assert "kode_kantor '99.99' is not an office of the reference" in capsys.readouterr().err


@pytest.mark.parametrize("warehouse_url", ["duckdb"], indirect=True)
def test_no_warehouse_yet_is_one_clear_line(settings, capsys):
    code = ops.main(["batches"])
    assert code == 2
    assert "no warehouse at" in capsys.readouterr().err
