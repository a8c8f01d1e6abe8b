"""The weekly publication (product.md §4, §5): rank, freeze a snapshot, render, and swap in atomically.

A week that was already published is rendered again from its frozen snapshot, so re-running it gives
byte-identical files; only a forced re-publication (with a reason, recorded) computes it anew.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import text

from include.netralitas import METHODOLOGY_VERSION
from include.netralitas.contracts import PEMILIHAN_LABELS
from include.netralitas.warehouse import RANKING_SQL, read_sql

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from include.netralitas.warehouse import Warehouse
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
    header = conn.execute(text("SELECT * FROM mart.publication WHERE minggu = :w"), {"w": week}).mappings()
    header = next(iter(header), None)
    result = conn.execute(text("SELECT * FROM mart.publication_row WHERE minggu = :w ORDER BY urutan"), {"w": week})
    return (dict(header) if header else None), pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _previous_published(conn: Connection, week: str) -> pd.DataFrame | None:
    before = conn.execute(text("SELECT MAX(minggu) FROM mart.publication WHERE minggu < :w"), {"w": week}).scalar_one()
    return None if before is None else _snapshot(conn, before)[1]


def _sources(conn: Connection, week: IsoWeek) -> list[dict]:
    result = conn.execute(
        text(
            "SELECT batch_id, penerbit, judul, tanggal_data, pemilihan FROM core.national_release"
            " WHERE tanggal_data <= :d ORDER BY tanggal_data, batch_id"
        ),
        {"d": week.sunday},
    ).mappings()
    return [{**row, "tanggal_data": row["tanggal_data"].isoformat()} for row in result]


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
        "dibuat_pada": meta["dibuat_pada"],
        "baris": [{c: _plain(getattr(r, c)) for c in RANKING_COLUMNS} for r in rows.itertuples()],
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def render_html(rows: pd.DataFrame, header: dict) -> bytes:
    meta = json.loads(header["metadata_json"])
    e = html.escape
    sections = []
    for pemilihan, block in rows.groupby("pemilihan", sort=False):
        top = max(int(block["jumlah_pelanggaran"].max()), 1)
        bars = "".join(
            f'<div class="bar"><span class="label">{e(str(r.instansi))}</span>'
            f'<span class="fill" style="width:{100 * int(r.jumlah_pelanggaran) / top:.1f}%"></span>'
            f'<span class="value">{int(r.jumlah_pelanggaran)}</span></div>'
            for r in block.itertuples()
        )
        body = "".join(
            "<tr>"
            f"<td>{int(r.peringkat)}</td><td>{e(str(r.instansi))}</td><td>{e(str(r.provinsi or '—'))}</td>"
            f"<td>{int(r.jumlah_pelanggaran)}</td>"
            f"<td>{'' if pd.isna(r.peringkat_provinsi) else int(r.peringkat_provinsi)}</td>"
            f"<td>{e(str(r.perubahan))}</td></tr>"
            for r in block.itertuples()
        )
        label = PEMILIHAN_LABELS.get(str(pemilihan), str(pemilihan))
        sections.append(
            f'<section><h2>{e(label)}</h2><div class="chart" role="img" '
            f'aria-label="Grafik batang {e(label)}">{bars}</div>'
            "<table><thead><tr><th>Peringkat</th><th>Instansi</th><th>Provinsi</th>"
            "<th>Jumlah pelanggaran</th><th>Peringkat provinsi</th><th>Perubahan</th></tr></thead>"
            f"<tbody>{body}</tbody></table></section>"
        )
    sources = "".join(
        f"<li>{e(s['penerbit'])}: {e(s['judul'])} (data per {e(s['tanggal_data'])})</li>" for s in meta["sumber"]
    )
    page = f"""<!DOCTYPE html>
