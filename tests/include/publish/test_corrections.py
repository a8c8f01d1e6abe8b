"""Corrections in the open: a forced re-publication shows a "Ralat" notice with its date, reason and changed
rows, keeps the superseded version readable under `versi/<n>/`, and is listed in corrections.json and feed.xml
(Atom, stable ids); re-rendering changes no byte."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from html import unescape
from pathlib import Path

from sqlalchemy import text

from include.netralitas.publish.corrections import changes
from include.netralitas.publish.feed import entry_id
from include.netralitas.publish.pages import BULAN, tanggal
from include.netralitas.publish.publication import publish_week
from include.netralitas.warehouse.build import build_warehouse
from include.netralitas.weeks import WIB, IsoWeek

ATOM = "{http://www.w3.org/2005/Atom}"
WEEK = IsoWeek.parse("2024-W47")


def _case(conn, nomor: str, instansi: str, tanggal_temuan: date) -> None:
    conn.execute(
        text(
            "INSERT INTO core.case_current (kode_kantor, nomor_kasus, batch_id, baris, received_at, tanggal_temuan,"
            " pemilihan, instansi_kode, jabatan, jenis_pelanggaran, status) VALUES ('82.04', :n, 'b', 1, :r, :t,"
            " 'PILKADA-2024', :i, 'pelaksana', 'lainnya', 'diproses')"
        ),
        {"n": nomor, "r": datetime(2024, 11, 1, tzinfo=UTC), "t": tanggal_temuan, "i": instansi},
    )


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _ranks(csv_bytes: bytes) -> dict[tuple[str, str], tuple[str, str]]:
    rows = csv.DictReader(io.StringIO(csv_bytes.decode()))
    return {(r["pemilihan"], r["instansi"]): (r["peringkat"], r["jumlah_pelanggaran"]) for r in rows}


def _feed(root: Path) -> list[dict[str, str]]:
    """The feed's entries, after the checks RFC 4287 makes of a feed and of each entry."""
    feed = ET.fromstring((root / "feed.xml").read_bytes())
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    entries = []
    for entry in feed.findall(f"{ATOM}entry"):
        item = {name: entry.findtext(f"{ATOM}{name}") for name in ("id", "title", "updated", "summary")}
        assert all(item.values()), item
        datetime.strptime(item["updated"], "%Y-%m-%dT%H:%M:%SZ")  # RFC 3339, UTC
        item["link"] = entry.find(f"{ATOM}link").get("href")
        entries.append(item)
    assert len({e["id"] for e in entries}) == len(entries)
    assert feed.findtext(f"{ATOM}updated") == max(e["updated"] for e in entries)
    return entries


