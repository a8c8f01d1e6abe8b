"""Corrections in the open (product.md §5): a forced re-publication of a week is a correction ("Ralat").

Version 1 of a week is its first publication; each correction publishes the next version. A correction records
the date, the reason and what changed (the rows whose figure or rank moved, entered or left the top, before ->
after) in `audit.publication_correction`; the week's page shows every correction of the week; the superseded
version stays readable under `<week>/versi/<n>/` (its files as they were, byte for byte); `corrections.json` at
the publication root is the register of all corrections. Everything here is plain data: the page's notice is
escaped by the templates (`templates/ralat.html.j2`).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from include.netralitas.contracts import PEMILIHAN_LABELS
from include.netralitas.publish.pages import tanggal  # one date format: "15 November 2024" (in WIB)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

ARCHIVE_DIR = "versi"
REGISTER = "corrections.json"


def _key_rows(rows: pd.DataFrame) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (str(r.pemilihan), str(r.instansi_kode)): {
            "instansi": str(r.instansi),
            "peringkat": int(r.peringkat),
            "jumlah": int(r.jumlah_pelanggaran),
            "urutan": int(r.urutan),
        }
        for r in rows.itertuples()
    }


def changes(before: pd.DataFrame, after: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows whose figure or rank moved between two versions of a week, and those that entered or left.

    One item per (election, instansi), in the order of the new version (then the rows that left, in the old
    order): `peringkat_lama`/`jumlah_lama` are None for a row that entered, `..._baru` None for one that left.
    """
    old, new = _key_rows(before), _key_rows(after)
    found = []
    for key, row in sorted(new.items(), key=lambda item: item[1]["urutan"]):
        was = old.get(key)
        if was is None or (was["peringkat"], was["jumlah"]) != (row["peringkat"], row["jumlah"]):
            found.append(_change(key, was, row))
    for key, was in sorted(old.items(), key=lambda item: item[1]["urutan"]):
        if key not in new:
            found.append(_change(key, was, None))
    return found


def _change(key: tuple[str, str], was: dict | None, now: dict | None) -> dict[str, Any]:
    return {
        "pemilihan": key[0],
        "instansi_kode": key[1],
        "instansi": (now or was or {})["instansi"],
        "peringkat_lama": was and was["peringkat"],
        "peringkat_baru": now and now["peringkat"],
        "jumlah_lama": was and was["jumlah"],
        "jumlah_baru": now and now["jumlah"],
    }


def week_corrections(conn: Connection, week: str) -> list[dict[str, Any]]:
    from include.netralitas.warehouse.database import sql

    return [_record(r) for r in conn.execute(sql("publication/select_week_corrections.sql"), {"w": week}).mappings()]


def all_corrections(conn: Connection) -> list[dict[str, Any]]:
    from include.netralitas.warehouse.database import sql

    return [_record(r) for r in conn.execute(sql("publication/select_corrections.sql")).mappings()]


def _record(row: Any) -> dict[str, Any]:
    record = dict(row)
    record["versi"] = int(record["versi"])
    record["dicatat_pada"] = _utc(record["dicatat_pada"])
    return record


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def correction(
    week: str, versi: int, reason: str, at: datetime, before: pd.DataFrame, after: pd.DataFrame, old_sha: str, sha: str
) -> dict[str, Any]:
    """The record of a new correction (the row of `audit.publication_correction`)."""
    return {
        "minggu": week,
        "versi": versi,
        "alasan": reason,
        "dicatat_pada": _utc(at),
        "perubahan_json": json.dumps(changes(before, after), ensure_ascii=False, sort_keys=True),
        "sha256_csv_lama": old_sha,
        "sha256_csv": sha,
    }


def _arrow(old: int | None, new: int | None) -> str:
    return f"{'—' if old is None else old} → {'—' if new is None else new}"


def notice(corrections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the week's page shows of its corrections, newest first: the date, the reason, the changed rows and a
    link to the superseded version (relative to the week's folder)."""
    shown = []
    for item in sorted(corrections, key=lambda c: c["versi"], reverse=True):
        rows = json.loads(item["perubahan_json"])
        shown.append(
            {
                "versi": item["versi"],
                "tanggal": tanggal(item["dicatat_pada"]),
                "alasan": item["alasan"],
                "versi_lama": item["versi"] - 1,
                "tautan_lama": f"{ARCHIVE_DIR}/{item['versi'] - 1}/index.html",
                "baris": [
                    {
                        "pemilihan": PEMILIHAN_LABELS.get(r["pemilihan"], r["pemilihan"]),
                        "instansi": r["instansi"],
                        "peringkat": _arrow(r["peringkat_lama"], r["peringkat_baru"]),
                        "jumlah": _arrow(r["jumlah_lama"], r["jumlah_baru"]),
                    }
                    for r in rows
                ],
            }
        )
    return shown


def render_register(corrections: list[dict[str, Any]]) -> bytes:
    """`corrections.json`: every correction of every published week, oldest first, with what changed."""
    doc = {
        "ralat": [
            {
                "minggu": c["minggu"],
                "versi": c["versi"],
                "tanggal": c["dicatat_pada"].isoformat(),
                "alasan": c["alasan"],
                "perubahan": json.loads(c["perubahan_json"]),
                "versi_sebelumnya": f"{c['minggu']}/{ARCHIVE_DIR}/{c['versi'] - 1}/",
                "sha256_csv_sebelumnya": c["sha256_csv_lama"],
                "sha256_csv": c["sha256_csv"],
            }
            for c in corrections
        ]
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by its path relative to it (symlinks inside are not followed)."""
    found = {}
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                found[path.relative_to(folder).as_posix()] = path.read_bytes()
    return found


def archive(week_folder: Path, superseded: int | None) -> dict[str, bytes]:
    """The earlier versions a new version of the week carries, as files relative to the week's folder.

    The published folder's own `versi/` is kept as it is; with `superseded` (a correction replaces that
    version), the folder as published becomes `versi/<superseded>/`, every file byte for byte, its own `versi/`
    included so that its links keep working. Nothing when the week has no published folder yet.
    """
    if not week_folder.is_dir():
        return {}
    current = _tree(week_folder)
    carried = {name: data for name, data in current.items() if name.startswith(f"{ARCHIVE_DIR}/")}
    if superseded is not None:
        carried.update({f"{ARCHIVE_DIR}/{superseded}/{name}": data for name, data in current.items()})
    return carried
