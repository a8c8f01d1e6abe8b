"""The weekly publication (product.md §4, §5): rank, freeze a snapshot, render, and swap in atomically.

A week that was already published is rendered again from its frozen snapshot, so re-running it gives
byte-identical files; only a forced re-publication (with a reason, recorded) computes it anew. A week that
has not ended is refused (`weeks.WeekNotPublishable`) unless it is a preview: computed and rendered to
`preview/<week>/`, never frozen, never `latest`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import text

from include.netralitas import METHODOLOGY_VERSION
from include.netralitas.contracts import PEMILIHAN, PEMILIHAN_LABELS
from include.netralitas.files import atomic_write
from include.netralitas.warehouse.database import RANKING_SQL, read_sql, sql
from include.netralitas.weeks import WIB, IsoWeek, publishable_week

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from include.netralitas.warehouse.database import Warehouse

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
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


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
        return {name: self.folder / name for name in names if (self.folder / name).is_file()}

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


def _snapshot(conn: Connection, week: str) -> tuple[dict | None, pd.DataFrame]:
    header = conn.execute(sql("publication/select_publication.sql"), {"w": week}).mappings()
    header = next(iter(header), None)
    result = conn.execute(sql("publication/select_publication_rows.sql"), {"w": week})
    return (dict(header) if header else None), pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _previous_published(conn: Connection, week: str) -> pd.DataFrame | None:
    before = conn.execute(sql("publication/select_previous_week.sql"), {"w": week}).scalar_one()
    return None if before is None else _snapshot(conn, before)[1]


def _sources(conn: Connection, week: IsoWeek) -> list[dict]:
    result = conn.execute(sql("publication/select_sources.sql"), {"d": week.sunday}).mappings()
    return [{**row, "tanggal_data": row["tanggal_data"].isoformat()} for row in result]


def _trend(conn: Connection, week: IsoWeek, kodes: set[str]) -> dict[str, dict[str, int]]:
    """Counted cases of each ranked instansi in every election, up to the cut-off (frozen with the week)."""
    result = conn.execute(sql("publication/select_trend.sql"), {"d": week.sunday})
    trend: dict[str, dict[str, int]] = {k: dict.fromkeys(PEMILIHAN, 0) for k in sorted(kodes)}
    for kode, pemilihan, n in result:
        if kode in trend and pemilihan in trend[kode]:
            trend[kode][pemilihan] = int(n)
    return trend


def neutralise(cell: object) -> str:
    """A CSV cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    if cell is None or (isinstance(cell, float) and pd.isna(cell)) or cell is pd.NA:
        return ""
    value = str(cell)
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def render_csv(rows: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RANKING_COLUMNS)
    for row in rows[RANKING_COLUMNS].itertuples(index=False):
        writer.writerow([neutralise(_plain(v)) for v in row])
    return buffer.getvalue().encode("utf-8")


BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
         "November", "Desember")  # fmt: skip


def _tanggal(iso: str) -> str:
    """`2024-12-01T23:59:59+07:00` -> `1 Desember 2024 pukul 23.59 WIB` (shown in Asia/Jakarta)."""
    moment = datetime.fromisoformat(iso).astimezone(WIB)
    return f"{moment.day} {BULAN[moment.month - 1]} {moment.year} pukul {moment:%H.%M} WIB"


def _text(value: object, missing: str = "") -> str:
    return missing if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)) else str(value)


TREND_LABEL = " · ".join(PEMILIHAN_LABELS[p] for p in PEMILIHAN)
CHART_LABEL = PEMILIHAN_LABELS["SEMUA"].lower()


def _movement_class(move: str) -> str:
    return move.split(" ", 1)[0]


def _movement_label(move: str) -> str:
    """`naik 2` -> `▲ naik 2`, `turun 1` -> `▼ turun 1`, `baru` -> `● baru`, `tetap` -> `= tetap`."""
    return {"naik": "▲", "turun": "▼", "baru": "●", "tetap": "="}.get(_movement_class(move), "") + " " + move


