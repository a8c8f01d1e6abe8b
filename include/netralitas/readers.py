"""Reading dropped files into text-only DataFrames (product.md §3).

Every column is read as text, so an 18-digit NIP or a code with leading zeros keeps every digit. A file that
cannot be read as its contract (unreadable, required columns missing) raises `BatchRejected` with the
reason; row-level problems are left to validation.
"""

from __future__ import annotations

import codecs
import io
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from include.netralitas.contracts import (
    CASE_COLUMNS,
    CASE_REQUIRED,
    PEMILIHAN,
    PEMILIHAN_ALL,
    PENERBIT,
    RELEASE_COLUMNS,
    RELEASE_META_FIELDS,
    RELEASE_REQUIRED,
    normalise_header,
    normalise_pemilihan,
)

ROW_COLUMN = "baris"  # 1-based number of the data row in its file (the header is row 0)
MAX_FILE_BYTES = 200 * 1024 * 1024


class BatchRejected(Exception):
    """The whole batch cannot be read as its contract; nothing of it loads.

    `rows` is the number of data rows the file holds when that could still be counted (they are all
    quarantined with the batch), else 0.
    """

    def __init__(self, message: str, rows: int = 0) -> None:
        super().__init__(message)
        self.rows = rows


@dataclass(frozen=True)
class ReleaseMeta:
    penerbit: str
    judul: str
    tanggal_data: date
    pemilihan: str


