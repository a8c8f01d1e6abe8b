"""The data engineer's view of the pipeline, per office (issue 18): what the netralitas page of the Airflow UI
shows (`plugins/netralitas_status.py`), read from the warehouse's manifest, audit and mart relations only.

Per office of the reference: its newest case-report batch, the outcome of that batch (`OUTCOMES`) and its row
accounting, by province; the rows still in quarantine with their reasons; freshness (the same list the
ingestion DAG warns about); the newest API pulls; the publications. Nothing here holds personal data: the
manifest, the pulls, the quarantine's column and reason, and the publications' metadata.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from include.netralitas.warehouse.freshness import freshness_days, stale_offices

if TYPE_CHECKING:
    from include.netralitas.warehouse.database import Warehouse

log = logging.getLogger(__name__)

# The outcome of an office's newest batch, as the page names it (and the CSS class it gets).
OUTCOMES = {
    "loaded": "loaded",
    "partly_quarantined": "partly quarantined",
    "quarantined": "quarantined (no row loaded)",
    "rejected": "rejected",
    "pull_failed": "pull failed",
    "empty": "loaded (no case)",
    "none": "no report",
}


def outcome(row: dict[str, Any]) -> str:
    """One office's outcome: a failed API pull newer than its newest batch first (what it sent last did not
    arrive), then the batch's own status and row accounting."""
    pulled, ingested = row.get("pulled_at"), row.get("ingested_at")
    if row.get("pull_status") == "failed" and (_missing(ingested) or (not _missing(pulled) and pulled > ingested)):
        return "pull_failed"
    status = row.get("status")
    if _missing(status):
        return "none"
    if status == "loaded" and (row.get("rows_quarantined") or 0) > 0:
        return "partly_quarantined"
    return status if status in OUTCOMES else "rejected"


def _missing(value: object) -> bool:
    return value is None or value is pd.NaT or value is pd.NA or (isinstance(value, float) and value != value)


@dataclass
class Province:
    kode: str
    nama: str
    offices: list[dict[str, Any]] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counted: dict[str, int] = {}
        for office in self.offices:
            counted[office["outcome"]] = counted.get(office["outcome"], 0) + 1
        return counted


@dataclass
class EngineerStatus:
    as_of: datetime
    provinces: list[Province]
    quarantine: list[dict[str, Any]]
    stale: list[dict[str, Any]]
    freshness_days: int
    pulls: list[dict[str, Any]]
    publications: list[dict[str, Any]]
    approval_tables: list[str]
    unavailable: dict[str, str] = field(default_factory=dict)  # section -> why it could not be read

    @property
    def totals(self) -> dict[str, int]:
        counted: dict[str, int] = {}
        for province in self.provinces:
            for key, n in province.counts.items():
                counted[key] = counted.get(key, 0) + n
        return counted


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.to_dict("records")


def engineer_status(wh: Warehouse, *, as_of: datetime, pulls: int = 100, publications: int = 20) -> EngineerStatus:
    """Everything the page shows. A section whose relation cannot be read (a warehouse not built yet, a
    relation another version renamed) is reported as unavailable, with the error's type, instead of failing
    the page."""
    unavailable: dict[str, str] = {}

    def read(section: str, relative: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        try:
            return _records(wh.query_file(relative, params))
        except Exception as exc:  # the page shows what it can; the type only: a message may quote SQL
            log.warning("netralitas status: %s unavailable (%s)", section, type(exc).__name__)
            unavailable[section] = type(exc).__name__
            return []

    provinces: dict[str, Province] = {}
    for row in read("offices", "audit/select_office_status.sql"):
        row["outcome"] = outcome(row)
        row["outcome_text"] = OUTCOMES[row["outcome"]]
        kode = row["kode_provinsi"]
        provinces.setdefault(kode, Province(kode, row.get("provinsi") or kode)).offices.append(row)
    days = freshness_days()
    try:
        stale = [
            {"kode_kantor": s.kode_kantor, "wilayah": s.wilayah, "laporan_terakhir": s.laporan_terakhir}
            for s in stale_offices(wh, as_of=as_of, days=days, migrate=False)
        ]
    except Exception as exc:
        log.warning("netralitas status: freshness unavailable (%s)", type(exc).__name__)
        unavailable["freshness"] = type(exc).__name__
        stale = []
    return EngineerStatus(
        as_of=as_of,
        provinces=[provinces[k] for k in sorted(provinces)],
        quarantine=read("quarantine", "audit/select_quarantine_reasons.sql"),
        stale=stale,
        freshness_days=days,
        pulls=read("API pulls", "audit/select_api_pulls.sql", {"limit": pulls}),
        publications=read("publications", "audit/select_publications.sql", {"limit": publications}),
        approval_tables=[
            f"{r['table_schema']}.{r['table_name']}" for r in read("approvals", "audit/select_approval_tables.sql")
        ],
        unavailable=unavailable,
    )
