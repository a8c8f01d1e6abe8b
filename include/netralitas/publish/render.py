"""The week's five files rendered from its frozen snapshot: CSV, JSON, the HTML page, the chart and the
Frictionless descriptor. Every value in a page is escaped (Jinja2 autoescape, product.md §7)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from functools import cache
from pathlib import Path

import pandas as pd

from include.netralitas.contracts import PEMILIHAN, PEMILIHAN_ALL, PEMILIHAN_LABELS
from include.netralitas.publish.ranking import RANKING_COLUMNS, trend_rows
from include.netralitas.weeks import WIB

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


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
        (
            "jumlah_pelanggaran",
            "integer",
            "maks(N + R_setelah, R_total) per pemilihan; SEMUA: maks(jumlah angka tiap pemilihan, N + R_setelah)",
        ),
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
    constraints = {
        "pemilihan": {"required": True, "enum": [*PEMILIHAN, PEMILIHAN_ALL]},
        "peringkat": {"required": True, "minimum": 1},
        "instansi": {"required": True},
        "jumlah_pelanggaran": {"required": True, "minimum": 1},
        "peringkat_provinsi": {"minimum": 1},
        "n_rilis": {"minimum": 0},
        "r_setelah": {"minimum": 0},
        "r_total": {"required": True, "minimum": 0},
    }
    schema_fields = []
    for name, kind, description in fields:
        field = {"name": name, "type": kind, "description": description}
        if name in constraints:
            field["constraints"] = constraints[name]
        schema_fields.append(field)
    versioned = {"version": meta["versi"]} if "versi" in meta else {}  # weeks frozen before v2 have none
    package = {
        # data-package, not tabular-data-package: ranking.json and chart.png are not tabular (Frictionless).
        "profile": "data-package",
        "name": f"netralitas-asn-{header['minggu'].lower()}",
        "title": f"Peringkat nasional pelanggaran netralitas ASN, minggu {header['minggu']}",
        **versioned,
        "versi_metodologi": header["versi_metodologi"],
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
                "schema": {"fields": schema_fields, "missingValues": [""],
                           "primaryKey": ["pemilihan", "instansi"]},
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
    for key in ("versi", "provinsi"):  # since methodology v2; a week frozen before keeps its bytes
        if key in meta:
            doc[key] = meta[key]
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
    elections, trend = trend_rows(meta)
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
                "tren": " · ".join(str(n) for n in trend.get(str(r.instansi_kode), [])),
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
            trend_label=" · ".join(PEMILIHAN_LABELS[p] for p in elections),
            sections=sections,
            versi_metodologi=header["versi_metodologi"],
            sumber=meta["sumber"],
            ralat=header.get("ralat", ()),  # publish/corrections.py notice()
        )
    )
    return page.encode("utf-8")


def render_index(weeks: list[str]) -> bytes:
    return _templates().get_template("index.html.j2").render(weeks=list(reversed(weeks))).encode()
