"""The publication's HTML pages, rendered from a week's frozen snapshot: the week page (`index.html`), one
page per province (`provinsi/<kode>.html`) and the index of all weeks. Every value is escaped (Jinja2
autoescape, product.md §7); every date is written one way, in Indonesian ("15 November 2024")."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path

import pandas as pd

from include.netralitas.contracts import PEMILIHAN_LABELS
from include.netralitas.publish.ranking import trend_rows
from include.netralitas.weeks import WIB, IsoWeek

# The publication's licence (the one datapackage.json declares) and the reference regions' attribution (ODbL
# 4.4: include/netralitas/reference/idn-area-data/README.md names the package, its version and its licence).
LICENCE = {
    "name": "ODbL-1.0",
    "title": "Open Data Commons Open Database License (ODbL) 1.0",
    "path": "https://opendatacommons.org/licenses/odbl/1-0/",
}
REGIONS = {
    "title": "idn-area-data",
    "version": "4.0.1",
    "path": "https://github.com/fityannugroho/idn-area-data",
}

BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
         "November", "Desember")  # fmt: skip
PROVINCE_CODE = re.compile(r"\d{2}")


def tanggal(value: str | date | datetime) -> str:
    """`2024-11-15`, a date, or a moment (shown in Asia/Jakarta) -> `15 November 2024`."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.astimezone(WIB).date()
    return f"{value.day} {BULAN[value.month - 1]} {value.year}"


def waktu(iso: str) -> str:
    """`2024-12-01T23:59:59+07:00` -> `1 Desember 2024 pukul 23.59 WIB`."""
    moment = datetime.fromisoformat(iso).astimezone(WIB)
    return f"{tanggal(moment)} pukul {moment:%H.%M} WIB"


def label(pemilihan: str) -> str:
    return PEMILIHAN_LABELS.get(pemilihan, pemilihan)


def _text(value: object, missing: str = "") -> str:
    return missing if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)) else str(value)


def _movement(move: str) -> tuple[str, str]:
    """`naik 2` -> (`naik`, `▲`): the class and the sign shown before the words."""
    kind = move.split(" ", 1)[0]
    return kind, {"naik": "▲", "turun": "▼", "baru": "●", "tetap": "="}.get(kind, "")


def quote(row: dict, provinsi: str, per: str) -> str:
    """The ready-to-quote sentence of a regional government's ranks."""
    return (
        f"{row['instansi']}: peringkat {int(row['peringkat'])} nasional, peringkat {int(row['peringkat_provinsi'])}"
        f" di {provinsi} ({label(str(row['pemilihan']))}, data per {per})"
    )


def province_facts(meta: dict) -> list[dict]:
    """The snapshot's `provinsi` list (ordered by code), each row with its ready-to-quote sentence and each
    province with the path of its page; an older snapshot without it has none."""
    per = tanggal(meta["batas_waktu"])
    facts = []
    for province in meta.get("provinsi") or []:
        kode = str(province["kode"])
        if not PROVINCE_CODE.fullmatch(kode):  # it names a file
            raise ValueError(f"province code {kode!r} is not two digits")
        rows = [
            {
                "pemilihan": str(r["pemilihan"]),
                "instansi_kode": str(r["instansi_kode"]),
                "instansi": str(r["instansi"]),
                "jumlah_pelanggaran": int(r["jumlah_pelanggaran"]),
                "peringkat": int(r["peringkat"]),
                "peringkat_provinsi": int(r["peringkat_provinsi"]),
            }
            for r in province["baris"]
        ]
        for row in rows:
            row["kalimat"] = quote(row, str(province["nama"]), per)
        facts.append({"kode": kode, "nama": str(province["nama"]), "halaman": f"provinsi/{kode}.html", "baris": rows})
    return facts


TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def _templates():
    """The page templates, autoescaped: every value in a page is escaped (product.md §7)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    environment = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, keep_trailing_newline=True, undefined=StrictUndefined
    )
    environment.globals.update(licence=LICENCE, regions=REGIONS)
    return environment


def _bar_width(value: int, top: int) -> str:
    return f"{100 * value / max(top, 1):.1f}"


def render_html(
    rows: pd.DataFrame, header: dict, provinces: list[dict] | None = None, *, preview: bool = False
) -> bytes:
    """The week page: per election a bar chart (HTML) and the table; the province pages; methodology,
    sources and licence. A preview (`<publish>/preview/<week>/`) says so and links the index two levels up."""
    meta = json.loads(header["metadata_json"])
    provinces = province_facts(meta) if provinces is None else provinces
    page_of = {p["nama"]: p["halaman"] for p in provinces}
    codes, trend = trend_rows(meta)  # elections in chronological order, whatever the snapshot's shape
    sections = []
    for pemilihan, block in rows.groupby("pemilihan", sort=False):
        top = int(block["jumlah_pelanggaran"].max())
        items = []
        for r in block.itertuples():
            kind, sign = _movement(str(r.perubahan))
            provinsi = _text(r.provinsi)
            items.append(
                {
                    "peringkat": int(r.peringkat),
                    "instansi": str(r.instansi),
                    "provinsi": provinsi or "—",
                    "halaman_provinsi": page_of.get(provinsi),
                    "jumlah": int(r.jumlah_pelanggaran),
                    "width": _bar_width(int(r.jumlah_pelanggaran), top),
                    "peringkat_provinsi": "" if pd.isna(r.peringkat_provinsi) else int(r.peringkat_provinsi),
                    "kelas": kind,
                    "tanda": sign,
                    "perubahan": str(r.perubahan),
                    "tren": " · ".join(str(n) for n in trend.get(str(r.instansi_kode), ())),
                }
            )
        code = str(pemilihan)
        sections.append({"id": f"pemilihan-{code.lower()}", "label": label(code), "rows": items})
    page = (
        _templates()
        .get_template("week.html.j2")
        .render(
            minggu=header["minggu"],
            pratinjau=preview,
            batas_waktu=waktu(meta["batas_waktu"]),
            dibuat_pada=waktu(meta["dibuat_pada"]),
            trend_label=" · ".join(label(p) for p in codes),
            sections=sections,
            provinces=provinces,
            versi_metodologi=header["versi_metodologi"],
            sumber=[{**s, "tanggal": tanggal(s["tanggal_data"])} for s in meta["sumber"]],
            ralat=header.get("ralat", ()),  # publish/corrections.py notice()
        )
    )
    return page.encode("utf-8")


def render_province(province: dict, header: dict) -> bytes:
    """One province's page: its regional governments ranked per election, national and province rank, and a
    ready-to-quote sentence for each."""
    meta = json.loads(header["metadata_json"])
    sections: dict[str, dict] = {}
    for row in province["baris"]:  # in the snapshot's order: elections chronologically, then province rank
        code = row["pemilihan"]
        section = sections.setdefault(code, {"id": f"pemilihan-{code.lower()}", "label": label(code), "rows": []})
        section["rows"].append(row)
    for section in sections.values():
        top = max(r["jumlah_pelanggaran"] for r in section["rows"])
        section["rows"] = [{**r, "width": _bar_width(r["jumlah_pelanggaran"], top)} for r in section["rows"]]
    page = (
        _templates()
        .get_template("province.html.j2")
        .render(
            minggu=header["minggu"],
            provinsi=province["nama"],
            batas_waktu=waktu(meta["batas_waktu"]),
            data_per=tanggal(meta["batas_waktu"]),
            sections=list(sections.values()),
            versi_metodologi=header["versi_metodologi"],
        )
    )
    return page.encode("utf-8")


def render_pages(rows: pd.DataFrame, header: dict, *, preview: bool = False) -> dict[str, bytes]:
    """The week's pages by path in the week folder: `index.html` and `provinsi/<kode>.html`."""
    provinces = province_facts(json.loads(header["metadata_json"]))
    pages = {"index.html": render_html(rows, header, provinces, preview=preview)}
    for province in provinces:
        pages[province["halaman"]] = render_province(province, header)
    return pages


def render_index(weeks: list[str]) -> bytes:
    """The index of all published weeks, newest first, each with its dates and files."""
    listed = []
    for name in reversed(weeks):
        week = IsoWeek.parse(name)
        listed.append({"minggu": name, "dari": tanggal(week.monday), "sampai": tanggal(week.sunday)})
    return _templates().get_template("index.html.j2").render(weeks=listed).encode("utf-8")
