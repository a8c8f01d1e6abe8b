"""build_warehouse's reference dimensions: loaded in bulk on the first build, refreshed (updated in place) when
the reference data changes, left alone when it does not. On DuckDB and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from include.netralitas.contracts import PEMILIHAN_LABELS
from include.netralitas.reference.catalogue import load_catalogue
from include.netralitas.warehouse import build
from include.netralitas.warehouse.build import build_warehouse


def _dimensions(warehouse) -> dict[str, dict[str, tuple]]:
    with warehouse.session() as conn:
        return {
            name: {row[0]: tuple(row[1:]) for row in conn.execute(text(f"SELECT * FROM core.{name}"))}
            for name in ("region", "instansi", "pemilihan")  # constants, never input
        }


def _loads(warehouse) -> list[tuple]:
    with warehouse.session() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT sha256, loaded_at FROM audit.reference_load"))]


def test_the_reference_dimensions_are_loaded_whole(warehouse):
    build_warehouse(warehouse)
    catalogue = load_catalogue()
    loaded = _dimensions(warehouse)
    assert loaded["region"] == {r.kode: (r.nama, r.kode_provinsi, r.tingkat) for r in catalogue.regions.values()}
    assert loaded["instansi"] == {
        i.kode: (i.nama, i.jenis, i.kode_provinsi, i.nama_provinsi) for i in catalogue.instansi.values()
    }
    assert {kode: nama for kode, (nama, _) in loaded["pemilihan"].items()} == PEMILIHAN_LABELS
    assert sorted(urutan for _, urutan in loaded["pemilihan"].values()) == list(range(1, len(PEMILIHAN_LABELS) + 1))
    assert len(_loads(warehouse)) == 1


def test_a_changed_reference_is_refreshed_and_an_unchanged_one_is_not(warehouse, monkeypatch):
    build_warehouse(warehouse)
    first = _loads(warehouse)
    build_warehouse(warehouse)
    assert _loads(warehouse) == first  # unchanged: not reloaded

    monkeypatch.setitem(build.PEMILIHAN_LABELS, "PILKADA-2024", "Pilkada Serentak 2024")
    build_warehouse(warehouse)
    after = _dimensions(warehouse)
    assert after["pemilihan"]["PILKADA-2024"][0] == "Pilkada Serentak 2024"
    assert after["pemilihan"]["PILKADA-2018"][0] == "Pilkada 2018"
    assert len(after["region"]) == len(load_catalogue().regions)  # updated in place, nothing added twice
    [(digest, _)] = _loads(warehouse)
    assert digest != first[0][0]


def _stage(warehouse, batch: str, ingested: int, rows: list[tuple[int, str, str]]) -> None:
    """Batch `batch` in the manifest (ingested on day `ingested` of November 2024) and its staged rows
    (baris, nomor_kasus, status), all for one office."""
    from datetime import UTC, date, datetime

    import pandas as pd

    from include.netralitas.contracts import JABATAN, JENIS_PELANGGARAN, PEMILIHAN

    catalogue = load_catalogue()
    office, instansi = sorted(catalogue.regions)[0], sorted(catalogue.instansi)[0]
    at = datetime(2024, 11, ingested, tzinfo=UTC)
    frame = pd.DataFrame(
        {
            "batch_id": batch, "baris": [r[0] for r in rows], "kode_kantor": office,
            "nomor_kasus": [r[1] for r in rows], "tanggal_temuan": date(2024, 10, 1), "pemilihan": PEMILIHAN[-1],
            "instansi_kode": instansi, "instansi_asli": "x", "nip_hash": None, "nama_hash": "h",
            "jabatan": JABATAN[0], "jenis_pelanggaran": JENIS_PELANGGARAN[0], "status": [r[2] for r in rows],
        }
    )  # fmt: skip
    with warehouse.begin() as conn:
        if not conn.execute(text("SELECT 1 FROM landing.batch WHERE batch_id = :b"), {"b": batch}).all():
            conn.execute(
                text(
                    "INSERT INTO landing.batch (batch_id, contract, source, file_name, landed_path, received_at,"
                    " ingested_at, rows_in, rows_loaded, rows_quarantined, rows_duplicate, status) VALUES"
                    " (:b, 'case-report/v1', 'file', :b, '-', :t, :t, 0, 0, 0, 0, 'loaded')"
                ),
                {"b": batch, "t": at},
            )
        warehouse.bulk_insert(conn, "staging.case_report", frame)


def _current(warehouse) -> dict[str, tuple]:
    with warehouse.session() as conn:
        rows = conn.execute(text("SELECT nomor_kasus, batch_id, baris, status FROM core.case_current"))
        return {nomor: (batch, baris, status) for nomor, batch, baris, status in rows}


def test_the_merge_revisits_only_the_cases_of_unmerged_batches_and_the_newest_report_wins(warehouse):
    from include.netralitas.warehouse.database import sql

    _stage(warehouse, "a", 1, [(1, "K1", "diproses"), (2, "K2", "diproses")])
    build_warehouse(warehouse)
    assert _current(warehouse) == {"K1": ("a", 1, "diproses"), "K2": ("a", 2, "diproses")}

    _stage(warehouse, "b", 2, [(1, "K1", "sanksi"), (2, "K3", "diproses")])  # K1 again, later; K3 new
    counts = build_warehouse(warehouse)
    assert _current(warehouse) == {
        "K1": ("b", 1, "sanksi"), "K2": ("a", 2, "diproses"), "K3": ("b", 2, "diproses"),
    }  # fmt: skip
    assert counts["core.case_history"] == 4
    assert counts["core.case_current"] == 3
    assert build_warehouse(warehouse) == counts  # nothing new: nothing changes

    # A replay: rows of the merged batch a reach staging and a is forgotten in core.merged_batch (one
    # transaction, as replay_batch does). Its new rows are merged; K1 stays b's (landed after a).
    _stage(warehouse, "a", 1, [(3, "K2", "sanksi"), (4, "K4", "diproses"), (5, "K1", "dihentikan")])
    with warehouse.begin() as conn:
        conn.execute(sql("core/delete_merged_batch.sql"), {"b": "a"})
    build_warehouse(warehouse)
    assert _current(warehouse) == {
        "K1": ("b", 1, "sanksi"), "K2": ("a", 3, "sanksi"), "K3": ("b", 2, "diproses"),
        "K4": ("a", 4, "diproses"),
    }  # fmt: skip
    with warehouse.session() as conn:
        merged = set(conn.execute(text("SELECT batch_id FROM core.merged_batch")).scalars())
        history = conn.execute(text("SELECT COUNT(*) FROM core.case_history")).scalar_one()
    assert merged == {"a", "b"}
    assert history == 7


def test_a_bulk_load_in_many_chunks_reads_back_every_value(warehouse, monkeypatch):
    import pandas as pd

    from include.netralitas.warehouse import database

    monkeypatch.setattr(database, "COPY_CHUNK_ROWS", 2)  # 5 rows: three chunks on PostgreSQL
    values = ['koma, "kutip"', "baris\nbaru", "", None, "ä ñ 漢"]
    frame = pd.DataFrame(
        {
            "batch_id": "r", "baris": range(1, 6), "instansi_kode": "X", "instansi_asli": [v or "" for v in values],
            "jumlah": range(5), "peringkat_rilis": pd.array([1, None, 3, None, 5], dtype="Int64"),
            "provinsi_asli": pd.array(values, dtype=pd.StringDtype("pyarrow")),
        }
    )  # fmt: skip
    with warehouse.begin() as conn:
        assert warehouse.bulk_insert(conn, "staging.national_release_row", frame) == 5
    with warehouse.session() as conn:
        loaded = conn.execute(
            text("SELECT instansi_asli, jumlah, peringkat_rilis, provinsi_asli FROM staging.national_release_row"
                 " ORDER BY baris")
        ).all()  # fmt: skip
    assert [tuple(r) for r in loaded] == [
        (v or "", n, rank, v) for v, n, rank in zip(values, range(5), [1, None, 3, None, 5], strict=True)
    ]


def test_the_merge_plans_no_nested_loop_over_the_tables_it_fills(pg_migrated_url):
    """PostgreSQL: once core.case_history and core.case_current have been vacuumed while empty (after a first
    build that was rolled back or killed), the planner trusts their zero rows and, left alone, re-scans them
    once per staged row while the merge fills them (time growing with the square of the rows). The build's
    transaction settings leave it hash joins only."""
    import psycopg

    from include.netralitas.warehouse.database import Warehouse, read_sql

    with psycopg.connect(pg_migrated_url, autocommit=True) as conn:
        for table in ("core.case_history", "core.case_current"):
            conn.execute(f"VACUUM ANALYZE {table}")
    wh = Warehouse(pg_migrated_url)

    def plans() -> dict[str, str]:
        params = {"merged_at": datetime.now(UTC)}
        return {
            step: "\n".join(row[0] for row in conn.execute(text("EXPLAIN " + read_sql(step)), params))
            for step in build.CORE_STEPS
        }

    try:
        with wh.begin() as conn:
            alone = plans()
            for setting in build.POSTGRESQL_SETTINGS:
                conn.execute(text(read_sql(setting)))
            settled = plans()
    finally:
        wh.engine.dispose()
    assert "Nested Loop" in alone["core/insert_case_history.sql"]  # the hazard the settings are there for
    assert {step: "Nested Loop" in plan for step, plan in settled.items()} == dict.fromkeys(build.CORE_STEPS, False)
