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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from include.netralitas import METHODOLOGY_VERSION
from include.netralitas.files import atomic_write
from include.netralitas.publish.corrections import (
    REGISTER,
    all_corrections,
    archive,
    correction,
    notice,
    render_register,
    week_corrections,
)
from include.netralitas.publish.feed import FEED, render_feed
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


@dataclass(frozen=True)
class Approval:
    """Who signed a publication off and when (`auto` under NETRALITAS_PUBLISH_APPROVAL=auto)."""

    by: str
    at: datetime


@dataclass
class Prepared:
    """A week ready to be rendered and, unless re-rendered or a preview, frozen: nothing written yet."""

    week: str
    outcome: str  # published | re-rendered | re-published | preview
    force_reason: str | None
    header: dict
    rows: pd.DataFrame
    corrections: list[dict] = field(default_factory=list)  # the week's corrections, a new one included
    correction: dict | None = None  # the correction this re-publication records
    base_sha: str | None = None  # ranking.csv hash of the frozen snapshot it was prepared against

    @property
    def freezes(self) -> bool:
        return self.outcome in ("published", "re-published")

    @property
    def versi(self) -> int:
        """1 for a first publication, one more for each correction."""
        return 1 + len(self.corrections)


def prepare_week(
    wh: Warehouse, conn: Connection, week: IsoWeek, *, force_reason: str | None = None, preview: bool = False
) -> Prepared:
    """Read the frozen snapshot of `week` or compute it anew (first time, forced, preview); writes nothing."""
    name = str(week)
    header, rows = (None, None) if preview else _snapshot(conn, name)
    reused = header is not None and force_reason is None
    outcome = "preview" if preview else "re-rendered" if reused else "re-published" if header else "published"
    corrections = [] if preview else week_corrections(conn, name)
    base_sha = header["sha256_csv"] if header else None
    old_rows = rows
    if not reused:
        full = full_ranking(conn, week)
        ranking = top_rows(full).copy()
        ranking["perubahan"] = movement(ranking, _previous_published(conn, name))
        ranking["minggu"] = name
        ranking["urutan"] = range(1, len(ranking) + 1)
        rows = ranking[SNAPSHOT_COLUMNS].astype({c: "Int64" for c in INTEGER_COLUMNS})
        generated = datetime.now(UTC).replace(microsecond=0)
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
    prepared = Prepared(name, outcome, force_reason, header, rows, corrections, base_sha=base_sha)
    if outcome == "re-published":
        new_sha, at = header["sha256_csv"], header["dibuat_pada"]
        prepared.correction = correction(
            name, prepared.versi + 1, force_reason or "", at, old_rows, rows, base_sha, new_sha
        )
        prepared.corrections = [*corrections, prepared.correction]
    return prepared


def week_files(prepared: Prepared, publish_dir: Path) -> dict[str, bytes]:
    """The week's files, by path relative to its folder: the five, the province pages, and the earlier
    versions it carries."""
    rows, header = prepared.rows, prepared.header
    preview = prepared.outcome == "preview"
    files = {
        "ranking.csv": render_csv(rows),
        "ranking.json": render_json(rows, header),
        # index.html (with the Ralat notice of its corrections) and provinsi/<kode>.html
        **render_pages(rows, {**header, "ralat": notice(prepared.corrections)}, preview=preview),
        "chart.png": render_chart(rows),
        "datapackage.json": render_datapackage(header),
    }
    if not preview:
        superseded = prepared.versi - 1 if prepared.correction else None
        files.update(archive(publish_dir / prepared.week, superseded))
    return files


def commit_week(wh: Warehouse, conn: Connection, prepared: Prepared, approval: Approval | None = None) -> None:
    """Freeze the prepared snapshot, log it (with its sign-off) and record its correction, in `conn`'s
    transaction. Refuses when the week's frozen snapshot is no longer the one it was prepared against."""
    if not prepared.freezes:
        return
    name, header = prepared.week, prepared.header
    frozen = conn.execute(sql("publication/select_publication.sql"), {"w": name}).mappings().first()
    if (frozen["sha256_csv"] if frozen else None) != prepared.base_sha:
        raise StalePublication(f"week {name} was published meanwhile; stage it again")
    conn.execute(sql("publication/delete_publication_rows.sql"), {"w": name})
    conn.execute(sql("publication/delete_publication.sql"), {"w": name})
    conn.execute(sql("publication/insert_publication.sql"), header)
    wh.bulk_insert(conn, "mart.publication_row", prepared.rows)
    conn.execute(
        sql("publication/insert_publication_log.sql"),
        {
            "w": name,
            "a": "terbit_ulang" if prepared.outcome == "re-published" else "terbit",
            "r": prepared.force_reason,
            "s": header["sha256_csv"],
            "t": datetime.now(UTC),  # when it went public (after sign-off; the files say when they were made)
            "by": approval.by if approval else None,
            "at": approval.at if approval else None,
        },
    )
    if prepared.correction:
        conn.execute(sql("publication/insert_publication_correction.sql"), prepared.correction)


class StalePublication(RuntimeError):
    """The week was (re-)published after these files were prepared: they would overwrite a newer version."""


def root_files(conn: Connection) -> dict[str, bytes]:
    """The publication root's register of corrections and its Atom feed, from the warehouse."""
    corrections = all_corrections(conn)
    weeks = [dict(r) for r in conn.execute(sql("publication/select_feed_weeks.sql")).mappings()]
    return {REGISTER: render_register(corrections), FEED: render_feed(weeks, corrections)}


def write_root(publish_dir: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        atomic_write(publish_dir / name, content, 0o644)


def publication(prepared: Prepared, folder: Path) -> Publication:
    return Publication(
        week=prepared.week,
        folder=folder,
        ranking_csv=folder / "ranking.csv",
        ranking_json=folder / "ranking.json",
        index_html=folder / "index.html",
        rows=len(prepared.rows),
        reused_snapshot=prepared.outcome == "re-rendered",
        outcome=prepared.outcome,
        force_reason=prepared.force_reason if prepared.outcome == "re-published" else None,
    )


def publish_files(publish_dir: Path, prepared: Prepared, files: dict[str, bytes], root: dict[str, bytes]) -> Path:
    """Swap the week in atomically (a preview under `preview/`), then the root's register and feed."""
    if prepared.outcome == "preview":
        return write_week(publish_dir / "preview", prepared.week, files, index=False)
    folder = write_week(publish_dir, prepared.week, files)
    write_root(publish_dir, root)
    return folder


def publish_week(
    wh: Warehouse,
    publish_dir: Path,
    week: IsoWeek,
    *,
    force_reason: str | None = None,
    preview: bool = False,
    now: datetime | None = None,
    approval: Approval | None = None,
) -> Publication:
    """Publish `week`: reuse its frozen snapshot, or freeze a new one (first time, or forced: a correction).

    Refuses a week before 2018-W01, and one that has not ended (at `now`) unless `preview`; a preview is
    computed and rendered to `<publish_dir>/preview/<week>/` and never frozen or recorded. The weekly DAG
    stages the same files first and publishes them after sign-off (`publish/staging.py`).
    """
    week = publishable_week(week, preview=preview, now=now)
    preview = preview and not week.has_ended(now)  # a week that has ended is published for real
    with wh.session() as conn, wh.transaction(conn):
        prepared = prepare_week(wh, conn, week, force_reason=force_reason, preview=preview)
        commit_week(wh, conn, prepared, approval)
        root = {} if preview else root_files(conn)
    folder = publish_files(publish_dir, prepared, week_files(prepared, publish_dir), root)
    return publication(prepared, folder)
