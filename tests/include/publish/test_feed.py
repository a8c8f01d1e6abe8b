"""feed.xml: well-formed Atom whatever a reason contains, newest entry first, ids stable across renders."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from include.netralitas.publish.feed import entry_id, render_feed

ATOM = "{http://www.w3.org/2005/Atom}"
WEEKS = [
    {"minggu": "2024-W47", "batas_waktu": datetime(2024, 11, 24, 16, 59, 59, tzinfo=UTC),
     "terbit_pada": datetime(2024, 11, 25, 0, 5, tzinfo=UTC)},
    {"minggu": "2024-W48", "batas_waktu": datetime(2024, 12, 1, 16, 59, 59, tzinfo=UTC),
     "terbit_pada": datetime(2024, 12, 2, 0, 5, tzinfo=UTC)},
]  # fmt: skip
REASON = 'Laporan <terlambat> & "Bima" \x07dari Bawaslu ]]>'
CORRECTIONS = [
    {"minggu": "2024-W47", "versi": 2, "alasan": REASON, "dicatat_pada": datetime(2024, 11, 27, 3, tzinfo=UTC),
     "perubahan_json": json.dumps([{"instansi": "X"}, {"instansi": "Y"}])},
]  # fmt: skip


def test_the_feed_is_well_formed_escaped_ordered_and_stable():
    data = render_feed(WEEKS, CORRECTIONS)
    feed = ET.fromstring(data)
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}id") for e in entries] == [
        entry_id("2024-W48", 1), entry_id("2024-W47", 2), entry_id("2024-W47", 1),
    ]  # fmt: skip
    assert [e.findtext(f"{ATOM}updated") for e in entries] == [
        "2024-12-02T00:05:00Z", "2024-11-27T03:00:00Z", "2024-11-25T00:05:00Z",
    ]  # fmt: skip
    assert feed.findtext(f"{ATOM}updated") == "2024-12-02T00:05:00Z"
    summary = entries[1].findtext(f"{ATOM}summary")
    assert REASON.replace("\x07", "") in summary  # escaped in the XML, the same text once parsed
    assert "2 baris berubah" in summary
    assert b"<terlambat>" not in data
    assert render_feed(WEEKS, CORRECTIONS) == data
    assert len({entry_id(w, v) for w in ("2024-W47", "2024-W48") for v in (1, 2)}) == 4
    assert entry_id("2024-W47", 1).startswith("urn:uuid:")


def test_an_empty_feed_is_still_atom():
    feed = ET.fromstring(render_feed([], []))
    assert feed.tag == f"{ATOM}feed"
    assert feed.findall(f"{ATOM}entry") == []
    assert feed.findtext(f"{ATOM}id").startswith("urn:uuid:")
