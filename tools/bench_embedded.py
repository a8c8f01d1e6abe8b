"""Embedded-warehouse benchmark behind docs/decisions/0001-embedded-warehouse.md: DuckDB against SQLite.

    python tools/bench_embedded.py --rows 1000000

Both databases get the project's migrations and the same synthetic staged case rows; each is timed for
the bulk load into staging.case_report (DuckDB: the project's `Warehouse.bulk_insert`; SQLite: the
fastest native path, `executemany` in one transaction), the merge into core.case_current (the project's
`sql/core/upsert_case_current.sql` and `insert_case_current.sql` semantics) and the ranking query
`sql/mart/national_ranking.sql`.
SQLite has no schemas: each layer is an ATTACHed file, as a SQLite warehouse would have to do.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from include.netralitas.contracts import JABATAN, JENIS_PELANGGARAN, PEMILIHAN, STATUS  # noqa: E402
from include.netralitas.reference.catalogue import load_catalogue  # noqa: E402
from include.netralitas.warehouse.build import build_warehouse  # noqa: E402
from include.netralitas.warehouse.database import MIGRATIONS_DIR, RANKING_SQL, Warehouse, read_sql, split_statements  # noqa: E402

RANKING_QUERY = "SELECT * FROM (" + read_sql(RANKING_SQL) + ") AS r WHERE peringkat <= :top_n"
SCHEMAS = ("landing", "staging", "core", "mart", "audit")
MERGE_SQL = """
INSERT INTO core.case_current (kode_kantor, nomor_kasus, batch_id, baris, received_at, tanggal_temuan,
    pemilihan, instansi_kode, nip_hash, nama_hash, jabatan, jenis_pelanggaran, status)
SELECT kode_kantor, nomor_kasus, batch_id, baris, '2024-11-25 00:00:00+00', tanggal_temuan, pemilihan,
    instansi_kode, nip_hash, nama_hash, jabatan, jenis_pelanggaran, status
FROM (SELECT s.*, ROW_NUMBER() OVER (PARTITION BY kode_kantor, nomor_kasus ORDER BY batch_id DESC, baris DESC)
      AS newest FROM staging.case_report AS s) AS ranked
WHERE newest = 1
"""


def synthetic_rows(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cat = load_catalogue()
    offices = np.array(sorted(cat.regions))
    instansi = np.array(sorted(cat.instansi))
    office = offices[rng.integers(0, len(offices), n)]
    days = rng.integers(0, 3650, n)
    return pd.DataFrame(
        {
            "batch_id": np.char.add("b", (np.arange(n) // 5000).astype(str)),
            "baris": np.arange(n) % 5000 + 1,
            "kode_kantor": office,
            "nomor_kasus": np.char.add(np.arange(n).astype(str), "/PL"),
            "tanggal_temuan": pd.to_datetime(date(2015, 1, 1)) + pd.to_timedelta(days, unit="D"),
            "pemilihan": np.array(PEMILIHAN)[rng.integers(0, len(PEMILIHAN), n)],
            "instansi_kode": instansi[rng.integers(0, len(instansi), n)],
            "instansi_asli": "Pemkab Contoh",
            "nip_hash": np.char.add("h", rng.integers(0, 10**9, n).astype(str)),
            "nama_hash": np.char.add("n", rng.integers(0, 10**9, n).astype(str)),
            "jabatan": np.array(JABATAN)[rng.integers(0, len(JABATAN), n)],
            "jenis_pelanggaran": np.array(JENIS_PELANGGARAN)[rng.integers(0, len(JENIS_PELANGGARAN), n)],
            "status": np.array(STATUS)[rng.integers(0, len(STATUS), n)],
        }
    )


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def bench_duckdb(folder: Path, rows: pd.DataFrame) -> dict[str, float]:
    wh = Warehouse(f"duckdb:///{folder / 'warehouse.duckdb'}")
    build_warehouse(wh)
    from sqlalchemy import text

    def load():
        with wh.begin() as conn:
            wh.bulk_insert(conn, "staging.case_report", rows)

    def merge():
        with wh.begin() as conn:
            conn.execute(text(MERGE_SQL))

    def rank():
        with wh.session() as conn:
            return conn.execute(text(RANKING_QUERY),
                                {"cutoff_date": date(2024, 12, 1), "top_n": 10}).fetchall()  # fmt: skip

    load_s, _ = timed(load)
    merge_s, _ = timed(merge)
    rank_s, result = timed(rank)
    return {"load_s": load_s, "merge_s": merge_s, "rank_s": rank_s, "ranked_rows": len(result)}


def _sqlite_connect(folder: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(folder / "main.sqlite", isolation_level=None)
    for schema in SCHEMAS:
        conn.execute(f"ATTACH DATABASE '{folder / (schema + '.sqlite')}' AS {schema}")
    return conn


def bench_sqlite(folder: Path, rows: pd.DataFrame) -> dict[str, float]:
    conn = _sqlite_connect(folder)
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        for statement in split_statements(path.read_text()):
            if "CREATE SCHEMA" not in statement.upper():
                conn.execute(statement)
    cat = load_catalogue()
    conn.executemany(
        "INSERT INTO core.instansi VALUES (?, ?, ?, ?, ?)",
        [(i.kode, i.nama, i.jenis, i.kode_provinsi, i.nama_provinsi) for i in cat.instansi.values()],
    )
    conn.executemany(
        "INSERT INTO core.pemilihan VALUES (?, ?, ?)",
        [(e, e, n) for n, e in enumerate((*PEMILIHAN, "SEMUA"))],
    )
    records = rows.assign(tanggal_temuan=rows["tanggal_temuan"].dt.strftime("%Y-%m-%d"))
    values = list(records.itertuples(index=False, name=None))
    columns = ", ".join(rows.columns)
    marks = ", ".join("?" for _ in rows.columns)

    def load():
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO staging.case_report ({columns}) VALUES ({marks})", values)
        conn.execute("COMMIT")

    def merge():
        conn.execute("BEGIN")
        conn.execute(MERGE_SQL)
        conn.execute("COMMIT")

    def rank():
        sql = RANKING_QUERY.replace(":cutoff_date", "'2024-12-01'")
        return conn.execute(sql.replace(":top_n", "10")).fetchall()

    load_s, _ = timed(load)
    merge_s, _ = timed(merge)
    rank_s, result = timed(rank)
    return {"load_s": load_s, "merge_s": merge_s, "rank_s": rank_s, "ranked_rows": len(result)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    rows = synthetic_rows(args.rows)
    print(f"{args.rows:,} staged case rows; sqlite {sqlite3.sqlite_version}")
    print(f"{'database':<10} {'load s':>8} {'rows/s':>10} {'merge s':>8} {'rank s':>8} {'ranked':>7}")
    for name, bench in (("duckdb", bench_duckdb), ("sqlite", bench_sqlite)):
        with tempfile.TemporaryDirectory() as tmp:
            r = bench(Path(tmp), rows)
        rate = args.rows / r["load_s"]
        print(f"{name:<10} {r['load_s']:>8.2f} {rate:>10,.0f} {r['merge_s']:>8.2f} {r['rank_s']:>8.2f} "
              f"{r['ranked_rows']:>7}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
