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
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd

from include.netralitas.contracts import (
    CASE_COLUMNS,
    CASE_REQUIRED,
    PEMILIHAN,
    PEMILIHAN_ALL,
    PENERBIT,
    PERSONAL_COLUMNS,
    RELEASE_COLUMNS,
    RELEASE_META_FIELDS,
    RELEASE_REQUIRED,
    normalise_header,
    normalise_pemilihan,
)

ROW_COLUMN = "baris"  # 1-based number of the data row in its file (the header is row 0)
NOTES_COLUMN = "_catatan"  # per row, {column: Note} of what the reader saw in a cell (never sent to GX)
MAX_FILE_BYTES = 200 * 1024 * 1024  # checked on the file's size before it is read or landed
MAX_XLSX_UNPACKED_BYTES = 400 * 1024 * 1024  # an XLSX is a zip: its unpacked size is checked before opening
MAX_JSON_DEPTH = 32  # {"rows": [{"kolom": "teks"}]} is 3 deep; deeper documents are rejected


@dataclass(frozen=True)
class Note:
    """What a reader saw in one cell. A `defect` quarantines the row (the cell cannot be trusted as text:
    a control character, a nested JSON value, a NIP sent as a JSON number); a hint only explains a
    quarantine reason (a merged cell, a formula without a cached value)."""

    text: str
    defect: bool = False


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
    return _decode(raw, name)[0]