<html lang="id">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Peringkat nasional pelanggaran netralitas ASN — {e(header["minggu"])}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 2rem; }}
th, td {{ border-bottom: 1px solid #ddd; padding: .35rem .5rem; text-align: left; }}
.chart {{ margin: 1rem 0; }}
.bar {{ display: grid; grid-template-columns: 22rem 1fr 3rem; align-items: center; gap: .5rem; }}
.fill {{ display: block; height: 1rem; background: #b22222; }}
</style>
</head>
<body>
<h1>Peringkat nasional instansi dengan pelanggaran netralitas ASN terbanyak</h1>
<p>Minggu {e(header["minggu"])}, data sampai {e(meta["batas_waktu"])} WIB.
Diperbarui {e(meta["dibuat_pada"])}.</p>
{"".join(sections)}
<h2>Metodologi</h2>
<p>Versi {e(header["versi_metodologi"])}. Untuk setiap instansi dan pemilihan: jumlah pelanggaran =
maks(N + R<sub>setelah</sub>, R<sub>total</sub>), dengan N angka rilis nasional terbaru yang mencantumkan
instansi itu, R<sub>setelah</sub> kasus daerah setelah tanggal data rilis, dan R<sub>total</sub> seluruh kasus
daerah yang tidak dihentikan. Peringkat kompetisi standar; peringkat yang sama berbagi nomor.</p>
<h2>Sumber</h2>
<ul>{sources or "<li>Laporan kasus Bawaslu kabupaten/kota dan provinsi.</li>"}</ul>
</body>
</html>
"""
    return page.encode("utf-8")


def _write_week(publish_dir: Path, week: str, files: dict[str, bytes]) -> Path:
    """Write into a temporary folder, then rename: the week folder appears complete or not at all."""
    publish_dir.mkdir(parents=True, exist_ok=True)
    target = publish_dir / week
    if target.is_dir() and all((target / n).exists() and (target / n).read_bytes() == b for n, b in files.items()):
        return target
    staging = Path(tempfile.mkdtemp(dir=publish_dir, prefix=f".{week}-"))
    for name, content in files.items():
        (staging / name).write_bytes(content)
    os.chmod(staging, 0o755)
    if target.exists():
        retired = publish_dir / f".{week}-old-{os.getpid()}"
        os.replace(target, retired)
        os.replace(staging, target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, target)
    _point_latest(publish_dir)
    return target


def _point_latest(publish_dir: Path) -> None:
    weeks = sorted(p.name for p in publish_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    weeks = [w for w in weeks if w != "latest"]
    if not weeks:
        return
    link = publish_dir / ".latest-tmp"
    link.unlink(missing_ok=True)
    link.symlink_to(weeks[-1])
    os.replace(link, publish_dir / "latest")


def publish_week(wh: Warehouse, publish_dir: Path, week: IsoWeek, *, force_reason: str | None = None) -> Publication:
    """Publish `week`: reuse its frozen snapshot, or freeze a new one (first time, or forced)."""
    name = str(week)
    with wh.session() as conn, wh.transaction(conn):
        header, rows = _snapshot(conn, name)
        reused = header is not None and force_reason is None
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
            conn.execute(text("DELETE FROM mart.publication_row WHERE minggu = :w"), {"w": name})
            conn.execute(text("DELETE FROM mart.publication WHERE minggu = :w"), {"w": name})
            conn.execute(
                text(
                    "INSERT INTO mart.publication VALUES (:minggu, :batas_waktu, :versi_metodologi,"
                    " :dibuat_pada, :jumlah_baris, :sha256_csv, :metadata_json, :alasan_terbit_ulang)"
                ),
                header,
            )
            wh.bulk_insert(conn, "mart.publication_row", rows)
            conn.execute(
                text("INSERT INTO audit.publication_log VALUES (:w, :a, :r, :s, :t)"),
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
    }
    folder = _write_week(publish_dir, name, files)
    return Publication(
        week=name,
        folder=folder,
        ranking_csv=folder / "ranking.csv",
        ranking_json=folder / "ranking.json",
        index_html=folder / "index.html",
        rows=len(rows),
        reused_snapshot=reused,
    )