def test_a_correction_is_published_in_the_open(warehouse, tmp_path):
    build_warehouse(warehouse)
    with warehouse.begin() as conn:
        _case(conn, "1", "82.04", date(2024, 11, 20))
    first = publish_week(warehouse, tmp_path, WEEK)
    version_1 = _tree(first.folder)
    assert 'id="ralat"' not in version_1["index.html"].decode()
    assert json.loads((tmp_path / "corrections.json").read_bytes()) == {"ralat": []}
    [published] = _feed(tmp_path)
    assert (published["id"], published["link"]) == (entry_id("2024-W47", 1), "2024-W47/index.html")

    with warehouse.begin() as conn:  # two late reports: Halmahera Barat overtakes Halmahera Selatan
        _case(conn, "2", "82.01", date(2024, 11, 21))
        _case(conn, "3", "82.01", date(2024, 11, 22))
    reason = "Laporan <b>terlambat</b> dari Halmahera Barat & Bawaslu"
    forced = publish_week(warehouse, tmp_path, WEEK, force_reason=reason)
    assert forced.outcome == "re-published"
    version_2 = _tree(forced.folder)

    # the superseded version stays readable, byte for byte
    assert {name[len("versi/1/") :]: data for name, data in version_2.items() if name.startswith("versi/1/")} == (
        version_1
    )
    # the notice: the date of the correction as recorded, the reason escaped, every row that moved
    with warehouse.session() as conn:
        recorded = conn.execute(text("SELECT versi, dicatat_pada, alasan FROM audit.publication_correction")).all()
    [(versi, at, alasan)] = recorded
    assert (versi, alasan) == (2, reason)
    page = version_2["index.html"].decode()
    notice = page[page.index('<section id="ralat"') : page.index("</section>", page.index('<section id="ralat"'))]
    assert f"Ralat {tanggal(at)} (versi 2)" in notice
    assert tanggal(at) == f"{at.astimezone(WIB).day} {BULAN[at.astimezone(WIB).month - 1]} {at.astimezone(WIB).year}"
    assert "<b>terlambat</b>" not in page
    assert "&lt;b&gt;terlambat&lt;/b&gt; dari Halmahera Barat &amp; Bawaslu" in page
    assert 'href="versi/1/index.html"' in notice
    before, after = _ranks(version_1["ranking.csv"]), _ranks(version_2["ranking.csv"])
    moved = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    assert len(moved) == 4  # two instansi, each in its election's block and the all-elections block
    shown = {unescape(cell) for cell in notice.replace("</td><td>", "\n").replace("<tr><td>", "\n").splitlines()}
    for _pemilihan, instansi in moved:
        old, new = before.get((_pemilihan, instansi)), after.get((_pemilihan, instansi))
        assert instansi in shown
        assert f"{old[0] if old else '—'} → {new[0] if new else '—'}" in shown

    # the register and the feed
    register = json.loads((tmp_path / "corrections.json").read_bytes())["ralat"]
    assert [(r["minggu"], r["versi"], r["alasan"], r["versi_sebelumnya"]) for r in register] == [
        ("2024-W47", 2, reason, "2024-W47/versi/1/")
    ]
    assert {(c["instansi"], c["peringkat_lama"], c["peringkat_baru"]) for c in register[0]["perubahan"]} == {
        (i, int(before[(p, i)][0]) if (p, i) in before else None, int(after[(p, i)][0])) for p, i in moved
    }
    entries = {e["id"]: e for e in _feed(tmp_path)}
    assert set(entries) == {entry_id("2024-W47", 1), entry_id("2024-W47", 2)}
    correction_entry = entries[entry_id("2024-W47", 2)]
    assert correction_entry["link"] == "2024-W47/index.html#ralat"
    assert reason in correction_entry["summary"]  # escaped in the XML, the same text once parsed

    # re-rendering the corrected week changes no byte, the feed and the register included
    root = {name: (tmp_path / name).read_bytes() for name in ("feed.xml", "corrections.json", "index.html")}
    again = publish_week(warehouse, tmp_path, WEEK)
    assert again.outcome == "re-rendered"
    assert _tree(again.folder) == version_2
    assert {name: (tmp_path / name).read_bytes() for name in root} == root

    # a second correction keeps both earlier versions, each with working links to its own predecessors
    third = publish_week(warehouse, tmp_path, WEEK, force_reason="pemeriksaan ulang")
    version_3 = _tree(third.folder)
    assert {n[len("versi/2/") :]: d for n, d in version_3.items() if n.startswith("versi/2/")} == version_2
    assert {n[len("versi/1/") :]: d for n, d in version_3.items() if n.startswith("versi/1/")} == version_1
    page = version_3["index.html"].decode()
    assert page.index("(versi 3)") < page.index("(versi 2)")  # newest first
    assert 'href="versi/2/index.html"' in page
    assert 'href="versi/1/index.html"' in page
    assert "Tidak ada angka atau peringkat yang berubah." in page  # nothing moved the second time
    assert len(_feed(tmp_path)) == 3


def test_changes_lists_moved_entered_and_left_rows():
    import pandas as pd

    def rows(*items):
        return pd.DataFrame(
            [
                {"pemilihan": "E", "instansi_kode": k, "instansi": k.upper(), "peringkat": p, "jumlah_pelanggaran": n,
                 "urutan": i}
                for i, (k, p, n) in enumerate(items, 1)
            ]
        )  # fmt: skip

    found = changes(rows(("a", 1, 5), ("b", 2, 4), ("c", 3, 1)), rows(("a", 1, 6), ("c", 2, 4), ("d", 3, 1)))
    keys = ("instansi_kode", "peringkat_lama", "peringkat_baru", "jumlah_lama", "jumlah_baru")
    assert [tuple(c[k] for k in keys) for c in found] == [
        ("a", 1, 1, 5, 6), ("c", 3, 2, 1, 4), ("d", None, 3, None, 1), ("b", 2, None, 4, None),
    ]  # fmt: skip
