"""`build_warehouse`: reference dimensions, then staging -> core, in one transaction (product.md §4, §6)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pandas as pd

from include.netralitas.contracts import PEMILIHAN, PEMILIHAN_ALL, PEMILIHAN_LABELS
from include.netralitas.quality.gx import WAREHOUSE_SUITE, run_suite, warehouse_rules
from include.netralitas.reference.catalogue import load_catalogue
from include.netralitas.warehouse.database import sql

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.engine import Connection

    from include.netralitas.warehouse.database import Warehouse

CORE_STEPS = (
    "core/insert_case_history.sql",
    "core/upsert_case_current.sql",
    "core/insert_case_current.sql",
    "core/insert_merged_batch.sql",
    "core/insert_national_release.sql",
    "core/insert_national_release_fact.sql",
)

# PostgreSQL only, first in the build's transaction (each file says why): the merge's sorts and hashes in
# memory, and no nested loops over the tables the merge fills.
POSTGRESQL_SETTINGS = ("core/set_local_work_mem.sql", "core/set_local_enable_nestloop.sql")

# The columns of each reference dimension core.<name>, loaded in bulk by sql/core/upsert_<name>.sql.
REFERENCE_COLUMNS = {
    "region": ["kode", "nama", "kode_provinsi", "tingkat"],
    "instansi": ["kode", "nama", "jenis", "kode_provinsi", "nama_provinsi"],
    "pemilihan": ["kode", "nama", "urutan"],
}


def _row_counts(conn: Connection) -> dict[str, int]:
    return {table: int(n) for table, n in conn.execute(sql("core/select_row_counts.sql"))}


class WarehouseCheckFailed(RuntimeError):
    """A post-load check failed: the build was rolled back, the results are in audit.validation_result."""


def _lineage_gaps(ranking: pd.DataFrame) -> list[tuple[str, float, None]]:
    """Each ranked figure against its lineage (methodology v2): an election's figure is max(N + R_after,
    R_total); the SEMUA figure is max(jumlah_pemilihan, N_s + R_after_s), and jumlah_pemilihan is the sum of
    the instansi's figures in the elections. Every gap must be 0."""
    semua = ranking["pemilihan"] == "SEMUA"
    per_election = ranking[~semua].groupby("instansi_kode")["jumlah_pelanggaran"].sum()
    own_term = ranking["r_total"].where(~semua, ranking["jumlah_pemilihan"]).astype("Float64")
    from_release = ranking["n_rilis"].astype("Float64") + ranking["r_setelah"].astype("Float64")
    lineage = from_release.where(from_release > own_term, own_term).fillna(own_term)
    gaps = ranking["jumlah_pelanggaran"].astype("Float64") - lineage
    keys = "lineage:" + ranking["pemilihan"] + ":" + ranking["instansi_kode"]
    rows = [(k, float(g), None) for k, g in zip(keys, gaps, strict=True)]
    summed = ranking.loc[semua, ["instansi_kode", "jumlah_pemilihan"]]
    expected = summed["instansi_kode"].map(per_election).fillna(0).astype("Float64")
    sum_gaps = summed["jumlah_pemilihan"].astype("Float64") - expected
    rows += [
        (f"lineage:SEMUA-jumlah:{k}", float(g), None) for k, g in zip(summed["instansi_kode"], sum_gaps, strict=True)
    ]
    return rows


def check_frame(wh: Warehouse, conn: Connection) -> pd.DataFrame:
    """One row per checked item: `wajib_nol` must be 0 (orphans, lineage), `selisih_rekonsiliasi` should be."""
    orphans = wh.execute_file(conn, "audit/select_orphan_facts.sql").all()
    ranking = pd.DataFrame(conn.execute(sql("audit/select_national_ranking.sql")).mappings().all())
    recon = conn.execute(sql("audit/select_reconciliation_gaps.sql")).all()
    rows = [(f"orphan:{cek}", int(n), None) for cek, n in orphans]
    if not ranking.empty:
        rows += _lineage_gaps(ranking)
    rows += [(f"rekonsiliasi:{batch}:{kode}", None, float(gap)) for kode, batch, gap in recon]
    frame = pd.DataFrame(rows, columns=["cek", "wajib_nol", "selisih_rekonsiliasi"])
    frame.insert(0, "baris", range(1, len(frame) + 1))
    frame.insert(0, "batch_id", "warehouse")
    return frame


def build_warehouse(wh: Warehouse, *, gx_dir: Path | None = None, run_id: str | None = None) -> dict[str, int]:
    """Idempotent: a second run for the same staged data changes nothing. Returns each core table's rows.

    After the merge, the `warehouse_v1` suite runs inside the same transaction: an error rolls the build
    back (WarehouseCheckFailed), warnings are recorded.
    """
    wh.migrate()
    catalogue = load_catalogue()
    regions = [vars(r) for r in catalogue.regions.values()]
    instansi = [vars(i) for i in catalogue.instansi.values()]
    elections = [
        {"kode": kode, "nama": PEMILIHAN_LABELS[kode], "urutan": n}
        for n, kode in enumerate((*PEMILIHAN, PEMILIHAN_ALL), start=1)
    ]
    dimensions = {"region": regions, "instansi": instansi, "pemilihan": elections}
    reference = hashlib.sha256(json.dumps([regions, instansi, elections], sort_keys=True, default=str).encode())
    try:
        with wh.begin() as conn:
            if wh.dialect == "postgresql":
                for setting in POSTGRESQL_SETTINGS:
                    conn.execute(sql(setting))
            if conn.execute(sql("audit/select_reference_load.sql")).scalar() != reference.hexdigest():
                for name, rows in dimensions.items():  # only when the reference files changed: in bulk
                    frame = pd.DataFrame(rows, columns=REFERENCE_COLUMNS[name])
                    wh.bulk_upsert(conn, f"core.{name}", frame, f"core/upsert_{name}.sql")
                conn.execute(sql("audit/delete_reference_load.sql"))
                conn.execute(
                    sql("audit/insert_reference_load.sql"), {"s": reference.hexdigest(), "t": datetime.now(UTC)}
                )
            changed = 0
            for step in CORE_STEPS:
                changed += wh.execute_file(conn, step, {"merged_at": datetime.now(UTC)}).rowcount or 0
            if changed == 0:  # nothing new since the last build, whose checks hold for this very state
                return _row_counts(conn)
            outcome = run_suite(WAREHOUSE_SUITE, warehouse_rules(), check_frame(wh, conn), gx_dir, run_id=run_id)
            results = outcome.results.assign(run_id=run_id, validated_at=datetime.now(UTC))
            errors = outcome.failures[outcome.failures["tingkat"] == "critical"]
            if not errors.empty:  # raised inside the transaction, so it rolls back
                raise WarehouseCheckFailed(
                    f"{len(errors)} post-load check(s) failed ({', '.join(sorted(set(errors['kolom'])))}); "
                    "the build was rolled back"
                )
            wh.bulk_insert(conn, "audit.validation_result", results)
            return _row_counts(conn)
    except WarehouseCheckFailed:
        with wh.begin() as conn:  # keep the evidence of the failed build
            wh.bulk_insert(conn, "audit.validation_result", results)
        raise
