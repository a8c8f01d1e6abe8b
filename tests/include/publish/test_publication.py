"""Publication: escaping, formula neutralisation, frozen snapshots, forced re-publication, movement."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pandas as pd
from sqlalchemy import text

from include.netralitas.publish.publication import movement, neutralise, publish_week, render_csv, render_html
from include.netralitas.warehouse.build import build_warehouse
from include.netralitas.weeks import IsoWeek


def test_formula_cells_are_neutralised():
    assert [neutralise(v) for v in ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "Kemenag", 7, None]] == [
        "'=cmd|' /C calc'!A0", "'+1", "'-2", "'@SUM(A1)", "Kemenag", "7", "",
    ]  # fmt: skip


def _rows(name: str) -> pd.DataFrame:
    return pd.DataFrame(
        [{"pemilihan": "PILKADA-2024", "peringkat": 1, "instansi_kode": "X", "instansi": name, "provinsi": None,
          "jumlah_pelanggaran": 3, "peringkat_provinsi": pd.NA, "perubahan": "baru", "n_rilis": pd.NA,
          "tanggal_rilis": None, "r_setelah": pd.NA, "r_total": 3}]
    )  # fmt: skip


def test_names_are_escaped_in_html_and_neutralised_in_csv():
    metadata = {
        "batas_waktu": "2024-12-01T23:59:59+07:00",
        "dibuat_pada": "2024-12-02T00:00:00+00:00",
        "sumber": [],
        "pemilihan": [],
    }
    header = {"minggu": "2024-W48", "versi_metodologi": "1", "metadata_json": json.dumps(metadata)}
    page = render_html(_rows("<script>alert(1)</script>"), header).decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert b"'=HYPERLINK" in render_csv(_rows('=HYPERLINK("http://x")'))


def test_movement_against_the_previous_week():
    previous = pd.DataFrame({"pemilihan": ["E"] * 3, "instansi_kode": ["a", "b", "c"], "peringkat": [1, 2, 3]})
    current = pd.DataFrame({"pemilihan": ["E"] * 4, "instansi_kode": ["b", "a", "c", "d"], "peringkat": [1, 2, 3, 4]})
    assert movement(current, previous) == ["naik 1", "turun 1", "tetap", "baru"]


def _case(conn, nomor: str, instansi: str, tanggal: date) -> None:
    conn.execute(
        text(
            "INSERT INTO core.case_current (kode_kantor, nomor_kasus, batch_id, baris, received_at, tanggal_temuan,"
            " pemilihan, instansi_kode, jabatan, jenis_pelanggaran, status) VALUES ('82.04', :n, 'b', 1, :r, :t,"
            " 'PILKADA-2024', :i, 'pelaksana', 'lainnya', 'diproses')"
        ),
        {"n": nomor, "r": datetime(2024, 11, 1, tzinfo=UTC), "t": tanggal, "i": instansi},
    )


def test_a_published_week_is_frozen_and_a_forced_republication_is_recorded(warehouse, tmp_path):
    build_warehouse(warehouse)
    week = IsoWeek.parse("2024-W47")
    with warehouse.begin() as conn:
        _case(conn, "1", "82.04", date(2024, 11, 20))
    first = publish_week(warehouse, tmp_path, week)
    csv_bytes, html_bytes = first.ranking_csv.read_bytes(), first.index_html.read_bytes()
    with warehouse.begin() as conn:  # a late report arrives for the same week
        _case(conn, "2", "82.01", date(2024, 11, 21))
    again = publish_week(warehouse, tmp_path, week)
    assert again.reused_snapshot
    assert (again.ranking_csv.read_bytes(), again.index_html.read_bytes()) == (csv_bytes, html_bytes)
    forced = publish_week(warehouse, tmp_path, week, force_reason="laporan terlambat Halmahera Barat")
    assert not forced.reused_snapshot
    assert forced.rows == 4  # two instansi, in the PILKADA-2024 block and the all-elections block
    with warehouse.session() as conn:
        log = conn.execute(text("SELECT tindakan, alasan FROM audit.publication_log ORDER BY dicatat_pada")).all()
    assert [tuple(r) for r in log] == [
        ("terbit", None),
        ("terbit_ulang", "laporan terlambat Halmahera Barat"),
    ]
    assert (tmp_path / "latest").resolve() == (tmp_path / "2024-W47").resolve()
    # the next week shows movement against this one
    with warehouse.begin() as conn:
        for n in ("3", "4"):
            _case(conn, n, "82.02", date(2024, 11, 26))
        _case(conn, "5", "82.01", date(2024, 11, 27))
    nxt = publish_week(warehouse, tmp_path, IsoWeek.parse("2024-W48"))
    rows = pd.read_csv(nxt.ranking_csv)
    block = rows[rows["pemilihan"] == "PILKADA-2024"].set_index("instansi")
    assert block["peringkat"].to_dict() == {
        "Pemerintah Kabupaten Halmahera Barat": 1,
        "Pemerintah Kabupaten Halmahera Tengah": 1,
        "Pemerintah Kabupaten Halmahera Selatan": 3,
    }
    assert block["perubahan"].to_dict() == {
        "Pemerintah Kabupaten Halmahera Barat": "tetap",
        "Pemerintah Kabupaten Halmahera Tengah": "baru",
        "Pemerintah Kabupaten Halmahera Selatan": "turun 2",
    }
    assert (tmp_path / "latest").resolve() == (tmp_path / "2024-W48").resolve()


KILLER = """
import os, signal, sys
from pathlib import Path
from include.netralitas.publish.publication import publish_week
from include.netralitas.warehouse.database import Warehouse
from include.netralitas.weeks import IsoWeek

