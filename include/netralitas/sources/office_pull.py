"""Pulling case reports from the offices' APIs into the drop folder (README.md#offices-that-report-through-an-api):
incremental from each office's watermark in `landing.api_pull`, every page landed raw, the rows written as a
batch file that the ordinary file ingestion loads; the watermark advances only once that file is durable.
"""

from __future__ import annotations

import csv
import json
import logging
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from include.netralitas.files import atomic_write
from include.netralitas.landing.zone import land
from include.netralitas.warehouse.database import sql

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from include.netralitas.settings import Settings
    from include.netralitas.sources.api_client import OfficeApiClient
    from include.netralitas.warehouse.database import Warehouse

log = logging.getLogger(__name__)
DEFAULT_CONN_ID = "netralitas_office_api"


@dataclass(frozen=True)
class OfficeEndpoint:
    kode_kantor: str
    base_url: str  # empty: the host of the connection
    conn_id: str


@dataclass
class PullResult:
    kode_kantor: str
    status: str  # ok | no_change | failed
    rows: int = 0
    pages: int = 0
    watermark: str | None = None
    file_name: str | None = None
    error: str | None = None


def load_endpoints(path: Path | None, known_offices: set[str]) -> list[OfficeEndpoint]:
    """The offices that report through an API; an unknown office code in the file is an error."""
    if path is None or not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    endpoints = []
    for line, row in enumerate(rows, start=2):
        kode = (row.get("kode_kantor") or "").strip()
        if kode not in known_offices:
            raise ValueError(f"{path.name}, line {line}: kode_kantor {kode!r} is not an office of the reference")
        conn_id = (row.get("conn_id") or "").strip() or DEFAULT_CONN_ID
        endpoints.append(OfficeEndpoint(kode, (row.get("base_url") or "").strip().rstrip("/"), conn_id))
    return endpoints


def watermarks(wh: Warehouse) -> dict[str, str | None]:
    with wh.session() as conn:
        rows = conn.execute(sql("landing/select_api_watermarks.sql")).all()
    return dict(rows)


def _write_batch_file(folder: Path, name: str, rows: list[dict[str, str]]) -> Path:
    return atomic_write(folder / name, json.dumps({"rows": rows}, ensure_ascii=False).encode("utf-8"), 0o600)


@contextmanager
def _one_line_per_office():
    """The client logs each office it fetched at INFO; the pull logs one line per office with the same facts
    (rows, pages, since, watermark) and its outcome, so the client's INFO lines are held back meanwhile. Its
    warnings (a retry, a refused page) still show."""
    client_log = logging.getLogger("include.netralitas.sources.api_client")
    level = client_log.level
    client_log.setLevel(max(logging.WARNING, level))
    try:
        yield
    finally:
        client_log.setLevel(level)


def pull_offices(
    wh: Warehouse,
    settings: Settings,
    endpoints: list[OfficeEndpoint],
    client_for: Callable[[OfficeEndpoint], OfficeApiClient],
    *,
    run_id: str | None = None,
) -> list[PullResult]:
    """Pull every listed office once; `client_for` gives the client of an endpoint (one per base URL/token)."""
    wh.migrate()
    marks = watermarks(wh)
    groups: dict[tuple[str, str], list[OfficeEndpoint]] = defaultdict(list)
    for endpoint in endpoints:
        groups[(endpoint.base_url, endpoint.conn_id)].append(endpoint)
    results: list[PullResult] = []
    records = []
    for group in groups.values():
        offices = [e.kode_kantor for e in group]
        try:
            client = client_for(group[0])
        except Exception as exc:  # e.g. its connection is missing: these offices fail, the others are pulled
            error = f"no API client for connection {group[0].conn_id!r}: {type(exc).__name__}: {exc}"
            now = datetime.now(UTC)
            for kode in offices:
                result = PullResult(kode, "failed", watermark=marks.get(kode), error=error)
                results.append(result)
                records.append({**vars(result), "base_url": group[0].base_url, "pulled_at": now, "run_id": run_id})
                log.warning("office API %s: failed — %s", kode, error)
            continue
        with _one_line_per_office():
            fetched, failed = client.fetch_many(offices, {k: marks.get(k) for k in offices})
        now = datetime.now(UTC)
        for kode in offices:
            if kode in failed:
                result = PullResult(kode, "failed", watermark=marks.get(kode), error=str(failed[kode]))
            else:
                got = fetched[kode]
                for page in got.pages:
                    land(settings.landing_dir, "api-page/v1", page, f"{kode}.json")
                result = PullResult(kode, "no_change", 0, len(got.pages), got.watermark or marks.get(kode))
                if got.rows:
                    name = f"{kode}_api_{now:%Y%m%dT%H%M%S%fZ}.json"
                    _write_batch_file(settings.api_pull_drop, name, got.rows)
                    result.status, result.rows, result.file_name = "ok", len(got.rows), name
            results.append(result)
            records.append({**vars(result), "base_url": client.base_url, "pulled_at": now, "run_id": run_id})
            log.info("office API %s: %s rows=%d pages=%d since %s watermark %s%s", kode, result.status, result.rows,
                     result.pages, marks.get(kode), result.watermark,
                     f" — {result.error}" if result.error else "")  # fmt: skip
    if records:
        with wh.begin() as conn:
            conn.execute(
                sql("landing/insert_api_pull.sql"),
                records,
            )
    return results
