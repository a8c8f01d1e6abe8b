"""The week's data files rendered from its frozen snapshot: CSV, JSON, the chart and the Frictionless
descriptor. The HTML pages are `pages.py`."""

from __future__ import annotations

import csv
import io
import json
import textwrap

import pandas as pd

from include.netralitas.contracts import PEMILIHAN, PEMILIHAN_ALL, PEMILIHAN_LABELS
from include.netralitas.publish.pages import province_facts
from include.netralitas.publish.ranking import RANKING_COLUMNS

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


def render_chart(rows: pd.DataFrame) -> bytes:
    """A horizontal bar chart (PNG) of the all-elections block, or of the first block when there is none."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    block = rows[rows["pemilihan"] == "SEMUA"]
    if block.empty:
        block = rows[rows["pemilihan"] == rows["pemilihan"].iloc[0]] if not rows.empty else rows
    # long names on two lines, so that the bars keep most of the width
    labels = [textwrap.fill(f"{int(r.peringkat)}. {r.instansi}", 36) for r in block.itertuples()][::-1]
    values = [int(v) for v in block["jumlah_pelanggaran"]][::-1]
    figure, axes = plt.subplots(figsize=(10, 0.55 * max(len(values), 1) + 1.2), dpi=100)
    axes.barh(labels, values, color="#b22222")
    axes.set_xlim(0, max(values, default=1) * 1.1)  # room for the value after the longest bar
    axes.set_xlabel("Jumlah pelanggaran")
    title = "Instansi dengan pelanggaran netralitas ASN terbanyak"
    if not block.empty:
        title += f" ({PEMILIHAN_LABELS.get(str(block['pemilihan'].iloc[0]), '').lower()})"
    axes.set_title(title)
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
        if key in meta:  # each province with its page, each row with its sentence to quote
            doc[key] = province_facts(meta) if key == "provinsi" else meta[key]
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