real = Path.write_bytes
written = []
def dying(self, data):
    written.append(self.name)
    if len(written) == 3:  # two files of the week are written, the third never is
        os.kill(os.getpid(), signal.SIGKILL)
    return real(self, data)
Path.write_bytes = dying
url, folder, week, reason = sys.argv[1:5]
publish_week(Warehouse(url), Path(folder), IsoWeek.parse(week), force_reason=reason or None)
"""


def _tree(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_kill_during_publishing_leaves_no_partial_week_and_the_previous_latest_intact(warehouse, tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    build_warehouse(warehouse)
    with warehouse.begin() as conn:
        _case(conn, "1", "82.04", date(2024, 11, 20))
        _case(conn, "2", "82.01", date(2024, 11, 27))
    publish_week(warehouse, tmp_path, IsoWeek.parse("2024-W47"))
    week47 = _tree(tmp_path / "2024-W47")
    five = {"ranking.csv", "ranking.json", "index.html", "chart.png", "datapackage.json"}
    assert set(week47) == five | {"provinsi/82.html"}  # Halmahera Selatan's province, Maluku Utara
    warehouse.engine.dispose()

    def killed(week: str, reason: str = "") -> None:
        run = subprocess.run(
            [sys.executable, "-c", KILLER, warehouse.url, str(tmp_path), week, reason],
            cwd=ROOT, capture_output=True, text=True, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        assert run.returncode == -9, run.stderr

    killed("2024-W48")  # a new week, killed half-way
    assert not (tmp_path / "2024-W48").exists()
    assert (tmp_path / "latest").resolve() == (tmp_path / "2024-W47").resolve()
    killed("2024-W47", "koreksi")  # a forced re-publication, killed half-way
    assert _tree(tmp_path / "2024-W47") == week47
    # re-running converges: the week appears whole, and leftovers of the killed runs are gone
    published = publish_week(warehouse, tmp_path, IsoWeek.parse("2024-W48"))
    assert set(_tree(published.folder)) == set(week47)
    assert (tmp_path / "latest").resolve() == (tmp_path / "2024-W48").resolve()
    assert not [p for p in (tmp_path / ".weeks").iterdir() if p.name.startswith(".tmp")]
    assert "2024-W48" in (tmp_path / "index.html").read_text()


def test_rerunning_a_week_gives_byte_identical_files_and_a_valid_data_package(warehouse, tmp_path):
    build_warehouse(warehouse)
    with warehouse.begin() as conn:
        _case(conn, "1", "82.04", date(2024, 11, 20))
    first = _tree(publish_week(warehouse, tmp_path, IsoWeek.parse("2024-W47")).folder)
    again = _tree(publish_week(warehouse, tmp_path, IsoWeek.parse("2024-W47")).folder)
    assert again == first
    package = json.loads(first["datapackage.json"])
    assert {r["path"] for r in package["resources"]} <= set(first)
    header = first["ranking.csv"].decode().splitlines()[0].split(",")
    assert [f["name"] for f in package["resources"][0]["schema"]["fields"]] == header
    assert first["chart.png"].startswith(b"\x89PNG")
    doc = json.loads(first["ranking.json"])
    assert doc["tren"]["pemilihan"] == ["PILKADA-2018", "PEMILU-2019", "PILKADA-2020", "PEMILU-2024", "PILKADA-2024"]
    assert doc["tren"]["nilai"]["82.04"] == [0, 0, 0, 0, 1]
    assert doc["minggu"] == "2024-W47"


def test_outcomes_previews_refusals_and_latest_whatever_the_order(warehouse, tmp_path):
    import pytest

    from include.netralitas.weeks import WIB, WeekNotPublishable

    build_warehouse(warehouse)
    with warehouse.begin() as conn:
        _case(conn, "1", "82.04", date(2024, 11, 20))
    newer = publish_week(warehouse, tmp_path, IsoWeek.parse("2024-W48"))
    older = publish_week(warehouse, tmp_path, IsoWeek.parse("2018-W01"))  # history, published afterwards
    assert (newer.outcome, older.outcome) == ("published", "published")
    assert (tmp_path / "latest").resolve() == (tmp_path / "2024-W48").resolve()
    again = publish_week(warehouse, tmp_path, IsoWeek.parse("2018-W01"))
    assert again.outcome_text == "re-rendered from its frozen snapshot (unchanged)"
    forced = publish_week(warehouse, tmp_path, IsoWeek.parse("2018-W01"), force_reason="koreksi")
    assert forced.outcome_text == "re-published, reason: koreksi"
    assert set(forced.summary()["files"]) == {
        "ranking.csv",
        "ranking.json",
        "index.html",
        "chart.png",
        "datapackage.json",
    }

    monday = datetime(2024, 12, 2, 9, tzinfo=WIB)  # 2024-W49 has not ended on its Monday
    with pytest.raises(WeekNotPublishable, match="week 2024-W49 has not ended"):
        publish_week(warehouse, tmp_path, IsoWeek.parse("2024-W49"), now=monday)
    with pytest.raises(WeekNotPublishable, match="before 2018-W01"):
        publish_week(warehouse, tmp_path, IsoWeek.parse("2017-W52"))
    preview = publish_week(warehouse, tmp_path, IsoWeek.parse("2024-W49"), preview=True, now=monday)
    assert preview.outcome == "preview"
    assert preview.folder == tmp_path / "preview" / "2024-W49"
    assert preview.ranking_csv.is_file()
    assert not (tmp_path / "2024-W49").exists()
    with warehouse.session() as conn:
        frozen = conn.execute(text("SELECT minggu FROM mart.publication ORDER BY minggu")).scalars().all()
    assert frozen == ["2018-W01", "2024-W48"]  # the preview was never frozen
    assert (tmp_path / "latest").resolve() == (tmp_path / "2024-W48").resolve()
