"""`build_warehouse`: reference dimensions, then staging -> core, in one transaction (product.md §4, §6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import text

from include.netralitas.catalogue import load_catalogue
from include.netralitas.contracts import PEMILIHAN, PEMILIHAN_ALL, PEMILIHAN_LABELS

if TYPE_CHECKING:
    from include.netralitas.warehouse import Warehouse

CORE_STEPS = (
    "core/insert_case_history.sql",
    "core/upsert_case_current.sql",
    "core/insert_national_release.sql",
    "core/insert_national_release_fact.sql",
)
COUNTED_TABLES = (
    "core.case_history",
    "core.case_current",
    "core.national_release",
    "core.national_release_fact",
)


def build_warehouse(wh: Warehouse) -> dict[str, int]:
    """Idempotent: a second run for the same staged data changes nothing. Returns each core table's rows."""
    wh.migrate()
    catalogue = load_catalogue()
    regions = [vars(r) for r in catalogue.regions.values()]
    instansi = [vars(i) for i in catalogue.instansi.values()]
    elections = [
        {"kode": kode, "nama": PEMILIHAN_LABELS[kode], "urutan": n}
        for n, kode in enumerate((*PEMILIHAN, PEMILIHAN_ALL), start=1)
    ]
    with wh.begin() as conn:
        wh.execute_file(conn, "core/upsert_region.sql", regions)
        wh.execute_file(conn, "core/upsert_instansi.sql", instansi)
        wh.execute_file(conn, "core/upsert_pemilihan.sql", elections)
        for step in CORE_STEPS:
            wh.execute_file(conn, step)
        # Table names are constants of this module, never input.
        return {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in COUNTED_TABLES}
