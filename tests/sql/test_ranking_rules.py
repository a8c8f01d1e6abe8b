"""Methodology v2 (product.md §4) on hand-computed cases, on DuckDB and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest
from sqlalchemy import text

from include.netralitas.publish.publication import compute_ranking
from include.netralitas.warehouse.build import build_warehouse
from include.netralitas.weeks import IsoWeek

WEEK = IsoWeek.parse("2024-W48")  # cut-off 2024-12-01
CASE_SQL = (
    "INSERT INTO core.case_current (kode_kantor, nomor_kasus, batch_id, baris, received_at, tanggal_temuan,"
    " pemilihan, instansi_kode, jabatan, jenis_pelanggaran, status) VALUES (:kantor, :nomor, 'b', :n,"
    " :received, :tanggal, :pemilihan, :instansi, 'pelaksana', 'lainnya', :status)"
)


def add_cases(conn, instansi: str, count: int, *, tanggal=date(2024, 11, 1), status="diproses",
              pemilihan="PILKADA-2024") -> None:  # fmt: skip
    start = conn.execute(text("SELECT COUNT(*) FROM core.case_current")).scalar_one()
    received = datetime(2024, 11, 20, tzinfo=UTC)
    rows = [
        {"kantor": "82.04", "nomor": f"{start + i}/PL", "n": start + i, "received": received,
         "tanggal": tanggal, "pemilihan": pemilihan, "instansi": instansi, "status": status}
        for i in range(count)
    ]  # fmt: skip
    conn.execute(text(CASE_SQL), rows)


def add_release(conn, batch_id: str, tanggal_data: date, facts: dict[str, int], pemilihan="PILKADA-2024"):
    conn.execute(
        text("INSERT INTO core.national_release VALUES (:b, 'BAWASLU', 'rilis', :t, :e, :r)"),
        {"b": batch_id, "t": tanggal_data, "e": pemilihan, "r": datetime(2024, 11, 20, tzinfo=UTC)},
    )
    conn.execute(
        text("INSERT INTO core.national_release_fact VALUES (:b, :i, :j, NULL)"),
        [{"b": batch_id, "i": k, "j": v} for k, v in facts.items()],
    )


def ranking(wh, election="PILKADA-2024"):
    with wh.session() as conn:
        frame = compute_ranking(wh, conn, WEEK)
    return frame[frame["pemilihan"] == election].reset_index(drop=True)


@pytest.fixture
def wh(warehouse):
    build_warehouse(warehouse)  # dimensions: regions, instansi, elections
    return warehouse


def test_ties_share_a_rank_and_make_the_top_ten_longer(wh):
    # 13 regencies of Maluku Utara and Jawa Barat: 12, 11, 10, 10, 9, 8, 7, 6, 5, 4, 4, 4 and 1 case.
    counts = [12, 11, 10, 10, 9, 8, 7, 6, 5, 4, 4, 4, 1]
    codes = ["82.01", "82.02", "82.03", "82.04", "82.05", "82.06", "82.07", "82.08", "82.71", "82.72",
             "32.01", "32.02", "32.03"]  # fmt: skip
    with wh.begin() as conn:
        for code, n in zip(codes, counts, strict=True):
            add_cases(conn, code, n)
    frame = ranking(wh)
    assert list(frame["peringkat"]) == [1, 2, 3, 3, 5, 6, 7, 8, 9, 10, 10, 10]
    assert len(frame) == 12  # ties at 10 make the list longer; the 13th (1 case) is out
    tied = frame[frame["peringkat"] == 10]["instansi"].tolist()
    assert tied == sorted(tied)  # tied rows are listed by name
    # per-province rank: Jawa Barat's two regencies rank 1 and 1 (tied) in their province
    jabar = frame[frame["instansi_kode"].isin(["32.01", "32.02"])]
    assert list(jabar["peringkat_provinsi"]) == [1, 1]
    assert frame.loc[frame["instansi_kode"] == "82.04", "peringkat_provinsi"].item() == 3


def test_release_figure_plus_later_regional_cases_wins_when_larger(wh):
    with wh.begin() as conn:
        add_cases(conn, "82.04", 3, tanggal=date(2024, 10, 1))  # before T
        add_cases(conn, "82.04", 2, tanggal=date(2024, 11, 20))  # after T
        add_release(conn, "rel1", date(2024, 11, 15), {"82.04": 10})
    row = ranking(wh).iloc[0]
    assert (row["n_rilis"], row["r_setelah"], row["r_total"]) == (10, 2, 5)
    assert row["jumlah_pelanggaran"] == 12  # max(10 + 2, 5)
    assert row["penentu"] == "rilis"
    assert row["tanggal_rilis"] == date(2024, 11, 15)


def test_regional_total_wins_when_the_release_undercounts(wh):
    with wh.begin() as conn:
        add_cases(conn, "82.04", 8, tanggal=date(2024, 10, 1))
        add_release(conn, "rel1", date(2024, 11, 15), {"82.04": 3})
    row = ranking(wh).iloc[0]
    assert row["jumlah_pelanggaran"] == 8  # max(3 + 0, 8)
    assert row["penentu"] == "regional"


def test_instansi_not_in_a_top_n_release_is_ranked_by_regional_cases(wh):
    with wh.begin() as conn:
        add_cases(conn, "82.04", 4)
        add_cases(conn, "82.01", 6)
        add_release(conn, "rel1", date(2024, 11, 15), {"82.01": 9})  # lists only its top 1
    frame = ranking(wh)
    assert list(frame["instansi_kode"]) == ["82.01", "82.04"]
    assert list(frame["jumlah_pelanggaran"]) == [9, 4]
    assert pd.isna(frame.loc[1, "n_rilis"])


def test_dihentikan_cases_do_not_count(wh):
    with wh.begin() as conn:
        add_cases(conn, "82.04", 3)
        add_cases(conn, "82.04", 5, status="dihentikan")
    assert ranking(wh).iloc[0]["jumlah_pelanggaran"] == 3


def test_cases_after_the_cut_off_and_releases_dated_after_it_do_not_count(wh):
    with wh.begin() as conn:
        add_cases(conn, "82.04", 2, tanggal=date(2024, 12, 1))  # the cut-off day counts
        add_cases(conn, "82.04", 4, tanggal=date(2024, 12, 2))  # the next day does not
        add_release(conn, "late", date(2024, 12, 3), {"82.04": 50})
    row = ranking(wh).iloc[0]
    assert row["jumlah_pelanggaran"] == 2
    assert pd.isna(row["n_rilis"])


def test_the_newest_release_listing_the_instansi_wins(wh):
    with wh.begin() as conn:
        add_cases(conn, "82.04", 1, tanggal=date(2024, 11, 10))
        add_release(conn, "old", date(2024, 11, 1), {"82.04": 20, "82.01": 7})
        add_release(conn, "new", date(2024, 11, 15), {"82.04": 5})  # does not list 82.01
    frame = ranking(wh).set_index("instansi_kode")
    assert frame.loc["82.04", "rilis_batch_id"] == "new"
    assert frame.loc["82.04", "jumlah_pelanggaran"] == 5  # max(5 + 0, 1); the case is before T=11-15
    assert frame.loc["82.01", "rilis_batch_id"] == "old"  # the newest release listing 82.01
    assert frame.loc["82.01", "jumlah_pelanggaran"] == 7


def test_all_elections_together_form_their_own_block(wh):
    with wh.begin() as conn:
        add_cases(conn, "82.04", 2, pemilihan="PEMILU-2024", tanggal=date(2024, 1, 10))
        add_cases(conn, "82.04", 3, pemilihan="PILKADA-2024")
    assert ranking(wh, "SEMUA").iloc[0]["jumlah_pelanggaran"] == 5
    assert ranking(wh, "PEMILU-2024").iloc[0]["jumlah_pelanggaran"] == 2


def test_all_elections_sum_the_elections_figures_releases_included(wh):
    """v2: an instansi named only by KASN's Pilkada 2020 release (18) is in the SEMUA block with 18 plus its
    other elections' figures, never below their sum."""
    with wh.begin() as conn:
        add_cases(conn, "82.01", 2, pemilihan="PILKADA-2024")
        add_release(conn, "kasn", date(2020, 12, 31), {"82.01": 18}, pemilihan="PILKADA-2020")
        add_cases(conn, "82.04", 3, pemilihan="PILKADA-2024")
    assert ranking(wh, "PILKADA-2020").set_index("instansi_kode").loc["82.01", "jumlah_pelanggaran"] == 18
    semua = ranking(wh, "SEMUA").set_index("instansi_kode")
    assert semua.loc["82.01", ["jumlah_pelanggaran", "jumlah_pemilihan", "r_total", "penentu"]].tolist() == [
        20, 20, 2, "pemilihan",
    ]  # fmt: skip
    assert semua.loc["82.04", "jumlah_pelanggaran"] == 3


