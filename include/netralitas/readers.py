"""Reading dropped files into text-only DataFrames (product.md §3).

Every column is read as text, so an 18-digit NIP or a code with leading zeros keeps every digit. A file that
cannot be read as its contract (unreadable, required columns missing) raises `BatchRejected` with the
reason; row-level problems are left to validation.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
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
    try:  # Windows-1252, also when a tool put a UTF-8 BOM before Windows-1252 bytes
        return raw.removeprefix(codecs.BOM_UTF8).decode("cp1252")
    except UnicodeDecodeError as exc:
        raise BatchRejected(f"{name}: not UTF-8, UTF-16 or Windows-1252 text ({exc})") from None


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [k for k, _ in pairs]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ValueError(f"duplicate key(s) {', '.join(map(repr, repeated))} in one object")
    return dict(pairs)


def load_json(raw: bytes, name: str) -> object:
    """JSON with clear errors: syntax (line), duplicate keys in an object, and NaN/Infinity, which JSON lacks."""

    def no_constant(token: str) -> object:
        raise ValueError(f"{token} is not a JSON value")

    try:
        return json.loads(decode(raw, name), object_pairs_hook=_unique_keys, parse_constant=no_constant)
    except json.JSONDecodeError as exc:
        raise BatchRejected(f"{name}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    except ValueError as exc:
        raise BatchRejected(f"{name}: invalid JSON: {exc}") from None


def _sniff_delimiter(text: str) -> str:
    head = text[:20_000]
    counts = {sep: head.count(sep) for sep in (";", ",", "\t")}
    return max(counts, key=lambda sep: counts[sep])


def _frame_from_records(records: list[dict], name: str) -> pd.DataFrame:
    if not all(isinstance(r, dict) for r in records):
        raise BatchRejected(f"{name}: every row must be a JSON object")
    frame = pd.DataFrame.from_records(records)
    return frame.map(lambda v: None if v is None else str(v)).astype("object")


HEADER_SEARCH_ROWS = 30


def _header_index(rows: list[list[str]], required: tuple[str, ...]) -> int | None:
    """The first row (of the first 30) that holds every required column: title rows above it are skipped."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        names = {normalise_header(str(c)) for c in row if c is not None}
        if set(required) <= names:
            return index
    return None


def _grid_frame(grid: list[list[object]], header_at: int) -> pd.DataFrame:
    width = len(grid[header_at])
    body = [list(row[:width]) + [None] * (width - len(row)) for row in grid[header_at + 1 :]]
    body = [row for row in body if any(_cell_text(c) for c in row)]  # Excel's trailing empty rows
    return pd.DataFrame(body, columns=[str(c) if c is not None else "" for c in grid[header_at]], dtype="object")


