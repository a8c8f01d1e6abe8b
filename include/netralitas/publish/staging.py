"""Sign-off before going public (product.md §5): the week's files are built in a staging folder, outside the
publication root, a data steward approves or rejects them, and only an approval publishes them.

`stage_week` prepares the week exactly as `publish_week` would (the ranking, the frozen snapshot to be, every
file, the earlier versions a correction carries) without writing to the warehouse or the publication root;
it writes `<staging>/<week>/` (the files, `snapshot.json`, `manifest.json` with each file's SHA-256) and
returns what the approval request shows: the top 10, the movement against the last published week and the
quarantined rows still open. `publish_staged` checks the staged files against their manifest, freezes the
staged snapshot with who approved it and when, and swaps exactly those bytes in atomically (`site.py`).
`reject_staged` publishes nothing, logs the rejection with who and when, and removes the staged folder.
Nothing here imports Airflow: `orchestration/signoff.py` asks the question.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from include.netralitas.contracts import PEMILIHAN_LABELS
from include.netralitas.publish.pages import waktu
from include.netralitas.publish.publication import (
    Approval,
    Prepared,
    Publication,
    commit_week,
    prepare_week,
    publication,
    publish_files,
    root_files,
    week_files,
)
from include.netralitas.publish.ranking import INTEGER_COLUMNS, SNAPSHOT_COLUMNS, TOP_N
from include.netralitas.publish.render import _plain, render_csv
from include.netralitas.warehouse.database import sql
from include.netralitas.weeks import publishable_week

if TYPE_CHECKING:
    from include.netralitas.warehouse.database import Warehouse
    from include.netralitas.weeks import IsoWeek

FILES_DIR = "files"
MANIFEST = "manifest.json"
SNAPSHOT = "snapshot.json"
NEEDS_SIGN_OFF = ("published", "re-published", "preview")  # a re-render republishes what was signed off
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~])")


class StagedFilesChanged(RuntimeError):
    """A staged file differs from its manifest: what would be published is not what was approved."""


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def md(text: object) -> str:
    """A value as literal Markdown text (the approval request's body is Markdown)."""
    return _MARKDOWN.sub(r"\\\1", " ".join(str(text).split()))


def stage_week(
    wh: Warehouse,
    publish_dir: Path,
    staging_dir: Path,
    week: IsoWeek | str,
    *,
    force_reason: str | None = None,
    preview: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Build the week's files in `<staging_dir>/<week>/` (replacing an earlier staging of it); return a small,
    JSON-able summary for XCom with the approval request's Markdown `body`."""
    week = publishable_week(week, preview=preview, now=now)
    preview = preview and not week.has_ended(now)
    with wh.session() as conn:
        prepared = prepare_week(wh, conn, week, force_reason=force_reason, preview=preview)
        previous = conn.execute(sql("publication/select_previous_week.sql"), {"w": str(week)}).scalar_one()
        quarantine = dict(conn.execute(sql("publication/select_open_quarantine.sql")).mappings().one())
        conn.rollback()  # read only
    files = week_files(prepared, publish_dir)
    manifest = {
        "week": prepared.week,
        "outcome": prepared.outcome,
        "force_reason": prepared.force_reason,
        "files": {name: _digest(data) for name, data in sorted(files.items())},
    }
    folder = _write_staged(staging_dir, prepared.week, files, manifest, _snapshot_doc(prepared))
    return {
        "week": prepared.week,
        "outcome": prepared.outcome,
        "force_reason": prepared.force_reason,
        "folder": str(folder),
        "needs_sign_off": prepared.outcome in NEEDS_SIGN_OFF,
        "sha256_csv": prepared.header["sha256_csv"],
        "subject": f"Publikasi minggu {prepared.week}: setujui atau tolak",
        "body": approval_body(prepared, previous, quarantine, folder),
    }


def _write_staged(staging_dir: Path, week: str, files: dict[str, bytes], manifest: dict, snapshot: dict) -> Path:
    staging_dir.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(dir=staging_dir, prefix=f".tmp-{week}-"))
    try:
        for name, data in files.items():
            path = building / FILES_DIR / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        (building / SNAPSHOT).write_text(json.dumps(snapshot, ensure_ascii=False, sort_keys=True))
        (building / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True))
        folder = staging_dir / week
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(building, folder)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return folder


def _snapshot_doc(prepared: Prepared) -> dict[str, Any]:
    """The snapshot to freeze on approval, as JSON (datetimes and dates in ISO 8601)."""
    header = {k: _plain(v) for k, v in prepared.header.items()}
    rows = [
        {c: _plain(v) for c, v in zip(SNAPSHOT_COLUMNS, r, strict=True)}
        for r in prepared.rows[SNAPSHOT_COLUMNS].itertuples(index=False)
    ]
    correction = None
    if prepared.correction:
        correction = {**prepared.correction, "dicatat_pada": prepared.correction["dicatat_pada"].isoformat()}
    return {
        "week": prepared.week,
        "outcome": prepared.outcome,
        "force_reason": prepared.force_reason,
        "base_sha": prepared.base_sha,
        "header": header,
        "rows": rows,
        "correction": correction,
    }