def render_chart(rows: pd.DataFrame) -> bytes:
    """A horizontal bar chart (PNG) of the all-elections block, or of the first block when there is none."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    block = rows[rows["pemilihan"] == "SEMUA"]
    if block.empty:
        block = rows[rows["pemilihan"] == rows["pemilihan"].iloc[0]] if not rows.empty else rows
    labels = [f"{int(r.peringkat)}. {r.instansi}" for r in block.itertuples()][::-1]
    values = [int(v) for v in block["jumlah_pelanggaran"]][::-1]
    figure, axes = plt.subplots(figsize=(10, 0.45 * max(len(values), 1) + 1.2), dpi=100)
    axes.barh(labels, values, color="#b22222")
    axes.set_xlabel("Jumlah pelanggaran")
    axes.set_title("Instansi dengan pelanggaran netralitas ASN terbanyak")
    for position, value in enumerate(values):
        axes.text(value, position, f" {value}", va="center")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def render_datapackage(header: dict) -> bytes:
    """A Frictionless Data Package descriptor of the week's files, for open-data portals (CKAN)."""
    meta = json.loads(header["metadata_json"])
    fields = [
        ("pemilihan", "string", "kode pemilihan, atau SEMUA untuk seluruh pemilihan"),
        ("peringkat", "integer", "peringkat kompetisi standar (nilai sama berbagi peringkat)"),
        ("instansi", "string", "nama lengkap instansi"),
        ("provinsi", "string", "provinsi instansi daerah (kosong untuk instansi pusat)"),
        ("jumlah_pelanggaran", "integer", "maks(N + R_setelah, R_total)"),
        ("peringkat_provinsi", "integer", "peringkat di antara pemerintah daerah se-provinsi"),
        ("perubahan", "string", "naik N, turun N, tetap, atau baru terhadap minggu sebelumnya"),
        ("n_rilis", "integer", "N: angka rilis nasional terbaru yang mencantumkan instansi"),
        ("tanggal_rilis", "date", "T: tanggal data rilis itu"),
        ("r_setelah", "integer", "kasus daerah setelah T"),
        ("r_total", "integer", "seluruh kasus daerah yang dihitung"),
    ]
    sources = [{"title": "Laporan kasus Bawaslu provinsi dan kabupaten/kota"}]
    sources += [
        {"title": f"{src['penerbit']}: {src['judul']}", "tanggal_data": src["tanggal_data"]} for src in meta["sumber"]
    ]
    sources.append(
        {
            "title": "idn-area-data (wilayah Kemendagri), ODbL 1.0",
            "path": "https://github.com/fityannugroho/idn-area-data",
        }
    )
    package = {
        "profile": "tabular-data-package",
        "name": f"netralitas-asn-{header['minggu'].lower()}",
        "title": f"Peringkat nasional pelanggaran netralitas ASN, minggu {header['minggu']}",
        "version": f"metodologi-{header['versi_metodologi']}",
        "created": meta["dibuat_pada"],
        "temporalCoverage": {"end": meta["batas_waktu"]},
        "licenses": [
            {"name": "ODbL-1.0", "path": "https://opendatacommons.org/licenses/odbl/1-0/",
             "title": "Open Data Commons Open Database License 1.0"}
        ],
        "sources": sources,
        "resources": [
            {
                "name": "ranking", "path": "ranking.csv", "profile": "tabular-data-resource", "format": "csv",
                "mediatype": "text/csv", "encoding": "utf-8",
                "schema": {"fields": [{"name": n, "type": t, "description": d} for n, t, d in fields],
                           "missingValues": [""]},
            },
            {"name": "ranking-json", "path": "ranking.json", "format": "json", "mediatype": "application/json"},
            {"name": "chart", "path": "chart.png", "format": "png", "mediatype": "image/png"},
        ],
    }  # fmt: skip
    return (json.dumps(package, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _plain(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value.item() if hasattr(value, "item") else value


def render_json(rows: pd.DataFrame, header: dict) -> bytes:
    meta = json.loads(header["metadata_json"])
    doc = {
        "minggu": header["minggu"],
        "batas_waktu": meta["batas_waktu"],
        "versi_metodologi": header["versi_metodologi"],
        "pemilihan": meta["pemilihan"],
        "sumber": meta["sumber"],
        "tren": meta.get("tren", {}),
        "dibuat_pada": meta["dibuat_pada"],
        "baris": [{c: _plain(getattr(r, c)) for c in RANKING_COLUMNS} for r in rows.itertuples()],
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def _templates():
    """The page templates, autoescaped: every value in a page is escaped (product.md §7)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, keep_trailing_newline=True, undefined=StrictUndefined
    )


def render_html(rows: pd.DataFrame, header: dict) -> bytes:
    meta = json.loads(header["metadata_json"])
    trend = meta.get("tren", {})
    sections = []
    for pemilihan, block in rows.groupby("pemilihan", sort=False):
        top = max(int(block["jumlah_pelanggaran"].max()), 1)
        items = [
            {
                "peringkat": int(r.peringkat),
                "instansi": str(r.instansi),
                "provinsi": _text(r.provinsi, "—"),
                "jumlah": int(r.jumlah_pelanggaran),
                "width": f"{100 * int(r.jumlah_pelanggaran) / top:.1f}",
                "peringkat_provinsi": "" if pd.isna(r.peringkat_provinsi) else int(r.peringkat_provinsi),
                "kelas": _movement_class(str(r.perubahan)),
                "perubahan": _movement_label(str(r.perubahan)),
                "tren": " · ".join(str(n) for n in trend.get(str(r.instansi_kode), {}).values()),
            }
            for r in block.itertuples()
        ]
        sections.append({"label": PEMILIHAN_LABELS.get(str(pemilihan), str(pemilihan)), "rows": items})
    page = (
        _templates()
        .get_template("week.html.j2")
        .render(
            minggu=header["minggu"],
            batas_waktu=_tanggal(meta["batas_waktu"]),
            dibuat_pada=_tanggal(meta["dibuat_pada"]),
            chart_label=CHART_LABEL,
            trend_label=TREND_LABEL,
            sections=sections,
            versi_metodologi=header["versi_metodologi"],
            sumber=meta["sumber"],
        )
    )
    return page.encode("utf-8")


VERSIONS_DIR = ".weeks"


def _swap_symlink(link: Path, target: str) -> None:
    """Point `link` at `target` atomically (a new link renamed over the old one)."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    os.replace(tmp, link)


def _write_week(publish_dir: Path, week: str, files: dict[str, bytes], *, index: bool = True) -> Path:
    """Publish the files of `week` so that it appears complete or not at all, even if the process is killed.

    The files go to a hidden temporary folder, which is renamed to an immutable version folder
    `.weeks/<week>-<digest>`; `<week>` is a symlink swapped atomically to it, so a reader always sees either
    the previous complete version or the new one. With `index`, `latest` points at the newest published week
    that has ended, whatever order the weeks were published in, and `index.html` lists them all.
    """
    versions = publish_dir / VERSIONS_DIR
    versions.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(b"".join(hashlib.sha256(files[n]).digest() for n in sorted(files))).hexdigest()[:16]
    version = versions / f"{week}-{digest}"
    if not version.is_dir():
        staging = Path(tempfile.mkdtemp(dir=versions, prefix=f".tmp-{week}-"))
        current = staging
        try:
            for name, content in files.items():
                current = staging / name
                current.write_bytes(content)
            current = staging
            os.chmod(staging, 0o755)
            os.replace(staging, version)
        except OSError as exc:  # a full disk, say: nothing half-written stays, the previous version is untouched
            shutil.rmtree(staging, ignore_errors=True)
            message = f"publishing week {week} failed writing {current.name}: {exc.strerror or exc}"
            raise OSError(exc.errno, message, str(publish_dir / week / current.name)) from exc
    link = publish_dir / week
    if link.exists() and not link.is_symlink():
        raise RuntimeError(f"{link} is a folder, not the symlink netralitas publishes; move it away first")
    _swap_symlink(link, f"{VERSIONS_DIR}/{version.name}")
    _clean_versions(versions, keep={version.name, *_linked_versions(publish_dir)})
    if index:
        weeks = sorted(published_weeks(publish_dir))
        ended = [w for w in weeks if IsoWeek.parse(w).has_ended()]
        if ended:
            _swap_symlink(publish_dir / "latest", ended[-1])
        atomic_write(publish_dir / "index.html", render_index(weeks), 0o644)
    return link


def published_weeks(publish_dir: Path) -> list[str]:
    """The week links of a publication root, in week order."""
    found = []
    for path in publish_dir.iterdir():
        if path.is_symlink():
            try:
                found.append(IsoWeek.parse(path.name))
            except ValueError:
                continue  # `latest`, or a temporary link
    return [str(w) for w in sorted(found)]


def _linked_versions(publish_dir: Path) -> set[str]:
    return {os.readlink(p).rsplit("/", 1)[-1] for p in publish_dir.iterdir() if p.is_symlink() and p.name != "latest"}


def _clean_versions(versions: Path, keep: set[str]) -> None:
    """Remove superseded versions and temporary folders left by a killed run."""
    for path in versions.iterdir():
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


def render_index(weeks: list[str]) -> bytes:
    return _templates().get_template("index.html.j2").render(weeks=list(reversed(weeks))).encode()


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
            ranking = compute_ranking(wh, conn, week)
            ranking["perubahan"] = movement(ranking, _previous_published(conn, name))
            ranking["minggu"] = name
            ranking["urutan"] = range(1, len(ranking) + 1)
            rows = ranking[SNAPSHOT_COLUMNS].astype({c: "Int64" for c in INTEGER_COLUMNS})
            elections = list(dict.fromkeys(ranking["pemilihan"]))
            generated = datetime.now(UTC).replace(microsecond=0)
            metadata = {
                "batas_waktu": week.cutoff.isoformat(),
                "pemilihan": elections,
                "sumber": _sources(conn, week),
                "dibuat_pada": generated.isoformat(),
                "tren": _trend(conn, week, set(ranking["instansi_kode"])),
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
                    "a": "terbit_ulang" if force_reason else "terbit",
                    "r": force_reason,
                    "s": header["sha256_csv"],
                    "t": generated,
                },
            )
    files = {
        "ranking.csv": render_csv(rows),
        "ranking.json": render_json(rows, header),
        "index.html": render_html(rows, header),
        "chart.png": render_chart(rows),
        "datapackage.json": render_datapackage(header),
    }
    if preview:
        folder = _write_week(publish_dir / "preview", name, files, index=False)
    else:
        folder = _write_week(publish_dir, name, files)
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
