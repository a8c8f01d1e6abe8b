"""Quarantine reasons a clerk understands, without personal data (product.md §7, §8).

A quarantined row gets the rule's reason plus what can safely be said of the offending value: its shape
(`9` for a digit, `A` for a letter: `1.99E+17` becomes `9.99A+99`) instead of the value wherever a NIP or a
name could have landed (swapped columns), the code it was probably meant to be, and the likely cause when a
spreadsheet made it ("NIP shown as 1.99E+17: format the column as Text"). Values shown as written are only
those that cannot be personal data: a region code, a date, an instansi name that names an agency.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from include.netralitas.contracts import JABATAN, JENIS_PELANGGARAN, PEMILIHAN, STATUS
from include.netralitas.ingest.pii import mask_value
from include.netralitas.ingest.readers import NOTES_COLUMN, ROW_COLUMN

if TYPE_CHECKING:
    from include.netralitas.ingest.readers import Note

DEFECT_COLUMN = "cacat"  # the columns of a row whose cells a reader noted as defects, else missing
CODE_LISTS: dict[str, tuple[str, ...]] = {
    "pemilihan": PEMILIHAN,
    "jabatan": JABATAN,
    "jenis_pelanggaran": JENIS_PELANGGARAN,
    "status": STATUS,
}
_REGION_CODE = re.compile(r"^\d{2}(\.\d{2})?$")
_DATE_LIKE = re.compile(r"^[0-9./\- ]{1,12}$")
_SCIENTIFIC_SHAPE = re.compile(r"^9([.,]9+)?A[+]?9+$")  # the shape of 1.99E+17
_AGENCY_WORD = re.compile(
    r"\b(pemerintah|pemkab|pemkot|pemprov|kabupaten|kab|kota|provinsi|prov|kementerian|kemen\w*|badan|lembaga|"
    r"dinas|sekretariat|setda|bawaslu|kpu|rsud|universitas|polri|tni|bank|perusahaan|bumn|bumd)\b",
    re.IGNORECASE,
)
_LONG_DIGITS = re.compile(r"\d{5,}")


def shape(value: str) -> str:
    """`199001012015031001` -> `999999999999999999` (pii.mask_value), cut to 40 characters."""
    return mask_value(value)[:40]


def _shape_text(value: str) -> str:
    return f"bentuk {shape(value)!r}, {len(value)} karakter"


def safe_value(column: str, value: str) -> str:
    """The value as it may be printed in a reason: as written where it cannot be personal data, else its shape."""
    if column == "kode_kantor" and _REGION_CODE.match(value):
        return repr(value)
    if column == "instansi" and _AGENCY_WORD.search(value) and not _LONG_DIGITS.search(value):
        return repr(value)
    if column in CODE_LISTS and value in CODE_LISTS[column]:
        return repr(value)
    return _shape_text(value)


def describe(column: str, value: object) -> str:
    """What can safely be said of a failing cell (empty when nothing useful can)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    value = str(value)
    if column == "nip":  # the prepared frame holds only the NIP's shape
        if _SCIENTIFIC_SHAPE.match(value):
            return (
                "NIP tampil sebagai angka ilmiah (mis. 1.99E+17): Excel menyimpan NIP sebagai angka dan membuang "
                "digitnya; format kolom sebagai Teks lalu ketik ulang NIP"
            )
        if "#" in value:
            return f"NIP berisi digit atau huruf non-ASCII ({len(value)} karakter)"
        return f"bentuk {value!r}, {len(value)} karakter"
    if column == "tanggal_temuan":
        if re.fullmatch(r"\d{5}", value):
            return "angka seri tanggal Excel: format kolom sebagai Tanggal atau tulis DD/MM/YYYY"
        if re.fullmatch(r"\d{1,2}[/-]\d{1,2}[/-]\d{2}", value):
            return "tahun ditulis 2 digit: tulis 4 digit (DD/MM/YYYY)"
        return f"nilai {value!r}" if _DATE_LIKE.match(value) and not _LONG_DIGITS.search(value) else _shape_text(value)
    if column in CODE_LISTS:
        wanted = re.sub(r"[\s\-]+", "_", value.strip().casefold())
        for code in CODE_LISTS[column]:
            if wanted == code.casefold() or wanted.replace("_", "-") == code.casefold():
                return f"tulis sebagai {code!r}"
        return _shape_text(value)
    if column == "kode_kantor":
        return f"nilai {safe_value(column, value)}"
    return _shape_text(value)


# The prepared column that holds the value a failure on `kolom` is about.
_VALUE_COLUMN = {"nip": "nip_bentuk", "tanggal_temuan": "tanggal_asli"}


def explain(failures: pd.DataFrame, prepared: pd.DataFrame) -> pd.DataFrame:
    """Failures with reasons a clerk understands: a row's cell defects become one failure per cell, the
    other reasons gain what can be said of the value and the reader's hint (a merged cell, a formula)."""
    if failures.empty:
        return failures
    rows = prepared.set_index(["batch_id", ROW_COLUMN])
    out = []
    for failure in failures.itertuples(index=False):
        key = (failure.batch_id, failure.baris)
        notes: dict[str, Note] = (rows.at[key, NOTES_COLUMN] if key in rows.index else None) or {}
        if failure.kolom == DEFECT_COLUMN:
            for column, note in notes.items():
                if note.defect:
                    out.append(failure._replace(kolom=column, alasan=note.text))
            continue
        extra = []
        source = _VALUE_COLUMN.get(failure.kolom, failure.kolom)
        if failure.kolom != "instansi" and source in rows.columns and key in rows.index:  # instansi: the resolver's
            extra.append(describe(failure.kolom, rows.at[key, source]))
        note = notes.get(failure.kolom)
        if note is not None and not note.defect:
            extra.append(note.text)
        extra = [e for e in extra if e]
        out.append(failure._replace(alasan=failure.alasan + (f" ({'; '.join(extra)})" if extra else "")))
    return pd.DataFrame(out, columns=failures.columns)


def defects(notes: pd.Series) -> pd.Series:
    """Per row, the columns whose cells a reader noted as defects (`nip,status`), else missing."""

    def columns(row_notes: dict[str, Note] | None) -> str | None:
        found = sorted(c for c, n in (row_notes or {}).items() if n.defect)
        return ",".join(found) or None

    return pd.Series([columns(n) for n in notes], index=notes.index, dtype="object")