def _cell_text(value: object) -> str:
    """An Excel cell as the text a person sees: integral numbers without `.0`, dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, int | float) and abs(value) >= 1e15:
        # Excel keeps 15 significant digits of a number: an 18-digit NIP typed as a number is already wrong
        # in the file. Show it as Excel does (1.99001012015031e+17) so that validation rejects it.
        return format(float(value), ".15g")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "date") and hasattr(value, "hour"):  # datetime
        return value.date().isoformat() if (value.hour, value.minute, value.second) == (0, 0, 0) else value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _read_xlsx(path: Path, name: str, required: tuple[str, ...]) -> pd.DataFrame:
    """The sheet that holds the contract's header (which may not be on row 1)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # encrypted, truncated or not an XLSX at all
        raise BatchRejected(f"{name}: not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None
    try:
        for sheet in book.worksheets:
            grid = [[_cell_text(c) for c in row] for row in sheet.iter_rows(values_only=True)]
            header_at = _header_index(grid, required)
            if header_at is not None:
                return _grid_frame(grid, header_at)
    finally:
        book.close()
    raise BatchRejected(f"{name}: no sheet has a header row with the columns {', '.join(required)}")


class _TableParser(HTMLParser):
    """Every <table> of an HTML page as rows of cell texts (nested tables are read separately)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._stack: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "table":
            self._stack.append([])
        elif tag == "tr" and self._stack:
            self._stack[-1].append([])
        elif tag in ("td", "th") and self._stack:
            if not self._stack[-1]:
                self._stack[-1].append([])
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._stack:
            self._stack[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._stack:
            self.tables.append(self._stack.pop())

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _read_html(raw: bytes, name: str, required: tuple[str, ...]) -> pd.DataFrame:
    parser = _TableParser()
    parser.feed(decode(raw, name))
    parser.close()
    for table in parser.tables:
        header_at = _header_index(table, required)
        if header_at is not None:
            return _grid_frame(table, header_at)
    found = f"{len(parser.tables)} table(s), none" if parser.tables else "no table"
    raise BatchRejected(f"{name}: the page has {found} with the columns {', '.join(required)}")


MAX_LINE_CHARS = 100_000


def _read_csv(raw: bytes, name: str, required: tuple[str, ...]) -> pd.DataFrame:
    text = decode(raw, name)
    longest = max((len(line) for line in text.splitlines()), default=0)
    if longest > MAX_LINE_CHARS:
        raise BatchRejected(f"{name}: a line of {longest} characters is over the limit of {MAX_LINE_CHARS}")
    delimiter = _sniff_delimiter(text)
    head = list(csv.reader(io.StringIO("\n".join(text.splitlines()[:HEADER_SEARCH_ROWS])), delimiter=delimiter))
    header_at = _header_index(head, required) or 0
    try:
        cells = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            header=None,
            skiprows=header_at,
            skip_blank_lines=True,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise BatchRejected(f"{name}: unreadable CSV: {exc}") from None
    # The header is read as a row so that a duplicated column name is seen, not renamed.
    frame = cells.iloc[1:].reset_index(drop=True)
    frame.columns = list(cells.iloc[0])
    return frame


def read_table(path: Path, name: str | None = None, required: tuple[str, ...] = ()) -> pd.DataFrame:
    """A CSV, XLSX, HTML or JSON file as text columns with normalised headers and a `baris` row number.

    `name` is the file name used in messages (the landed copy is named by its hash). `required` names the
    contract's columns, used to find the header row below any title rows (CSV, XLSX) or the right table
    of a page (HTML).
    """
    name = name or path.name
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise BatchRejected(f"{name}: {size} bytes is over the limit of {MAX_FILE_BYTES} bytes")
    raw = path.read_bytes()
    if not raw.strip():
        raise BatchRejected(f"{name}: the file is empty (not even a header row)")
    suffix = Path(name).suffix.lower()
    if suffix == ".json":
        doc = load_json(raw, name)
        records = doc.get("rows") if isinstance(doc, dict) else doc
        if not isinstance(records, list):
            raise BatchRejected(f"{name}: expected a list of rows or {{'rows': [...]}}")
        frame = _frame_from_records(records, name)
    elif suffix in (".csv", ".txt"):
        frame = _read_csv(raw, name, required)
    elif suffix in (".xlsx", ".xlsm"):
        frame = _read_xlsx(path, name, required)
    elif suffix in (".html", ".htm"):
        frame = _read_html(raw, name, required)
    else:
        raise BatchRejected(f"{name}: unsupported file type {suffix!r} (expected .csv, .xlsx, .json or .html)")
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
    frame = read_table(path, name, CASE_REQUIRED)
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
    return release_meta_from(load_json(path.read_bytes(), path.name), path.name)


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
    if Path(name).suffix.lower() == ".json":  # one document with metadata and rows
        doc = load_json(path.read_bytes(), name)
        if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list):
            raise BatchRejected(f"{name}: expected {{'metadata': {{...}}, 'rows': [...]}}")
        meta = release_meta_from(doc.get("metadata"), name)
    else:
        sidecar = release_sidecar(path)
        if not sidecar.exists():
            raise BatchRejected(f"{release_sidecar(Path(name)).name}: the sidecar metadata file is missing")
        meta = read_release_meta(sidecar)
    frame = read_table(path, name, RELEASE_REQUIRED)
    _require(frame, RELEASE_REQUIRED, name, "national-release/v1")
    for column in RELEASE_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    return meta, frame[[ROW_COLUMN, *RELEASE_COLUMNS]]


def release_sidecar(path: Path) -> Path:
    return path.with_name(path.stem + ".meta.json")