def test_a_release_for_all_elections_wins_only_when_it_says_more_than_the_sum(wh):
    with wh.begin() as conn:
        add_cases(conn, "82.04", 4, pemilihan="PEMILU-2024", tanggal=date(2024, 1, 10))
        add_cases(conn, "82.04", 1, pemilihan="PILKADA-2024", tanggal=date(2024, 11, 10))  # after T_s, any election
        add_cases(conn, "82.01", 6, pemilihan="PILKADA-2024", tanggal=date(2024, 11, 10))
        add_release(conn, "semua", date(2024, 10, 1), {"82.04": 9, "82.01": 3}, pemilihan="SEMUA")
    semua = ranking(wh, "SEMUA").set_index("instansi_kode")
    # 82.04: max(4 + 1, 9 + 1) = 10 from the release; 82.01: max(6, 3 + 6) = 9 from the release as well
    assert semua.loc["82.04", ["jumlah_pelanggaran", "n_rilis", "r_setelah", "penentu"]].tolist() == [10, 9, 1, "rilis"]
    assert semua.loc["82.01", ["jumlah_pelanggaran", "r_setelah", "penentu"]].tolist() == [9, 6, "rilis"]
    with wh.begin() as conn:
        add_cases(conn, "82.04", 8, pemilihan="PILKADA-2018", tanggal=date(2018, 6, 1))  # before T_s
    semua = ranking(wh, "SEMUA").set_index("instansi_kode")
    # the sum of the elections (8 + 4 + 1 = 13) now says more than the release (9 + 1): never below the sum
    assert semua.loc["82.04", ["jumlah_pelanggaran", "jumlah_pemilihan", "penentu"]].tolist() == [13, 13, "pemilihan"]


