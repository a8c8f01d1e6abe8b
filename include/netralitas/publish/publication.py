"""The weekly publication (product.md §4, §5): rank, freeze a snapshot, render, and swap in atomically.

A week that was already published is rendered again from its frozen snapshot, so re-running it gives
byte-identical files; only a forced re-publication (with a reason, recorded) computes it anew. A week that
has not ended is refused (`weeks.WeekNotPublishable`) unless it is a preview: computed and rendered to
`preview/<week>/`, never frozen, never `latest`. The ranking is `ranking.py`, the files `render.py`, the
atomic swap `site.py`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from include.netralitas import METHODOLOGY_VERSION
from include.netralitas.publish.pages import render_html, render_pages
from include.netralitas.publish.ranking import (
    INTEGER_COLUMNS,
    RANKING_COLUMNS,
    SNAPSHOT_COLUMNS,
    TOP_N,
    compute_ranking,
    full_ranking,
    movement,
    top_rows,
    week_provinces,
    week_sources,
    week_trend,
)
from include.netralitas.publish.render import (
    neutralise,
    render_chart,
    render_csv,
    render_datapackage,
    render_json,
)
from include.netralitas.publish.site import published_weeks, write_week
from include.netralitas.warehouse.database import sql
from include.netralitas.weeks import publishable_week

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from include.netralitas.warehouse.database import Warehouse
    from include.netralitas.weeks import IsoWeek

__all__ = [
    "RANKING_COLUMNS", "TOP_N", "Publication", "compute_ranking", "movement", "neutralise", "publish_week",
    "published_weeks", "render_csv", "render_html",
]  # fmt: skip


@dataclass(frozen=True)
class Publication:
    week: str
    folder: Path
    ranking_csv: Path
    ranking_json: Path
    index_html: Path
    rows: int
    reused_snapshot: bool
    outcome: str = "published"  # published | re-rendered | re-published | preview
    force_reason: str | None = None

    @property
    def outcome_text(self) -> str:
        """What happened to the week, in words, for the summary and the task log."""
        return {
            "published": "newly published (snapshot frozen)",
            "re-rendered": "re-rendered from its frozen snapshot (unchanged)",
            "re-published": f"re-published, reason: {self.force_reason}",
            "preview": "preview of a week that has not ended (not frozen, not latest)",
        }[self.outcome]

    def files(self) -> dict[str, Path]:
        """The week's files that exist on disk (a summary names nothing else)."""
        names = ("ranking.csv", "ranking.json", "index.html", "chart.png", "datapackage.json")
        pages = sorted(str(p.relative_to(self.folder)) for p in self.folder.glob("provinsi/*.html"))
        return {name: self.folder / name for name in (*names, *pages) if (self.folder / name).is_file()}

    def summary(self) -> dict:
        """Small, JSON-able: for XCom and the chain's summary."""
        return {
            "week": self.week,
            "outcome": self.outcome,
            "outcome_text": self.outcome_text,
            "force_reason": self.force_reason,
            "rows": self.rows,
            "folder": str(self.folder),
            "files": {name: str(path) for name, path in self.files().items()},
        }


def _snapshot(conn: Connection, week: str) -> tuple[dict | None, pd.DataFrame]:
    header = conn.execute(sql("publication/select_publication.sql"), {"w": week}).mappings()
    header = next(iter(header), None)
    result = conn.execute(sql("publication/select_publication_rows.sql"), {"w": week})
    return (dict(header) if header else None), pd.DataFrame(result.fetchall(), columns=list(result.keys()))


DATA_PACKAGE_MAJOR = 1  # the table schema of ranking.csv: bump when its columns change


def _version(conn: Connection, week: str, frozen: dict | None) -> str:
    """The week's data-package version, frozen with it: MAJOR the table schema of ranking.csv, MINOR one more
    for each new week (in the order the weeks were first published), PATCH one more for each correction. A
    correction keeps the MAJOR.MINOR of the version it corrects."""
    other_weeks, place, corrections = conn.execute(sql("publication/select_version.sql"), {"w": week}).one()
    if frozen is None:
        return f"{DATA_PACKAGE_MAJOR}.{int(other_weeks) + 1}.0"
    before = json.loads(frozen["metadata_json"]).get("versi")
    major_minor = before.rsplit(".", 1)[0] if before else f"{DATA_PACKAGE_MAJOR}.{int(place)}"
    return f"{major_minor}.{int(corrections) + 1}"