def _decode(raw: bytes, name: str) -> tuple[str, bool]:
    """The text, and whether it was read as UTF-8 (then `raw` less a BOM is the text's UTF-8 bytes)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), False
    try:
        return raw.decode("utf-8-sig"), True
    except UnicodeDecodeError:
        pass
    try:  # Windows-1252, also when a tool put a UTF-8 BOM before Windows-1252 bytes
        return raw.removeprefix(codecs.BOM_UTF8).decode("cp1252"), False
    except UnicodeDecodeError as exc:
        raise BatchRejected(f"{name}: not UTF-8, UTF-16 or Windows-1252 text ({exc})") from None


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [k for k, _ in pairs]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ValueError(f"duplicate key(s) {', '.join(map(repr, repeated))} in one object")
    return dict(pairs)


class JsonNumber(str):
    """A JSON number kept as the exact text that was sent (`17` stays `17`, an 18-digit NIP keeps every
    digit), marked so that a reader can tell it was not sent as a string."""

    __slots__ = ()


def _depth(doc: object) -> int:
    """How deeply arrays and objects nest (iteratively: a deep document never exhausts the stack)."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def load_json(raw: bytes, name: str) -> object:
    """JSON with clear errors: syntax (line), duplicate keys in an object, NaN/Infinity, which JSON lacks,
    and nesting deeper than MAX_JSON_DEPTH. Numbers come back as `JsonNumber`, the text that was sent."""

    def no_constant(token: str) -> object:
        raise ValueError(f"{token} is not a JSON value")

    try:
        doc = json.loads(
            decode(raw, name),
            object_pairs_hook=_unique_keys,
            parse_constant=no_constant,
            parse_int=JsonNumber,
            parse_float=JsonNumber,
        )
    except json.JSONDecodeError as exc:
        raise BatchRejected(f"{name}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    except RecursionError:
        raise BatchRejected(f"{name}: JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:
        raise BatchRejected(f"{name}: invalid JSON: {exc}") from None
    if _depth(doc) > MAX_JSON_DEPTH:
        raise BatchRejected(f"{name}: JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return doc


def _sniff_delimiter(text: str) -> str:
    head = text[:20_000]
    counts = {sep: head.count(sep) for sep in (";", ",", "\t")}
    return max(counts, key=lambda sep: counts[sep])


def _json_cell(value: object, column: str) -> tuple[str | None, Note | None]:
    """A JSON value as the exact text sent; a key left out or `null` is a blank cell."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, JsonNumber):
        if column in PERSONAL_COLUMNS or column == "nip":
            # a NIP as a JSON number has lost its digits in many senders (JavaScript keeps 15-16)
            return str(value), Note(f"{column} dikirim sebagai angka JSON, bukan teks: kirim dalam tanda kutip", True)
        return str(value), None
    if isinstance(value, dict | list):
        return None, Note(f"{column} berisi objek/array JSON, bukan teks", True)
    return str(value), None


def _frame_from_records(records: list, name: str) -> pd.DataFrame:
    """Rows of JSON objects as text columns; keys missing in some records are blank cells there."""
    if not all(isinstance(r, dict) for r in records):
        raise BatchRejected(f"{name}: every row must be a JSON object")
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    cells: dict[str, list[str | None]] = {column: [] for column in columns}
    notes: list[dict[str, Note] | None] = []
    for record in records:
        row_notes: dict[str, Note] = {}
        for column in columns:
            text, note = _json_cell(record.get(column), normalise_header(column))
            cells[column].append(text)
            if note is not None:
                row_notes[normalise_header(column)] = note
        notes.append(row_notes or None)
    frame = pd.DataFrame(cells, dtype="object", index=range(len(records)))
    frame[NOTES_COLUMN] = pd.Series(notes, dtype="object", index=frame.index)
    return frame


HEADER_SEARCH_ROWS = 30


def _header_index(rows: list[list[str]], required: tuple[str, ...]) -> int | None:
    """The first row (of the first 30) that holds every required column: title rows above it are skipped."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        names = {normalise_header(str(c)) for c in row if c is not None}
        if set(required) <= names:
            return index
    return None


def _grid_frame(
    grid: list[list[object]], header_at: int, notes: dict[tuple[int, int], Note] | None = None
) -> pd.DataFrame:
    """The rows below the header as text columns; `notes` by (grid row, column index) follow their rows."""
    header = [str(c) if c is not None else "" for c in grid[header_at]]
    width = len(header)
    body, row_notes = [], []
    for index in range(header_at + 1, len(grid)):
        row = list(grid[index][:width]) + [None] * (width - len(grid[index]))
        if not any(_cell_text(c) for c in row):
            continue  # Excel's trailing empty rows
        body.append(row)
        if notes:
            found = {normalise_header(header[c]): notes[(index, c)] for c in range(width) if (index, c) in notes}
            row_notes.append(found or None)
    frame = pd.DataFrame(body, columns=header, dtype="object")
    if notes:
        frame[NOTES_COLUMN] = pd.Series(row_notes, dtype="object", index=frame.index)
    return frame


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


MERGED_HINT = "sel gabungan (merge cells): isi nilainya di setiap baris, jangan gabungkan sel"
FORMULA_HINT = "rumus tanpa nilai tersimpan: buka dan simpan ulang di Excel/LibreOffice, atau tempel sebagai nilai"


def _open_workbooks(path: Path, name: str):
    """The workbook's cached values (not read-only: merged ranges are needed) and its formulas."""
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:  # encrypted (an OLE container), truncated, not a zip
        raise BatchRejected(f"{name}: not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise BatchRejected(
            f"{name}: the workbook unpacks to {unpacked} bytes, over the limit of {MAX_XLSX_UNPACKED_BYTES} bytes"
        )
    try:
        return load_workbook(path, data_only=True), load_workbook(path, data_only=False, read_only=True)
    except Exception as exc:  # a damaged part inside a valid zip
        raise BatchRejected(f"{name}: not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None


def _read_xlsx(path: Path, name: str, required: tuple[str, ...]) -> pd.DataFrame:
    """The sheet that holds the contract's header (which may not be on row 1). A cell left blank by a
    merged range or by a formula whose value was never cached (a file written by a program, not Excel)
    stays blank, with a note that explains it in the quarantine reason."""
    values, formulas = _open_workbooks(path, name)
    try:
        for sheet in values.worksheets:
            grid = [[_cell_text(c) for c in row] for row in sheet.iter_rows(values_only=True)]
            header_at = _header_index(grid, required)
            if header_at is None:
                continue
            notes: dict[tuple[int, int], Note] = {}
            for merged in sheet.merged_cells.ranges:
                for r in range(merged.min_row, merged.max_row + 1):
                    for c in range(merged.min_col, merged.max_col + 1):
                        if (r, c) != (merged.min_row, merged.min_col):
                            notes[(r - 1, c - 1)] = Note(MERGED_HINT)
            for r, row in enumerate(formulas[sheet.title].iter_rows(values_only=True)):
                for c, cell in enumerate(row):
                    if r < len(grid) and c < len(grid[r]) and not grid[r][c] and _is_formula(cell):
                        notes[(r, c)] = Note(FORMULA_HINT)
            return _grid_frame(grid, header_at, notes)
    finally:
        values.close()
        formulas.close()
    raise BatchRejected(f"{name}: no sheet has a header row with the columns {', '.join(required)}")


def _is_formula(cell: object) -> bool:
    return (isinstance(cell, str) and cell.startswith("=")) or type(cell).__name__ in (
        "ArrayFormula",
        "DataTableFormula",
    )


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


def _read_csv(raw: bytes, name: str, required: tuple[str, ...]) -> tuple[pd.DataFrame, bool]:
    """The file's cells under its header row, and whether they are already cleaned (`clean_cells`) with
    their notes in `_catatan`: a well-formed file takes the fast path (`_fast_csv`), any other pandas' parser."""
    text, utf8 = _decode(raw, name)
    lines = text.splitlines()
    longest = max(map(len, lines), default=0)
    if longest > MAX_LINE_CHARS:
        raise BatchRejected(f"{name}: a line of {longest} characters is over the limit of {MAX_LINE_CHARS}")
    delimiter = _sniff_delimiter(text)
    head = list(csv.reader(io.StringIO("\n".join(lines[:HEADER_SEARCH_ROWS])), delimiter=delimiter))
    header_at = _header_index(head, required) or 0
    if header_at == 0 and head and len(head[0]) >= 2:
        data = raw.removeprefix(codecs.BOM_UTF8) if utf8 else None
        fast = _fast_csv(text, data, delimiter, len(head[0]))
        if fast is not None:
            return fast, True
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
    return frame, False


# The fast path reads only what pandas' C parser and Arrow's CSV reader read alike: no ASCII control character
# (a NUL or an EOF mark may be parsed differently; such a cell is a defect anyway), no BOM left in the text,
# a header of at least two fields on the first line (so a line of spaces, which the C parser skips as blank,
# is a wrong field count for Arrow), every row as wide as the header (else Arrow raises), and quotes only
# around whole fields that stay on one line.
THREADED_CSV_CHARS = 4 * 1024 * 1024  # Arrow reads a larger file on several threads (a small one is quicker on one)
_CSV_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _quoted_csv(delimiter: str) -> re.Pattern[str]:
    """A whole CSV text whose quoted fields are RFC 4180 fields without a line break."""
    sep = re.escape(delimiter)
    field = f'(?:"[^"\\r\\n]*(?:""[^"\\r\\n]*)*"|[^"{sep}\\r\\n]*)'
    record = f"{field}(?:{sep}{field})*"
    return re.compile(f"(?:{record}(?:\\r\\n|\\r|\\n))*(?:{record})?")


_QUOTED_CSV = {delimiter: _quoted_csv(delimiter) for delimiter in (";", ",", "\t")}


def _fast_csv(text: str, data: bytes | None, delimiter: str, width: int) -> pd.DataFrame | None:
    """A well-formed CSV read by Arrow and cleaned as `clean_cells` cleans it (header row first, columns as
    the file names them, `_catatan` last), or None whenever the file is not plainly well formed: then
    pandas' parser reads it and every message stays the same.

    `data` is the text's UTF-8 bytes when the file was sent as UTF-8 (a BOM removed), `width` the number of
    fields of the first line."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    if text.startswith("\ufeff") or _CSV_CONTROL.search(text) is not None:
        return None
    if '"' in text and _QUOTED_CSV[delimiter].fullmatch(text) is None:
        return None
    names = [f"f{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            io.BytesIO(data if data is not None else text.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=len(text) > THREADED_CSV_CHARS),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, ValueError):
        return None
    if table.num_rows < 1 or table.num_columns != width:
        return None
    header = [column[0].as_py() for column in table.columns]
    columns = [normalise_header(str(c)) for c in header]
    if NOTES_COLUMN in columns:  # the reader's own column sent in the file: the usual path decides
        return None
    rows = table.num_rows - 1
    cells = np.empty((width + 1, rows), dtype=object)
    notes = cells[width]
    if rows:
        body = pa.concat_arrays([chunk for column in table.slice(1).columns for chunk in column.chunks])
        stripped = pc.utf8_trim_whitespace(body)
        stripped = pc.if_else(pc.equal(stripped, ""), pa.scalar(None, pa.string()), stripped)
        cleaned = stripped.to_numpy(zero_copy_only=False, writable=True)
        if not text.isascii():  # the cells that are not ASCII are cleaned one by one, as `_clean_column` does
            slow = np.flatnonzero(pc.invert(pc.string_is_ascii(body)).to_numpy(zero_copy_only=False))
            originals = body.take(pa.array(slow, type=pa.int64())).to_pylist()
            for position, value in zip(slow.tolist(), originals, strict=True):
                column, row = divmod(position, rows)
                cleaned[position], note = _clean_cell(value, columns[column])
                if note is not None:
                    notes[row] = {**(notes[row] or {}), columns[column]: note}
        cells[:width] = cleaned.reshape(width, rows)
    return pd.DataFrame(cells.T, columns=[*header, NOTES_COLUMN], dtype="object", copy=False)


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
    cleaned = False
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
        frame, cleaned = _read_csv(raw, name, required)
    elif suffix in (".xlsx", ".xlsm"):
        frame = _read_xlsx(path, name, required)
    elif suffix in (".html", ".htm"):
        frame = _read_html(raw, name, required)
    else:
        raise BatchRejected(f"{name}: unsupported file type {suffix!r} (expected .csv, .xlsx, .json or .html)")
    names = [normalise_header(str(c)) for c in frame.columns]
    frame.columns = names
    duplicated = sorted({c for c in names if names.count(c) > 1})
    if duplicated:
        raise BatchRejected(f"{name}: duplicated header {', '.join(duplicated)}", rows=len(frame))
    if not cleaned:
        if NOTES_COLUMN not in frame.columns:
            frame[NOTES_COLUMN] = pd.Series([None] * len(frame), dtype="object", index=frame.index)
        frame = clean_cells(frame)
    frame.insert(0, ROW_COLUMN, range(1, len(frame) + 1))
    return frame


# Invisible characters that are dropped; characters that a cell may not hold (C0/C1 controls but tab and line
# breaks, which a quoted CSV field may hold, and the bidi overrides and isolates that reorder printed text).
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u061c]")
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell NFKC-normalised (fullwidth digits are ASCII digits), invisible characters dropped,
    surrounding spaces stripped, blanks missing. A cell holding a control character or a bidi override is
    noted as a defect (its row is quarantined) and the character removed, so no database ever sees it.

    The usual cell (ASCII text without a control character) is stripped by Arrow's vectorised kernels; every
    other cell (non-ASCII, a control character, a value that is not text) takes the cell-by-cell path."""
    notes = frame[NOTES_COLUMN].to_numpy(dtype=object, copy=True)
    columns: dict[str, object] = {}
    for column in frame.columns:
        if column == NOTES_COLUMN:
            columns[column] = notes
            continue
        cleaned, noted = _clean_column(frame[column], column)
        for position, note in noted:
            notes[position] = {**(notes[position] or {}), column: note}
        columns[column] = cleaned
    return pd.DataFrame(columns, index=frame.index, dtype="object")


_ASCII_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"  # the ASCII part of _FORBIDDEN


def _clean_column(values: pd.Series, column: str) -> tuple[np.ndarray, list[tuple[int, Note]]]:
    """The cleaned cells of one column (an object array, None for a blank) and the defect notes by position."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        text = pa.chunked_array([pa.array(values, type=pa.string(), from_pandas=True)])
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # a value that is not text (an XLSX number): cell by cell
        slow = np.arange(len(values))
        cleaned = np.empty(len(values), dtype=object)
        originals = values.to_numpy(dtype=object)
    else:
        is_slow = pc.or_kleene(pc.invert(pc.string_is_ascii(text)), pc.match_substring_regex(text, _ASCII_CONTROL))
        slow = np.flatnonzero(pc.fill_null(is_slow, False).to_numpy(zero_copy_only=False))
        stripped = pc.utf8_trim_whitespace(text)
        stripped = pc.if_else(pc.equal(stripped, ""), pa.scalar(None, pa.string()), stripped)
        cleaned = stripped.to_numpy(zero_copy_only=False).astype(object, copy=False)
        originals = text.take(pa.array(slow, type=pa.int64())).to_pylist() if len(slow) else []
        originals = dict(zip(slow.tolist(), originals, strict=True))
    noted = []
    for position in slow.tolist():
        cleaned[position], note = _clean_cell(originals[position], column)
        if note is not None:
            noted.append((position, note))
    return cleaned, noted


def _clean_cell(value: object, column: str) -> tuple[str | None, Note | None]:
    if not isinstance(value, str):
        return None, None
    if not value.isascii():
        value = _INVISIBLE.sub("", unicodedata.normalize("NFKC", value))
    note = None
    if _FORBIDDEN.search(value) is not None:
        chars = sorted({f"U+{ord(ch):04X}" for ch in _FORBIDDEN.findall(value)})
        note = Note(f"{column} berisi karakter kontrol {', '.join(chars)} (tidak tercetak)", True)
        value = _FORBIDDEN.sub("", value)
    return (value.strip() or None), note


def _require(frame: pd.DataFrame, required: tuple[str, ...], name: str, contract: str) -> None:
    present = set(frame.columns)
    missing = [c for c in required if c not in present]
    if missing:
        raise BatchRejected(f"{name}: required column(s) missing for {contract}: {', '.join(missing)}", rows=len(frame))


def read_case_report(path: Path, name: str | None = None) -> pd.DataFrame:
    name = name or path.name
    frame = read_table(path, name, CASE_REQUIRED)
    if frame.columns.tolist() == [ROW_COLUMN, NOTES_COLUMN] and Path(name).suffix.lower() == ".json":
        frame = pd.DataFrame({ROW_COLUMN: pd.Series(dtype="int64"), NOTES_COLUMN: pd.Series(dtype="object")})
        for column in CASE_COLUMNS:
            frame[column] = pd.Series(dtype="object")
    _require(frame, CASE_REQUIRED, name, "case-report/v1")
    present = set(frame.columns)
    for column in CASE_COLUMNS:
        if column not in present:
            frame[column] = None
    ordered = [ROW_COLUMN, *CASE_COLUMNS, NOTES_COLUMN]
    return frame if frame.columns.tolist() == ordered else frame[ordered]


def parse_dates(values: pd.Series) -> pd.Series:
    """ISO `YYYY-MM-DD` or `DD/MM/YYYY` (also `DD-MM-YYYY`); anything else, `31/02/2024` too, is None.
    Each distinct text is parsed once."""
    from include.netralitas.ingest.distinct import apply_distinct

    def parse(distinct: pd.Series) -> pd.Series:
        text = distinct.astype("string")
        parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        for fmt in ("%d/%m/%Y", "%d-%m-%Y"):
            parsed = parsed.fillna(pd.to_datetime(text, format=fmt, errors="coerce"))
        return parsed.dt.date.astype("object").where(parsed.notna(), None)

    return apply_distinct(values, parse)


def read_release_meta(path: Path, name: str | None = None) -> ReleaseMeta:
    """The sidecar at `path`; `name` is how messages call it (the landed copy is named by its hash)."""
    name = name or path.name
    if not path.exists():
        raise BatchRejected(f"{name}: the sidecar metadata file is missing")
    return release_meta_from(load_json(path.read_bytes(), name), name)


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
        meta = read_release_meta(sidecar, release_sidecar(Path(name)).name)
    frame = read_table(path, name, RELEASE_REQUIRED)
    _require(frame, RELEASE_REQUIRED, name, "national-release/v1")
    for column in RELEASE_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    return meta, frame[[ROW_COLUMN, *RELEASE_COLUMNS, NOTES_COLUMN]]


def release_sidecar(path: Path) -> Path:
    return path.with_name(path.stem + ".meta.json")