def _prepared(doc: dict[str, Any]) -> Prepared:
    header = dict(doc["header"])
    for key in ("batas_waktu", "dibuat_pada"):
        header[key] = datetime.fromisoformat(header[key])
    rows = pd.DataFrame([[r[c] for c in SNAPSHOT_COLUMNS] for r in doc["rows"]], columns=SNAPSHOT_COLUMNS, dtype=object)
    rows = rows.astype({c: "Int64" for c in (*INTEGER_COLUMNS, "urutan")})
    rows["tanggal_rilis"] = [date.fromisoformat(v) if isinstance(v, str) else None for v in rows["tanggal_rilis"]]
    correction = doc["correction"]
    if correction:
        correction = {**correction, "dicatat_pada": datetime.fromisoformat(correction["dicatat_pada"])}
    prepared = Prepared(doc["week"], doc["outcome"], doc["force_reason"], header, rows, base_sha=doc["base_sha"])
    prepared.correction = correction
    if _digest(render_csv(rows)) != header["sha256_csv"]:  # the staged snapshot is the staged CSV
        raise StagedFilesChanged(f"the staged snapshot of week {doc['week']} does not reproduce its ranking.csv")
    return prepared


def _staged(folder: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The staged manifest and files, each file checked against the manifest (none missing, none added)."""
    manifest = json.loads((folder / MANIFEST).read_text())
    root = folder / FILES_DIR
    found = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    expected = manifest["files"]
    if set(found) != set(expected) or any(_digest(found[n]) != expected[n] for n in expected):
        changed = sorted(
            n for n in set(found) | set(expected) if n not in found or _digest(found[n]) != expected.get(n)
        )
        raise StagedFilesChanged(f"staged files of week {manifest['week']} changed after staging: {changed}")
    return manifest, found


def publish_staged(wh: Warehouse, publish_dir: Path, folder: Path, approval: Approval) -> Publication:
    """Publish exactly the staged files of `folder`, freezing its snapshot with `approval`; then drop it."""
    manifest, files = _staged(folder)
    prepared = _prepared(json.loads((folder / SNAPSHOT).read_text()))
    if prepared.header["sha256_csv"] != _digest(files["ranking.csv"]):
        raise StagedFilesChanged(f"the staged snapshot of week {manifest['week']} is not its staged ranking.csv")
    with wh.session() as conn, wh.transaction(conn):
        commit_week(wh, conn, prepared, approval)
        root = {} if prepared.outcome == "preview" else root_files(conn)
    published = publish_files(publish_dir, prepared, files, root)
    shutil.rmtree(folder, ignore_errors=True)
    return publication(prepared, published)


def reject_staged(wh: Warehouse, folder: Path, decision: Approval) -> dict[str, Any]:
    """Publish nothing: log the rejection (who, when, the staged CSV's hash) and remove the staged folder."""
    manifest = json.loads((folder / MANIFEST).read_text())
    with wh.begin() as conn:
        conn.execute(
            sql("publication/insert_publication_log.sql"),
            {
                "w": manifest["week"],
                "a": "ditolak",
                "r": manifest["force_reason"],
                "s": manifest["files"]["ranking.csv"],
                "t": datetime.now(UTC).replace(microsecond=0),
                "by": decision.by,
                "at": decision.at,
            },
        )
    shutil.rmtree(folder, ignore_errors=True)
    return {"week": manifest["week"], "outcome": manifest["outcome"], "rejected_by": decision.by}


def approval_body(prepared: Prepared, previous: str | None, quarantine: dict[str, int], folder: Path) -> str:
    """The approval request (Markdown): what is about to go public, the top 10 with their movement, the
    movement against the last published week, the quarantined rows still open, and where the files wait."""
    rows = prepared.rows
    meta = json.loads(prepared.header["metadata_json"])
    what = {
        "published": "terbit pertama",
        "re-published": f"ralat (versi {prepared.versi}), alasan: {md(prepared.force_reason)}",
        "re-rendered": "dirender ulang dari snapshot beku (tidak berubah)",
        "preview": "pratinjau minggu yang belum berakhir",
    }[prepared.outcome]
    lines = [f"**Minggu {prepared.week}**, kasus dan rilis sampai {md(waktu(meta['batas_waktu']))}: {what}.", ""]
    block_code = "SEMUA" if (rows["pemilihan"] == "SEMUA").any() else (rows["pemilihan"].iloc[0] if len(rows) else None)
    block = rows[rows["pemilihan"] == block_code]
    label = PEMILIHAN_LABELS.get(str(block_code), str(block_code))
    lines += [f"### {TOP_N} teratas: {md(label)}", ""]
    if block.empty:
        lines.append("Tidak ada instansi yang diperingkat.")
    else:
        lines += ["| Peringkat | Instansi | Jumlah pelanggaran | Perubahan |", "| --- | --- | --- | --- |"]
        lines += [
            f"| {int(r.peringkat)} | {md(r.instansi)} | {int(r.jumlah_pelanggaran)} | {md(r.perubahan)} |"
            for r in block.itertuples()
        ]
    lines.append("")
    moves = [str(m).split(" ", 1)[0] for m in block["perubahan"]]
    counted = ", ".join(f"{moves.count(k)} {k}" for k in ("naik", "turun", "tetap", "baru"))
    against = f"minggu {previous}" if previous else "belum ada minggu yang terbit sebelumnya"
    lines.append(f"**Perubahan terhadap minggu lalu** ({against}): {counted}.")
    if prepared.correction:
        changed = len(json.loads(prepared.correction["perubahan_json"]))
        lines.append(f"**Ralat:** {changed} baris berubah peringkat atau angka dibanding versi {prepared.versi - 1}.")
    lines.append(
        f"**Karantina:** {int(quarantine['baris'])} baris dari {int(quarantine['batch'])} batch belum dilepas "
        "(`python tools/ops.py quarantine`)."
    )
    lines += ["", f"Berkas menunggu di `{folder}` (belum publik). Setujui untuk menerbitkan, tolak untuk membatalkan."]
    return "\n".join(lines) + "\n"
