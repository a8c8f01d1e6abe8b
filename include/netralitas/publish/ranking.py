"""The week's ranking (product.md §4, methodology v2): computed from the warehouse at the week's cut-off."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import text

from include.netralitas.contracts import PEMILIHAN
from include.netralitas.warehouse.database import RANKING_SQL, read_sql, sql

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from include.netralitas.warehouse.database import Warehouse
    from include.netralitas.weeks import IsoWeek

TOP_N = 10
RANKING_COLUMNS = [
    "pemilihan", "peringkat", "instansi", "provinsi", "jumlah_pelanggaran", "peringkat_provinsi",
    "perubahan", "n_rilis", "tanggal_rilis", "r_setelah", "r_total",
]  # fmt: skip
SNAPSHOT_COLUMNS = [
    "minggu", "pemilihan", "urutan", "peringkat", "instansi_kode", "instansi", "provinsi",
    "jumlah_pelanggaran", "peringkat_provinsi", "perubahan", "n_rilis", "tanggal_rilis", "rilis_batch_id",
    "r_setelah", "r_total", "penentu",
]  # fmt: skip
INTEGER_COLUMNS = ("peringkat", "jumlah_pelanggaran", "peringkat_provinsi", "n_rilis", "r_setelah", "r_total")


def compute_ranking(wh: Warehouse, conn: Connection, week: IsoWeek, top_n: int = TOP_N) -> pd.DataFrame:
    """The §4 ranking at the week's cut-off: every instansi ranked `top_n` or better, per election."""
    query = f"SELECT * FROM ({read_sql(RANKING_SQL)}) AS ranking WHERE peringkat <= :top_n"
    result = conn.execute(text(query), {"cutoff_date": week.sunday, "top_n": top_n})
    frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    # Tied rows by name, in code-point order, the same whatever the database's collation.
    return frame.sort_values(["urutan_pemilihan", "peringkat", "instansi", "instansi_kode"], kind="stable")


def movement(current: pd.DataFrame, previous: pd.DataFrame | None) -> list[str]:
    """`naik N`, `turun N`, `tetap` or `baru` against the previous published week, per election."""
    if previous is None:
        return ["baru"] * len(current)
    before = {(r.pemilihan, r.instansi_kode): int(r.peringkat) for r in previous.itertuples()}
    moves = []
    for row in current.itertuples():
        old = before.get((row.pemilihan, row.instansi_kode))
        if old is None:
            moves.append("baru")
        elif old > row.peringkat:
            moves.append(f"naik {old - row.peringkat}")
        elif old < row.peringkat:
            moves.append(f"turun {row.peringkat - old}")
        else:
            moves.append("tetap")
    return moves


def week_sources(conn: Connection, week: IsoWeek) -> list[dict]:
    result = conn.execute(sql("publication/select_sources.sql"), {"d": week.sunday}).mappings()
    return [{**row, "tanggal_data": row["tanggal_data"].isoformat()} for row in result]


def week_trend(conn: Connection, week: IsoWeek, kodes: set[str]) -> dict[str, dict[str, int]]:
    """Counted cases of each ranked instansi in every election, up to the cut-off (frozen with the week)."""
    result = conn.execute(sql("publication/select_trend.sql"), {"d": week.sunday})
    trend: dict[str, dict[str, int]] = {k: dict.fromkeys(PEMILIHAN, 0) for k in sorted(kodes)}
    for kode, pemilihan, n in result:
        if kode in trend and pemilihan in trend[kode]:
            trend[kode][pemilihan] = int(n)
    return trend
