"""`feed.xml`: an Atom feed (RFC 4287) of the published weeks and their corrections, for portals and newsrooms.

One entry per published week (its first publication, version 1) and one per correction (version 2, 3, ...).
Each entry's id is a name-based UUID of the week and the version, so it is the same however often the feed is
rendered; the feed is rendered from the warehouse only, so re-rendering it gives the same bytes. Links are
relative to the feed's own address (the publication root). Every value is escaped (Jinja2 autoescape) and
characters XML 1.0 cannot carry are dropped.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from include.netralitas.publish.corrections import ARCHIVE_DIR, tanggal
from include.netralitas.publish.pages import _templates

FEED = "feed.xml"
# The namespace of the entries' ids: uuid5(NAMESPACE, "<week>/versi/<n>"); never change it (ids must stay).
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/netralitas/netralitas#publication")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def entry_id(week: str, versi: int) -> str:
    """The stable Atom id of version `versi` of `week`."""
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{week}/{ARCHIVE_DIR}/{versi}')}"


def _rfc3339(moment: datetime) -> str:
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _xml_text(value: object) -> str:
    return _NOT_XML.sub("", str(value))


def render_feed(weeks: list[dict[str, Any]], corrections: list[dict[str, Any]]) -> bytes:
    """`weeks`: `minggu`, `batas_waktu`, `terbit_pada` (sql/publication/select_feed_weeks.sql); `corrections`:
    the register (publish/corrections.py). Newest entry first."""
    entries = [
        {
            "id": entry_id(w["minggu"], 1),
            "title": f"Peringkat nasional minggu {w['minggu']}",
            "updated": w["terbit_pada"],
            "link": f"{w['minggu']}/index.html",
            "summary": f"Peringkat nasional pelanggaran netralitas ASN minggu {w['minggu']}, "
            f"kasus dan rilis sampai {tanggal(w['batas_waktu'])}.",
        }
        for w in weeks
    ]
    for c in corrections:
        changed = len(json.loads(c["perubahan_json"]))
        entries.append(
            {
                "id": entry_id(c["minggu"], c["versi"]),
                "title": f"Ralat minggu {c['minggu']} (versi {c['versi']})",
                "updated": c["dicatat_pada"],
                "link": f"{c['minggu']}/index.html#ralat",
                "summary": f"Ralat {tanggal(c['dicatat_pada'])}: {c['alasan']}. {changed} baris berubah; "
                f"versi {c['versi'] - 1} tetap dapat dibaca di {c['minggu']}/{ARCHIVE_DIR}/{c['versi'] - 1}/.",
            }
        )
    entries.sort(key=lambda e: (e["updated"], e["id"]), reverse=True)
    for e in entries:
        e["updated"] = _rfc3339(e["updated"])
        e["title"], e["summary"] = _xml_text(e["title"]), _xml_text(e["summary"])
    updated = entries[0]["updated"] if entries else "2018-01-01T00:00:00Z"
    page = (
        _templates()
        .get_template("feed.xml.j2")
        .render(feed_id=f"urn:uuid:{uuid.uuid5(NAMESPACE, 'feed')}", updated=updated, entries=entries)
    )
    return page.encode("utf-8")