def _previous_published(conn: Connection, week: str) -> pd.DataFrame | None:
    before = conn.execute(sql("publication/select_previous_week.sql"), {"w": week}).scalar_one()
    return None if before is None else _snapshot(conn, before)[1]


def publish_week(
    wh: Warehouse,
    publish_dir: Path,
    week: IsoWeek,
    *,
    force_reason: str | None = None,
    preview: bool = False,
    now: datetime | None = None,
) -> Publication:
    """Publish `week`: reuse its frozen snapshot, or freeze a new one (first time, or forced).

    Refuses a week before 2018-W01, and one that has not ended (at `now`) unless `preview`; a preview is
    computed and rendered to `<publish_dir>/preview/<week>/` and never frozen or recorded.
    """
    week = publishable_week(week, preview=preview, now=now)
    preview = preview and not week.has_ended(now)  # a week that has ended is published for real
    name = str(week)
    with wh.session() as conn, wh.transaction(conn):
        header, rows = (None, None) if preview else _snapshot(conn, name)
        reused = header is not None and force_reason is None
        outcome = "preview" if preview else "re-rendered" if reused else "re-published" if header else "published"
        if not reused:
            full = full_ranking(conn, week)
            ranking = top_rows(full).copy()
            ranking["perubahan"] = movement(ranking, _previous_published(conn, name))
            ranking["minggu"] = name
            ranking["urutan"] = range(1, len(ranking) + 1)
            rows = ranking[SNAPSHOT_COLUMNS].astype({c: "Int64" for c in INTEGER_COLUMNS})
            generated = datetime.now(UTC).replace(microsecond=0)
            corrects = header is not None  # a forced re-publication of a frozen week: a correction
            metadata = {
                "batas_waktu": week.cutoff.isoformat(),
                "pemilihan": list(dict.fromkeys(ranking["pemilihan"])),
                "sumber": week_sources(conn, week),
                "dibuat_pada": generated.isoformat(),
                "tren": week_trend(full, set(ranking["instansi_kode"])),
                "provinsi": week_provinces(full),
                "versi": _version(conn, name, header),
            }
            csv_bytes = render_csv(rows)
            header = {
                "minggu": name,
                "batas_waktu": week.cutoff,
                "versi_metodologi": METHODOLOGY_VERSION,
                "dibuat_pada": generated,
                "jumlah_baris": len(rows),
                "sha256_csv": hashlib.sha256(csv_bytes).hexdigest(),
                "metadata_json": json.dumps(metadata, ensure_ascii=False, sort_keys=True),
                "alasan_terbit_ulang": force_reason,
            }
        if not reused and not preview:
            conn.execute(sql("publication/delete_publication_rows.sql"), {"w": name})
            conn.execute(sql("publication/delete_publication.sql"), {"w": name})
            conn.execute(
                sql("publication/insert_publication.sql"),
                header,
            )
            wh.bulk_insert(conn, "mart.publication_row", rows)
            conn.execute(
                sql("publication/insert_publication_log.sql"),
                {
                    "w": name,
                    "a": "terbit_ulang" if corrects else "terbit",
                    "r": force_reason,
                    "s": header["sha256_csv"],
                    "t": generated,
                },
            )
    files = {
        "ranking.csv": render_csv(rows),
        "ranking.json": render_json(rows, header),
        **render_pages(rows, header, preview=preview),  # index.html and provinsi/<kode>.html
        "chart.png": render_chart(rows),
        "datapackage.json": render_datapackage(header),
    }
    if preview:
        folder = write_week(publish_dir / "preview", name, files, index=False)
    else:
        folder = write_week(publish_dir, name, files)
    return Publication(
        week=name,
        folder=folder,
        ranking_csv=folder / "ranking.csv",
        ranking_json=folder / "ranking.json",
        index_html=folder / "index.html",
        rows=len(rows),
        reused_snapshot=reused,
        outcome=outcome,
        force_reason=force_reason if outcome == "re-published" else None,
    )