def test_a_status_update_of_a_case_replaces_it_and_keeps_the_history(warehouse, settings):
    """Two reports of case 001/PL: the later one (status dihentikan) wins, so it no longer counts."""
    import os

    from include.netralitas.ingest.pipeline import ingest_case_reports
    from include.netralitas.settings import hmac_key

    header = (
        "kode_kantor,nomor_kasus,tanggal_temuan,pemilihan,instansi,nip,nama_terlapor,jabatan,jenis_pelanggaran,status"
    )
    case = "82.04,{n}/PL,2024-11-01,PILKADA-2024,Pemkab Halsel,,,pelaksana,lainnya,{status}"
    folder = settings.case_report_drop
    folder.mkdir(parents=True)
    (folder / "82.04_1.csv").write_text(
        "\n".join([header, case.format(n="001", status="diproses"), case.format(n="002", status="sanksi")])
    )
    (folder / "82.04_2.csv").write_text("\n".join([header, case.format(n="001", status="dihentikan")]))
    os.utime(folder / "82.04_1.csv", (1_732_500_000, 1_732_500_000))  # received first
    os.utime(folder / "82.04_2.csv", (1_732_900_000, 1_732_900_000))  # received four days later
    ingest_case_reports(warehouse, settings, hmac_key(settings))
    build_warehouse(warehouse)
    with warehouse.session() as conn:
        history = conn.execute(
            text("SELECT status FROM core.case_history WHERE nomor_kasus = '001/PL' ORDER BY received_at")
        ).scalars()
        assert list(history) == ["diproses", "dihentikan"]
        current = conn.execute(text("SELECT nomor_kasus, status FROM core.case_current ORDER BY 1")).all()
    assert [tuple(r) for r in current] == [("001/PL", "dihentikan"), ("002/PL", "sanksi")]
    assert ranking(warehouse).iloc[0]["r_total"] == 1  # only 002/PL counts


def test_post_load_checks_roll_back_an_orphan_and_warn_on_reconciliation_gaps(wh, tmp_path):
    from include.netralitas.warehouse.build import WarehouseCheckFailed

    with wh.begin() as conn:
        add_cases(conn, "82.04", 2)
        # a release staged as ingestion stages it, so that the build merges it: regional count up to T is 2
        conn.execute(
            text(
                "INSERT INTO landing.batch (batch_id, contract, source, file_name, landed_path, received_at,"
                " ingested_at, rows_in, rows_loaded, rows_quarantined, rows_duplicate, status)"
                " VALUES ('rel1', 'national-release/v1', 'file', 'r.csv', '-', :t, :t, 1, 1, 0, 0, 'loaded')"
            ),
            {"t": datetime(2024, 11, 16, tzinfo=UTC)},
        )
        conn.execute(
            text("INSERT INTO staging.national_release VALUES ('rel1', 'BAWASLU', 'r', '2024-11-15', 'PILKADA-2024')")
        )
        conn.execute(
            text("INSERT INTO staging.national_release_row VALUES ('rel1', 1, '82.04', 'Halsel', 5, NULL, NULL)")
        )
    build_warehouse(wh, gx_dir=tmp_path / "gx", run_id="ok")
    with wh.session() as conn:
        warning = conn.execute(
            text(
                "SELECT success, unexpected_count, tingkat FROM audit.validation_result"
                " WHERE kolom = 'selisih' AND run_id = 'ok'"
            )
        ).one()
    assert tuple(warning) == (False, 1, "warning")
    with wh.begin() as conn:  # a fact whose batch the manifest does not know
        conn.execute(
            text(
                "INSERT INTO staging.case_report VALUES ('ghost', 1, '82.04', '9/PL', '2024-11-02', 'PILKADA-2024',"
                " '82.04', 'x', NULL, NULL, 'pelaksana', 'lainnya', 'diproses')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO core.case_history VALUES ('ghost', 1, :t, '82.04', '9/PL', '2024-11-02', 'PILKADA-2024',"
                " '82.04', NULL, NULL, 'pelaksana', 'lainnya', 'diproses')"
            ),
            {"t": datetime(2024, 11, 2, tzinfo=UTC)},
        )
    with pytest.raises(WarehouseCheckFailed, match="rolled back"):
        build_warehouse(wh, gx_dir=tmp_path / "gx", run_id="bad")
    with wh.session() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM core.case_current WHERE batch_id = 'ghost'")).scalar_one() == 0
        failed = conn.execute(
            text("SELECT unexpected_count FROM audit.validation_result WHERE run_id = 'bad' AND tingkat = 'critical'")
        ).scalar_one()
    assert failed == 1
    assert (tmp_path / "gx" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").exists()