def decode(raw: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252 as Excel exports it."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise BatchRejected(f"{name}: not UTF-8, UTF-16 or Windows-1252 text ({exc})") from None


def _sniff_delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    counts = {sep: header.count(sep) for sep in (";", ",", "\t")}
    return max(counts, key=lambda sep: counts[sep])


def _frame_from_records(records: list[dict], name: str) -> pd.DataFrame:
    if not all(isinstance(r, dict) for r in records):
        raise BatchRejected(f"{name}: every row must be a JSON object")
    frame = pd.DataFrame.from_records(records)
    return frame.map(lambda v: None if v is None else str(v)).astype("object")


def read_table(path: Path, name: str | None = None) -> pd.DataFrame:
    """A CSV or JSON file as text columns with normalised headers and a `baris` row number.

    `name` is the file name used in messages (the landed copy is named by its hash).
    """
    name = name or name
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise BatchRejected(f"{name}: {size} bytes is over the limit of {MAX_FILE_BYTES} bytes")
    raw = path.read_bytes()
    if not raw.strip():
        raise BatchRejected(f"{name}: the file is empty (not even a header row)")
    suffix = Path(name).suffix.lower()
    if suffix == ".json":
        try:
            doc = json.loads(decode(raw, name))
        except json.JSONDecodeError as exc:
            raise BatchRejected(f"{name}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
        records = doc.get("rows") if isinstance(doc, dict) else doc
        if not isinstance(records, list):
            raise BatchRejected(f"{name}: expected a list of rows or {{'rows': [...]}}")
        frame = _frame_from_records(records, name)
    elif suffix in (".csv", ".txt"):
        text = decode(raw, name)
        try:
            cells = pd.read_csv(
                io.StringIO(text), sep=_sniff_delimiter(text), dtype=str, keep_default_na=False, header=None
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise BatchRejected(f"{name}: unreadable CSV: {exc}") from None
        # The header is read as a row so that a duplicated column name is seen, not renamed.
        frame = cells.iloc[1:].reset_index(drop=True)
        frame.columns = list(cells.iloc[0])
    else:
        raise BatchRejected(f"{name}: unsupported file type {suffix!r} (expected .csv or .json)")
    frame.columns = [normalise_header(str(c)) for c in frame.columns]
    duplicated = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
    if duplicated:
        raise BatchRejected(f"{name}: duplicated header {', '.join(duplicated)}", rows=len(frame))
    frame = frame.map(lambda v: v.strip() if isinstance(v, str) else v)
    frame = frame.replace({"": None})
    frame.insert(0, ROW_COLUMN, range(1, len(frame) + 1))
    return frame


def _require(frame: pd.DataFrame, required: tuple[str, ...], name: str, contract: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise BatchRejected(f"{name}: required column(s) missing for {contract}: {', '.join(missing)}", rows=len(frame))


def read_case_report(path: Path, name: str | None = None) -> pd.DataFrame:
    name = name or path.name
    frame = read_table(path, name)
    if frame.columns.tolist() == [ROW_COLUMN] and Path(name).suffix.lower() == ".json":
        frame = pd.DataFrame({ROW_COLUMN: pd.Series(dtype="int64")})  # `[]`: a report of zero cases
        for column in CASE_COLUMNS:
            frame[column] = pd.Series(dtype="object")
    _require(frame, CASE_REQUIRED, name, "case-report/v1")
    for column in CASE_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    return frame[[ROW_COLUMN, *CASE_COLUMNS]]


def parse_dates(values: pd.Series) -> pd.Series:
    """ISO `YYYY-MM-DD` or `DD/MM/YYYY` (also `DD-MM-YYYY`); anything else, `31/02/2024` too, is NaT."""
    text = values.astype("string")
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    for fmt in ("%d/%m/%Y", "%d-%m-%Y"):
        parsed = parsed.fillna(pd.to_datetime(text, format=fmt, errors="coerce"))
    return parsed.dt.date.astype("object").where(parsed.notna(), None)


def read_release_meta(path: Path) -> ReleaseMeta:
    if not path.exists():
        raise BatchRejected(f"{path.name}: the sidecar metadata file is missing")
    try:
        doc = json.loads(decode(path.read_bytes(), path.name))
    except json.JSONDecodeError as exc:
        raise BatchRejected(f"{path.name}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    return release_meta_from(doc, path.name)


def release_meta_from(doc: object, name: str) -> ReleaseMeta:
    if not isinstance(doc, dict):
        raise BatchRejected(f"{name}: metadata must be a JSON object")
    missing = [f for f in RELEASE_META_FIELDS if not str(doc.get(f) or "").strip()]
    if missing:
        raise BatchRejected(f"{name}: metadata field(s) missing: {', '.join(missing)}")
    penerbit = str(doc["penerbit"]).strip().upper()
    if penerbit not in PENERBIT:
        raise BatchRejected(f"{name}: penerbit {doc['penerbit']!r} is not one of {', '.join(PENERBIT)}")
    pemilihan = normalise_pemilihan(str(doc["pemilihan"]))
    if pemilihan not in (*PEMILIHAN, PEMILIHAN_ALL):
        raise BatchRejected(f"{name}: pemilihan {doc['pemilihan']!r} is not a known election or SEMUA")
    tanggal = parse_dates(pd.Series([str(doc["tanggal_data"])])).iloc[0]
    if tanggal is None:
        raise BatchRejected(f"{name}: tanggal_data {doc['tanggal_data']!r} is not a real date")
    return ReleaseMeta(penerbit, str(doc["judul"]).strip(), tanggal, pemilihan)


def read_national_release(path: Path, name: str | None = None) -> tuple[ReleaseMeta, pd.DataFrame]:
    """A release as CSV with its `<name>.meta.json` sidecar, or one JSON document with metadata and rows."""
    name = name or path.name
    if Path(name).suffix.lower() == ".json":
        try:
            doc = json.loads(decode(path.read_bytes(), name))
        except json.JSONDecodeError as exc:
            raise BatchRejected(f"{name}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list):
            raise BatchRejected(f"{name}: expected {{'metadata': {{...}}, 'rows': [...]}}")
        meta = release_meta_from(doc.get("metadata"), name)
    else:
        sidecar = release_sidecar(path)
        if not sidecar.exists():
            raise BatchRejected(f"{release_sidecar(Path(name)).name}: the sidecar metadata file is missing")
        meta = read_release_meta(sidecar)
    frame = read_table(path, name)
    _require(frame, RELEASE_REQUIRED, name, "national-release/v1")
    for column in RELEASE_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    return meta, frame[[ROW_COLUMN, *RELEASE_COLUMNS]]


def release_sidecar(path: Path) -> Path:
    return path.with_name(path.stem + ".meta.json")
