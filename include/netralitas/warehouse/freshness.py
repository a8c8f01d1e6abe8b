"""Office freshness (product.md §2): which offices sent no case report for N days.

The ingestion DAG runs `stale_offices` after every load and logs a warning that lists them; the same picture
for analysts is the mart view `mart.office_freshness`. Offices come from the reference list (552), so an
office that never reported is listed as such, not forgotten.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from include.netralitas.reference.catalogue import load_catalogue
from include.netralitas.warehouse.database import Warehouse

DEFAULT_DAYS = 14


def freshness_days() -> int:
    """The threshold in days: `NETRALITAS_FRESHNESS_DAYS`, 14 by default."""
    raw = os.environ.get("NETRALITAS_FRESHNESS_DAYS", str(DEFAULT_DAYS))
    try:
        days = int(raw)
    except ValueError:
        raise ValueError(f"NETRALITAS_FRESHNESS_DAYS must be a whole number of days, not {raw!r}") from None
    if days < 1:
        raise ValueError(f"NETRALITAS_FRESHNESS_DAYS must be at least 1, not {days}")
    return days


@dataclass(frozen=True)
class StaleOffice:
    kode_kantor: str
    wilayah: str
    laporan_terakhir: datetime | None  # None: no report received up to the check's as_of

    def describe(self, as_of: datetime) -> str:
        if self.laporan_terakhir is None:
            return f"{self.kode_kantor} {self.wilayah}: belum ada laporan sampai {as_of:%Y-%m-%d} (no report yet)"
        days = (as_of - self.laporan_terakhir).days
        return f"{self.kode_kantor} {self.wilayah}: laporan terakhir {self.laporan_terakhir:%Y-%m-%d} ({days} hari)"


def stale_offices(wh: Warehouse, *, as_of: datetime, days: int, migrate: bool = True) -> list[StaleOffice]:
    """Offices whose latest loaded case report (reported up to `as_of`) is older than `days`, or missing;
    the ones with no report at all up to `as_of` first, then the longest silent. A batch pulled from an
    office's API counts at its report date (the pull's watermark), not when it was fetched: a week run
    later, or a backfill, sees the API offices as they were. `migrate=False` for a reader (the UI page)."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    if migrate:
        wh.migrate()
    latest = wh.query_file("audit/select_latest_report_per_office.sql", {"as_of": as_of})
    last_seen = {
        row.kode_kantor: pd.Timestamp(row.laporan_terakhir).tz_convert(as_of.tzinfo).to_pydatetime()
        for row in latest.itertuples()
    }
    cutoff = as_of - timedelta(days=days)
    regions = load_catalogue().regions
    stale = [
        StaleOffice(kode, region.nama, last_seen.get(kode))
        for kode, region in regions.items()
        if last_seen.get(kode) is None or last_seen[kode] < cutoff
    ]
    return sorted(stale, key=lambda s: (s.laporan_terakhir is not None, s.laporan_terakhir or as_of, s.kode_kantor))


def warning_text(stale: list[StaleOffice], *, as_of: datetime, days: int, shown: int = 60) -> str:
    """The ingestion DAG's freshness warning: the count, then one line per office (at most `shown`)."""
    none_at_all = sum(office.laporan_terakhir is None for office in stale)
    lines = [office.describe(as_of) for office in stale[:shown]]
    if len(stale) > shown:
        lines.append(f"... and {len(stale) - shown} more (SELECT * FROM mart.office_freshness)")
    head = (
        f"{len(stale)} offices sent no case report for {days} days up to {as_of:%Y-%m-%d %H:%M %Z}"
        f" ({none_at_all} with none at all by then):"
    )
    return "\n".join([head, *lines])
