"""The week's ranking (product.md §4, methodology v2): computed from the warehouse at the week's cut-off, in
one frame from which the table, the trend and the province pages are cut."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import text

from include.netralitas.contracts import PEMILIHAN, PEMILIHAN_ALL
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


def full_ranking(conn: Connection, week: IsoWeek) -> pd.DataFrame:
    """Every ranked row of the §4 ranking at the week's cut-off, elections in chronological order (SEMUA last),
    each block by rank and tied rows by name (code-point order, the same whatever the database's collation).
    The week's table, trend and province pages are all cut from this one frame."""
    result = conn.execute(text(read_sql(RANKING_SQL)), {"cutoff_date": week.sunday})
    frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    return frame.sort_values(["urutan_pemilihan", "peringkat", "instansi", "instansi_kode"], kind="stable")


def compute_ranking(wh: Warehouse, conn: Connection, week: IsoWeek, top_n: int = TOP_N) -> pd.DataFrame:
    """The §4 ranking at the week's cut-off: every instansi ranked `top_n` or better, per election."""
    return top_rows(full_ranking(conn, week), top_n)


def top_rows(full: pd.DataFrame, top_n: int = TOP_N) -> pd.DataFrame:
    return full[full["peringkat"] <= top_n]


def week_trend(full: pd.DataFrame, kodes: set[str]) -> dict:
    """The trend of each ranked instansi: its figure in every election (methodology v2: the same measure as the
    election's table, 0 when unranked), elections in chronological order, as frozen with the week:
    `{"pemilihan": [code, ...], "nilai": {instansi_kode: [figure per election, in that order]}}`."""
    figures = {
        (r.instansi_kode, r.pemilihan): int(r.jumlah_pelanggaran)
        for r in full[full["pemilihan"] != PEMILIHAN_ALL].itertuples()
    }
    return {
        "pemilihan": list(PEMILIHAN),
        "nilai": {kode: [figures.get((kode, p), 0) for p in PEMILIHAN] for kode in sorted(kodes)},
    }


def trend_rows(meta: dict) -> tuple[list[str], dict[str, list[int]]]:
    """A frozen week's trend as (elections in chronological order, {instansi_kode: figures in that order}).
    Weeks frozen before methodology v2 stored `{kode: {election: n}}` with sorted keys: read in the order of
    the elections, never in the dict's order."""
    trend = meta.get("tren") or {}
    if "pemilihan" in trend and "nilai" in trend:
        return list(trend["pemilihan"]), {k: [int(n) for n in v] for k, v in trend["nilai"].items()}
    return list(PEMILIHAN), {k: [int(v.get(p, 0)) for p in PEMILIHAN] for k, v in trend.items()}


def week_provinces(full: pd.DataFrame) -> list[dict]:
    """Every ranked regional government by province (for the province pages and ranking.json): each row with
    its national and per-province rank, elections in chronological order, then by province rank and name."""
    regional = full[full["peringkat_provinsi"].notna()]
    provinces = []
    for kode in sorted(regional["kode_provinsi"].dropna().unique()):
        block = regional[regional["kode_provinsi"] == kode].sort_values(
            ["urutan_pemilihan", "peringkat_provinsi", "instansi", "instansi_kode"], kind="stable"
        )
        provinces.append(
            {
                "kode": str(kode),
                "nama": str(block["provinsi"].iloc[0]),
                "baris": [
                    {
                        "pemilihan": str(r.pemilihan),
                        "instansi_kode": str(r.instansi_kode),
                        "instansi": str(r.instansi),
                        "jumlah_pelanggaran": int(r.jumlah_pelanggaran),
                        "peringkat": int(r.peringkat),
                        "peringkat_provinsi": int(r.peringkat_provinsi),
                    }
                    for r in block.itertuples()
                ],
            }
        )
    return provinces


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
