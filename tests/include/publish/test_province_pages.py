"""Province pages through publish_week on both databases: written into the week folder with the five files,
named by Publication.files(), re-rendered byte for byte from the frozen snapshot."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import text

from include.netralitas.publish.publication import publish_week
from include.netralitas.warehouse.build import build_warehouse
from include.netralitas.weeks import IsoWeek

FIVE = {"ranking.csv", "ranking.json", "index.html", "chart.png", "datapackage.json"}


def _tree(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_frozen_snapshot_with_provinces_publishes_their_pages_byte_for_byte(warehouse, tmp_path):
    build_warehouse(warehouse)
    with warehouse.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO core.case_current (kode_kantor, nomor_kasus, batch_id, baris, received_at,"
                " tanggal_temuan, pemilihan, instansi_kode, jabatan, jenis_pelanggaran, status) VALUES ('82.04',"
                " '1', 'b', 1, :r, :t, 'PILKADA-2024', '82.04', 'pelaksana', 'lainnya', 'diproses')"
            ),
            {"r": datetime(2024, 11, 1, tzinfo=UTC), "t": date(2024, 11, 20)},
        )
    week = IsoWeek.parse("2024-W47")
    publish_week(warehouse, tmp_path, week)
    province = {
        "kode": "82",
        "nama": "Maluku Utara",
        "baris": [
            {"pemilihan": "PILKADA-2024", "instansi_kode": "82.04", "instansi": "Pemerintah Kabupaten Halmahera"
             " Selatan", "jumlah_pelanggaran": 1, "peringkat": 1, "peringkat_provinsi": 1},
        ],
    }  # fmt: skip
    with warehouse.begin() as conn:  # the snapshot as methodology v2 freezes it, with its provinces
        stored = conn.execute(text("SELECT metadata_json FROM mart.publication WHERE minggu = :w"), {"w": str(week)})
        meta = json.loads(stored.scalar_one())
        meta["provinsi"] = [province]
        conn.execute(
            text("UPDATE mart.publication SET metadata_json = :m WHERE minggu = :w"),
            {"m": json.dumps(meta, ensure_ascii=False, sort_keys=True), "w": str(week)},
        )
    first = publish_week(warehouse, tmp_path, week)
    assert first.outcome == "re-rendered"
    files = _tree(first.folder)
    assert set(files) == FIVE | {"provinsi/82.html"}
    assert set(first.files()) == set(files)
    assert first.summary()["files"]["provinsi/82.html"] == str(first.folder / "provinsi" / "82.html")
    page = files["provinsi/82.html"].decode()
    assert (
        "Pemerintah Kabupaten Halmahera Selatan: peringkat 1 nasional, peringkat 1 di Maluku Utara"
        " (Pilkada 2024, data per 24 November 2024)" in page
    )
    assert '<a href="provinsi/82.html">Maluku Utara</a>' in files["index.html"].decode()
    assert json.loads(files["ranking.json"])["provinsi"][0]["halaman"] == "provinsi/82.html"
    again = publish_week(warehouse, tmp_path, week)
    assert _tree(again.folder) == files
