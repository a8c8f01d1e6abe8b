"""Ingestion of dropped files: land, read, resolve, validate, pseudonymise, stage (product.md §3, §7, §8).

Each batch (a file) is landed immutably under its content hash before anything else; the same content
twice is a no-op. Batches are read and validated in chunks (`ROWS_PER_VALIDATION`); each chunk is then
written in one transaction: its good rows to staging, its bad rows' reasons to the quarantine, its
validation results and one manifest row per batch, with rows in = loaded + quarantined + duplicates. A kill
leaves every batch whole or absent. One bad batch never stops the others (a chunk the warehouse refuses is
written again batch by batch, and only the refused batch is rejected). A file leaves the drop folder only
after the transaction that holds its batch is committed.
"""

from __future__ import annotations

import errno
import gc
import logging
import os
import re
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from include.netralitas.contracts import (
    CASE_COLUMNS,
    CASE_REPORT_CONTRACT,
    NATIONAL_RELEASE_CONTRACT,
    normalise_pemilihan,
)
from include.netralitas.ingest.distinct import map_distinct
from include.netralitas.ingest.explain import DEFECT_COLUMN, defects, explain, safe_value
from include.netralitas.ingest.pii import mask_format, pseudonymise
from include.netralitas.ingest.readers import (
    MAX_FILE_BYTES,
    NOTES_COLUMN,
    ROW_COLUMN,
    BatchRejected,
    read_case_report,
    read_national_release,
    release_sidecar,
)
from include.netralitas.landing.zone import content_hash, land, sweep_stale_temporaries, sync_folders
from include.netralitas.quality.gx import (
    CASE_SUITE,
    RELEASE_SUITE,
    ValidationOutcome,
    case_report_rules,
    data_docs_index,
    defect_rule,
    national_release_rules,
    run_suite,
)
from include.netralitas.reference.catalogue import load_catalogue
from include.netralitas.warehouse.database import sql
from include.netralitas.weeks import today_wib

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Connection

    from include.netralitas.settings import Settings
    from include.netralitas.warehouse.database import Warehouse

log = logging.getLogger(__name__)


@dataclass
class BatchResult:
    batch_id: str
    file_name: str
    contract: str
    kode_kantor: str | None
    status: str  # loaded | rejected | already_loaded
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    error: str | None = None

    def summary(self) -> str:
        head = f"{self.file_name} [{self.kode_kantor or '-'}] {self.status}"
        counts = (
            f"in={self.rows_in} loaded={self.rows_loaded} "
            f"quarantined={self.rows_quarantined} duplicates={self.rows_duplicate}"
        )
        return f"{head}: {counts}" + (f" — {self.error}" if self.error else "")


@dataclass
class _Pending:
    result: BatchResult
    drop_paths: list[Path]
    landed: Path
    received_at: datetime  # the file's time (or the pull's): freshness only, never the order of reports
    frame: pd.DataFrame | None = None
    meta: object | None = None
    rejection: BatchRejected | None = None  # rejected before reading (its size, its name)
    source: str = "file"  # file | api


def office_from_name(name: str) -> str:
    """Drop files are named `<kode_kantor>_<anything>` (e.g. `82.04_20241125.csv`); else no office."""
    head = name.split("_", 1)[0]
    return head if head in load_catalogue().regions else ""


def _received_at(path: Path) -> datetime:
    return datetime.fromtimestamp(path.lstat().st_mtime, tz=UTC)


# Names that uploaders and editors use while a file is still being written; they are never read.
WRITING_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download", ".filepart")
_UNPRINTABLE = re.compile("[\\x00-\\x1f\\x7f-\\x9f\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u206f\\ufeff\\\\]")


def printable_name(name: str) -> tuple[str, str | None]:
    """The file name as it may be stored and printed, and the problem that makes it unsafe, if any.

    A name that is not valid UTF-8 (Python's surrogate escapes), or that holds a control character, a line
    break, a bidi override, a zero-width character or a backslash, is rendered with escapes (`\\n`, `\\xff`,
    `\\u202e`) and its batch is rejected: such a name can forge a log line or a listing.
    """
    problems = []
    raw = name.encode("utf-8", "surrogateescape")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        problems.append("not valid UTF-8")
    text = raw.decode("utf-8", "backslashreplace")
    if _UNPRINTABLE.search(text):
        problems.append("holds control, line-break, bidi, zero-width or backslash characters")
    rendered = _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    return rendered, ("; ".join(problems) or None)


def _drop_files(folders: list[Path]) -> list[Path]:
    """The data files of the drop folders in name order (the stable order of batches received together):
    hidden files, sidecars, files still being written by their name and Excel's `~$` lock files left out."""
    files = []
    for folder in folders:
        if not folder.exists():
            continue
        for path in folder.iterdir():
            name = path.name
            if name.startswith((".", "~$")) or name.endswith(".meta.json") or name.lower().endswith(WRITING_SUFFIXES):
                continue
            if path.is_file() or path.is_symlink():
                files.append(path)
    return sorted(files, key=lambda p: (p.name, str(p)))


def _known_batches(conn: Connection, batch_ids: list[str]) -> set[str]:
    if not batch_ids:
        return set()
    wanted = set(batch_ids)
    return {b for b in conn.execute(sql("landing/select_batch_ids.sql")).scalars() if b in wanted}


def _record_batch(
    wh: Warehouse,
    conn: Connection,
    pending: _Pending,
    run_id: str | None,
    quarantine: pd.DataFrame,
    results: pd.DataFrame | None,
) -> None:
    _record_batches(wh, conn, [pending], run_id, quarantine, results)


def _record_batches(
    wh: Warehouse,
    conn: Connection,
    pending: list[_Pending],
    run_id: str | None,
    quarantine: pd.DataFrame,
    results: pd.DataFrame | None,
) -> None:
    """The batches' quarantined rows, validation results and manifest rows, in the caller's transaction: one
    bulk load per table for all of them, each batch landed at its own (strictly increasing) time, in order."""
    nows = {item.result.batch_id: _landing_time() for item in pending}
    quarantine = quarantine[quarantine["tingkat"] == "critical"]  # warnings live in validation_result only
    if not quarantine.empty:
        wh.bulk_insert(conn, "audit.quarantine", quarantine.assign(run_id=run_id))
    if results is not None and not results.empty:
        validated_at = pd.to_datetime(results["batch_id"].map(nows), utc=True)
        wh.bulk_insert(conn, "audit.validation_result", results.assign(run_id=run_id, validated_at=validated_at))
    conn.execute(
        sql("landing/insert_batch.sql"),
        [
            {
                **{k: v for k, v in asdict(item.result).items() if k not in ("status",)},
                "status": item.result.status,
                "source": item.source,
                "landed_path": str(item.landed),
                "received_at": item.received_at,
                "ingested_at": nows[item.result.batch_id],
                "run_id": run_id,
            }
            for item in pending
        ],
    )


_last_landing_time = datetime.min.replace(tzinfo=UTC)


def _landing_time() -> datetime:
    """When the warehouse received a batch (`landing.batch.ingested_at`), strictly increasing within a process:
    the newest report of a case is the one landed last (then the batch id), never a file's modification time."""
    global _last_landing_time
    now = datetime.now(UTC)
    if now <= _last_landing_time:
        now = _last_landing_time + timedelta(microseconds=1)
    _last_landing_time = now
    return now


def _reject(
    wh: Warehouse, conn: Connection, pending: _Pending, exc: BatchRejected, suite: str, run_id: str | None
) -> None:
    """A batch that cannot be read as its contract: quarantined whole, with a failed structural result."""
    r = pending.result
    r.status, r.error = "rejected", str(exc)
    r.rows_in = r.rows_quarantined = exc.rows
    quarantine = pd.DataFrame(
        [(r.batch_id, 0, "*", "batch_readable", str(exc), "critical")],
        columns=["batch_id", "baris", "kolom", "aturan", "alasan", "tingkat"],
    )
    structural = pd.DataFrame(
        [(r.batch_id, suite, "batch_readable", "*", False, exc.rows, "critical")],
        columns=["batch_id", "suite", "expectation", "kolom", "success", "unexpected_count", "tingkat"],
    )
    with wh.transaction(conn):
        _record_batch(wh, conn, pending, run_id, quarantine, structural)


def _finish(pending: _Pending) -> None:
    """The batch is committed: its files may now leave the drop folder."""
    for path in pending.drop_paths:
        path.unlink(missing_ok=True)


def _apply(
    wh: Warehouse,
    conn: Connection,
    pending: list[_Pending],
    outcome: ValidationOutcome,
    prepared: pd.DataFrame,
    duplicates: dict[str, int],
    spec: _Contract,
    run_id: str | None,
) -> None:
    """Stage a validated chunk of batches in ONE transaction (their rows, quarantine, results and manifest
    rows), then let their files leave the drop folder. A kill -9 leaves the whole chunk committed or none of
    it; a file leaves only after the commit that holds its batch. Should the warehouse refuse the chunk's
    content, each batch is staged again alone, so that only the refused one is rejected."""
    failures = outcome.failures
    critical = failures[failures["tingkat"] == "critical"]
    is_bad = pd.Series(
        pd.MultiIndex.from_frame(prepared[["batch_id", ROW_COLUMN]]).isin(
            pd.MultiIndex.from_frame(critical[["batch_id", "baris"]].rename(columns={"baris": ROW_COLUMN}))
        ),
        index=prepared.index,
    )
    good = prepared.loc[~is_bad] if is_bad.any() else prepared  # no copy of a chunk without a bad row
    quarantined = is_bad.groupby(prepared["batch_id"], sort=False).sum()
    loaded = good.groupby("batch_id", sort=False).size()
    for item in pending:
        r = item.result
        r.rows_duplicate = duplicates.get(r.batch_id, 0)
        r.rows_quarantined = int(quarantined.get(r.batch_id, 0))
        r.rows_loaded = int(loaded.get(r.batch_id, 0))
        r.status = "loaded" if r.rows_loaded else ("quarantined" if r.rows_in else "empty")
    if len(pending) > 1:
        try:
            with wh.transaction(conn):
                for item in pending:
                    spec.insert_header(conn, item)
                spec.insert(conn, good)
                _record_batches(wh, conn, pending, run_id, failures, outcome.results)
        except CONTENT_ERRORS as exc:  # rolled back whole: find the refused batch, load the others
            log.warning("%s: the warehouse refused a chunk of %d batches (%s); each batch alone", spec.suite,
                        len(pending), type(exc).__name__)  # fmt: skip
        else:
            for item in pending:
                _finish(item)
            return
    # One pass to split rows, failures and results by batch (not one scan of everything per batch).
    rows_by_batch = dict(tuple(good.groupby("batch_id", sort=False)))
    failures_by_batch = dict(tuple(failures.groupby("batch_id", sort=False)))
    results_by_batch = dict(tuple(outcome.results.groupby("batch_id", sort=False)))
    for item in pending:
        r = item.result
        try:
            with wh.transaction(conn):
                spec.insert_header(conn, item)
                spec.insert(conn, rows_by_batch.get(r.batch_id, good.iloc[0:0]))
                _record_batch(
                    wh,
                    conn,
                    item,
                    run_id,
                    failures_by_batch.get(r.batch_id, failures.iloc[0:0]),
                    results_by_batch.get(r.batch_id, outcome.results.iloc[0:0]),
                )
        except CONTENT_ERRORS as exc:
            # Defence in depth: every rule the warehouse enforces is an expectation first, so this means a
            # rule is missing. The batch is rejected whole (its transaction rolled back), the others go on.
            # The database's message is not kept: it may quote the row's values.
            log.warning("%s: the warehouse refused the batch (%s)", r.file_name, type(exc).__name__)
            r.rows_loaded = r.rows_duplicate = 0
            refused = BatchRejected(
                f"{r.file_name}: the warehouse refused the batch ({type(exc).__name__}); nothing of it was loaded"
                " — a missing validation rule: report it",
                rows=r.rows_in,
            )
            _reject(wh, conn, item, refused, spec.suite, run_id)
        _finish(item)


def _content_errors() -> tuple[type[BaseException], ...]:
    """Errors a database raises for the content of rows (a value it cannot store), not for its own state."""
    import duckdb
    import psycopg
    from sqlalchemy import exc

    return (
        exc.DataError,
        exc.IntegrityError,
        psycopg.DataError,
        psycopg.IntegrityError,
        duckdb.ConversionException,
        duckdb.ConstraintException,
        duckdb.InvalidInputException,
        duckdb.OutOfRangeException,
    )


CONTENT_ERRORS = _content_errors()


def _settling(path: Path, settle_seconds: float, now: float) -> str | None:
    """Why `path` must wait for the next run (modified within the settle interval), if it must."""
    age = now - path.stat().st_mtime
    if age < settle_seconds:
        return f"modified {max(age, 0):.0f} s ago, within the settle interval of {settle_seconds:.0f} s: next run"
    return None


def _oversize(parts: list[Path], contract: str, landing_dir: Path) -> _Pending:
    """A file (or its sidecar) over the size limit is rejected by its size alone: never read, never copied
    into the landing zone. It moves aside, with its sidecar, to `<landing>/<contract>/oversize/` (a rename:
    nothing is lost, nothing re-read)."""
    path = parts[0]
    present = [p for p in parts if p.exists()]
    name, _ = printable_name(path.name)
    big = max(present, key=lambda p: p.stat().st_size)
    big_name, big_size = printable_name(big.name)[0], big.stat().st_size
    sizes = [str(p.stat().st_size).encode() for p in present]
    batch_id = content_hash(b"oversize", name.encode(), *sizes, str(path.stat().st_mtime_ns).encode())
    # Only the landing zone holds raw files: moved there (a rename, never a copy) unless it is another file
    # system, where the file waits in the drop folder's hidden `.rejected/`.
    aside = landing_dir / contract.split("/")[0] / "oversize"
    aside.mkdir(parents=True, exist_ok=True, mode=0o700)
    for part in present:
        try:
            os.replace(part, aside / f"{batch_id[:12]}-{part.name}")
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            aside = path.parent / ".rejected"
            aside.mkdir(exist_ok=True, mode=0o700)
            os.replace(part, aside / f"{batch_id[:12]}-{part.name}")
    kept = aside / f"{batch_id[:12]}-{path.name}"
    result = BatchResult(batch_id, name, contract, office_from_name(name) or None, "pending")
    reason = f"{big_name}: {big_size} bytes is over the limit of {MAX_FILE_BYTES} bytes (kept at {kept.parent})"
    return _Pending(result, [], kept, _received_at(kept), rejection=BatchRejected(reason))


def _take(
    settings: Settings, path: Path, contract: str, now: float, unsynced: set[Path] | None = None
) -> _Pending | BatchResult:
    """One dropped file (and its sidecar) landed as a pending batch, or a `waiting` result when it is not
    complete yet. Unsafe names, symbolic links and files over the size limit become batches to reject.
    With `unsynced`, the landing folders still to fsync are added to it (`landing.zone.land`)."""
    is_release = contract == NATIONAL_RELEASE_CONTRACT
    name, name_problem = printable_name(path.name)
    office = office_from_name(name)
    parts = [path]
    if is_release and path.suffix.lower() != ".json":
        parts.append(release_sidecar(path))
    parts = [p for p in parts if p.exists() or p == path]
    if path.is_symlink():
        name_problem = "a symbolic link, not a file: drop the file itself"
    else:
        # API pulls are written atomically by netralitas itself: only dropped files need to settle.
        settle = 0.0 if path.parent == settings.api_pull_drop else settings.settle_seconds
        why = next((w for p in parts if p.exists() and (w := _settling(p, settle, now))), None)
        if why:
            return BatchResult("", name, contract, office or None, "waiting", error=why)
        if any(p.exists() and p.stat().st_size > MAX_FILE_BYTES for p in parts):
            return _oversize(parts, contract, settings.landing_dir)

    def stamp() -> list[tuple[int, int]]:
        return [(p.lstat().st_size, p.lstat().st_mtime_ns) for p in parts if p.exists()]

    before = stamp()
    raws = [p.read_bytes() if p.exists() and not p.is_symlink() else b"" for p in parts]
    if stamp() != before:
        error = "still growing while it was read: left for the next run"
        return BatchResult("", name, contract, office or None, "waiting", error=error)
    # Two offices may send byte-identical files (a header only): the office named by the file is part
    # of the batch identity, so each gets its own "zero cases" batch. Renaming keeps the identity.
    batch_id = content_hash(office.encode(), *raws)
    if name_problem:  # rejected for its name, not its content: the same bytes renamed properly are a new batch
        batch_id = content_hash(b"unsafe name", name.encode(), *raws)
    # A data file with a sidecar is stored under the batch's hash, so that two releases with the same
    # table and different metadata never share (and overwrite) one landed sidecar.
    with_sidecar = len(parts) > 1 and parts[1].exists()
    stem = batch_id if with_sidecar else None
    landed = land(settings.landing_dir, contract, raws[0], name, stem=stem, unsynced=unsynced)
    if with_sidecar:
        land(settings.landing_dir, contract, raws[1], parts[1].name, stem=landed.stem, unsynced=unsynced)
    result = BatchResult(batch_id, name, contract, None, "pending")
    source = "api" if path.parent == settings.api_pull_drop else "file"
    present = [p for p in parts if p.exists() or p.is_symlink()]
    item = _Pending(result, present, landed, _received_at(path), source=source)
    if name_problem:
        item.rejection = BatchRejected(f"{name}: unsafe file name ({name_problem}): rename it (82.04_20241125.csv)")
    return item


def _scan(
    conn: Connection, settings: Settings, folder: Path, contract: str
) -> tuple[list[_Pending], list[BatchResult], list[BatchResult]]:
    """Land every settled file of the contract's drop folders; skip content already loaded (and clear it
    from the drop folder). Returns the new batches, those already loaded, and the files left waiting."""
    sweep_stale_temporaries(settings.landing_dir, contract)
    folders = [folder] if contract == NATIONAL_RELEASE_CONTRACT else [folder, settings.api_pull_drop]
    pending: list[_Pending] = []
    waiting: list[BatchResult] = []
    now = time.time()
    unsynced: set[Path] = set()  # each landed file is fsynced; its folder once, for all, before any commit
    for path in _drop_files(folders):
        try:
            item = _take(settings, path, contract, now, unsynced)
        except FileNotFoundError:  # renamed or removed by its uploader since the listing: the next run sees it
            continue
        if isinstance(item, BatchResult):
            waiting.append(item)
        else:
            pending.append(item)
    sync_folders(unsynced)  # a failure above commits nothing: the next run lands the files again
    known = _known_batches(conn, [p.result.batch_id for p in pending])
    done: list[BatchResult] = []
    fresh: list[_Pending] = []
    seen: set[str] = set()
    for item in pending:
        if item.result.batch_id in known or item.result.batch_id in seen:
            item.result.status = "already_loaded"
            done.append(item.result)
            _finish(item)
        else:
            seen.add(item.result.batch_id)
            fresh.append(item)
    return fresh, done, waiting


def _ingest(
    wh: Warehouse,
    settings: Settings,
    spec: _Contract,
    run_id: str | None,
) -> list[BatchResult]:
    """The skeleton shared by every contract: land, read each batch, validate in one pass per chunk of about
    ROWS_PER_VALIDATION rows (all of a usual run's batches in one pass), stage.

    The content of a file never fails the run: a file that cannot be read, or whose validation cannot run,
    is rejected with its reason and the files after it go on. Only the infrastructure (the warehouse, the
    disk, memory) fails a run, which then re-runs cleanly.
    """
    wh.migrate()
    with wh.session() as conn:
        fresh, results, waiting = _scan(conn, settings, spec.folder, spec.contract)
        read: list[_Pending] = []
        frames: dict[str, pd.DataFrame] = {}
        rows = 0

        def validate_and_stage() -> None:
            for group, validated in _validate_isolated(spec, frames, settings, read, conn, wh, run_id):
                prepared, duplicates, outcome = validated
                _apply(wh, conn, group, outcome, prepared, duplicates, spec, run_id)

        staged: list[_Pending] = []
        for item in fresh:
            try:
                if item.rejection is not None:
                    raise item.rejection
                frame = _read(spec, item)
            except BatchRejected as exc:
                _reject(wh, conn, item, exc, spec.suite, run_id)
                _finish(item)
                results.append(item.result)
                continue
            item.result.rows_in = len(frame)
            frames[item.result.batch_id] = frame.assign(batch_id=item.result.batch_id)
            read.append(item)
            rows += len(frame)
            if rows >= ROWS_PER_VALIDATION:  # memory stays bounded: validate and stage what was read so far
                validate_and_stage()
                staged += read
                read, frames, rows = [], {}, 0
                # A chunk's frames end up in reference cycles (Great Expectations' context, batch and result
                # objects) that Python's occasional full collection frees much later: without this, a run of
                # many chunks grew by ~100 MB per 100,000 rows (1M rows: 1.46 GB, with it 0.65 GB). A run of one
                # chunk (a usual week) does not pay for a full collection.
                gc.collect()
        validate_and_stage()
        staged += read
        results.extend(item.result for item in staged)
    for r in [*results, *waiting]:
        log.info("%s %s", spec.contract, r.summary())
    return [*results, *waiting]


# Batches are read, validated (one GX run) and staged in chunks of about this many rows, in file order, so
# that an ingestion run's memory does not grow with the size of the drop (docs/performance.md).
ROWS_PER_VALIDATION = 100_000

# Errors that are the machine's, not the file's: they fail the run (which then re-runs cleanly).
INFRASTRUCTURE_ERRORS = (OSError, MemoryError)


def _read(spec: _Contract, item: _Pending) -> pd.DataFrame:
    """The batch as text columns; whatever a file's bytes make a parser raise is a rejection, not a crash."""
    try:
        return spec.read(item)
    except (BatchRejected, *INFRASTRUCTURE_ERRORS):
        raise
    except Exception as exc:  # a parser's own error on hostile bytes (zip, XML, CSV, recursion)
        # no traceback: a parser's message may quote the file's content (personal data)
        log.warning("%s: unreadable (%s)", item.result.file_name, type(exc).__name__)
        raise BatchRejected(f"{item.result.file_name}: unreadable file ({type(exc).__name__})") from None


def _validate_isolated(spec, frames, settings, fresh, conn, wh, run_id):
    """Validate all batches in one GX run; if that run raises, validate each batch alone so that the one
    whose content makes validation fail is rejected and the others load."""
    if not fresh:
        return
    batch_ids = [item.result.batch_id for item in fresh]
    # The chunk's rows held once: the batches' frames are let go as soon as they are concatenated, and the
    # concatenation as soon as it is validated (before the chunk is staged).
    whole = pd.concat(frames.values(), ignore_index=True)
    frames.clear()
    try:
        labels = {item.result.batch_id: _label(item) for item in fresh}
        validated = _validate(spec, whole, settings, batch_ids, run_id, labels)
    except INFRASTRUCTURE_ERRORS:
        raise
    except Exception as exc:  # never the message or a traceback in the log: they may quote values
        log.warning("%s: validating all batches at once failed (%s); each batch alone", spec.suite, type(exc).__name__)
    else:
        whole = None
        yield fresh, validated
        return
    by_batch = dict(tuple(whole.groupby("batch_id", sort=False)))
    for item in list(fresh):
        try:
            batch_id = item.result.batch_id
            frame = by_batch.get(batch_id, whole.iloc[0:0]).reset_index(drop=True)
            outcome = _validate(spec, frame, settings, [batch_id], run_id, {batch_id: _label(item)})
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception as exc:
            log.warning("%s: validation failed (%s)", item.result.file_name, type(exc).__name__)
            message = f"{item.result.file_name}: validation could not run on this file ({type(exc).__name__})"
            _reject(wh, conn, item, BatchRejected(message, rows=item.result.rows_in), spec.suite, run_id)
            _finish(item)
            continue
        yield [item], outcome


def _label(item: _Pending) -> str:
    """How a batch is named in the GX results and Data Docs: its office and file (no content of the file)."""
    return f"{item.result.kode_kantor or '-'} · {item.result.file_name}"


def _validate(
    spec: _Contract,
    frame: pd.DataFrame,
    settings: Settings,
    batch_ids: list[str],
    run_id: str | None = None,
    labels: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, dict[str, int], ValidationOutcome]:
    """Drop exact repeats, derive the validated columns, and run the contract's suite once over all rows."""
    raw, duplicates = _dedupe(frame, spec.content_columns)
    prepared = spec.prepare(raw)
    prepared[DEFECT_COLUMN] = defects(prepared[NOTES_COLUMN])
    checked = spec.for_validation(prepared).drop(columns=[NOTES_COLUMN])
    rules = [*spec.rules, defect_rule()]
    validated = run_suite(spec.suite, rules, checked, settings.gx_dir, batch_ids, run_id=run_id, batch_labels=labels)
    if settings.gx_dir is not None:
        log.info("%s: Great Expectations Data Docs at %s", spec.suite, data_docs_index(settings.gx_dir))
    failures = explain(_explain_instansi(validated, prepared).failures, prepared)
    return prepared, duplicates, ValidationOutcome(failures, validated.results)


class _Contract:
    """What one kind of dropped file needs beyond the shared skeleton (`_ingest`, `replay_batch`): where it is
    dropped, how it is read and prepared for its suite, and what is staged. A plain object: each method says
    what it takes and returns; the reference data it needs is set once, in `__init__`."""

    contract: str
    suite: str
    content_columns: list[str]  # the columns whose exact repeat within a batch is a duplicate row

    def __init__(self, wh: Warehouse, folder: Path, rules: list) -> None:
        self.wh, self.folder, self.rules = wh, folder, rules

    def read(self, item: _Pending) -> pd.DataFrame:
        """The batch's rows as text columns (raises BatchRejected for a file that cannot be read)."""
        raise NotImplementedError

    def prepare(self, raw: pd.DataFrame) -> pd.DataFrame:
        """The derived columns the suite validates and the staging tables take."""
        raise NotImplementedError

    def for_validation(self, prepared: pd.DataFrame) -> pd.DataFrame:
        """What GX sees of the prepared rows."""
        return prepared

    def insert_header(self, conn: Connection, item: _Pending) -> None:
        """Stage what the batch holds once (none by default), before its rows."""

    def insert(self, conn: Connection, good: pd.DataFrame) -> None:
        """Stage the good rows (of one batch, or of a chunk of batches)."""
        raise NotImplementedError


def ingest_case_reports(
    wh: Warehouse, settings: Settings, key: bytes, *, run_id: str | None = None, today: date | None = None
) -> list[BatchResult]:
    """Ingest every case-report file in the drop folder; return one result per file."""
    return _ingest(wh, settings, _CaseReports(wh, settings, key, today), run_id)


class _CaseReports(_Contract):
    contract = CASE_REPORT_CONTRACT
    suite = CASE_SUITE
    content_columns = list(CASE_COLUMNS)

    def __init__(self, wh: Warehouse, settings: Settings, key: bytes, today: date | None) -> None:
        self.catalogue = load_catalogue(settings.aliases_file)
        self.key = key
        super().__init__(wh, settings.case_report_drop, case_report_rules(self.catalogue.regions, today or today_wib()))

    def read(self, item: _Pending) -> pd.DataFrame:
        """The report's rows, with the office its file name names as `kantor_berkas` (GX compares every row's
        `kode_kantor` with it); that office is also the batch's (`item.result.kode_kantor`)."""
        office = office_from_name(item.result.file_name)
        if not office:
            raise BatchRejected(
                f"{item.result.file_name}: the file name does not begin with a known office code: name it "
                "<kode_kantor>_<anything>, e.g. 82.04_20241125.csv (a batch belongs to the office it names)"
            )
        item.result.kode_kantor = office
        return read_case_report(item.landed, name=item.result.file_name).assign(kantor_berkas=office)

    def prepare(self, raw: pd.DataFrame) -> pd.DataFrame:
        return _prepare_cases(raw, self.catalogue, self.key)

    def for_validation(self, prepared: pd.DataFrame) -> pd.DataFrame:
        """GX never sees personal data: only the NIP's shape (nip_bentuk) is validated."""
        return prepared.drop(columns=NOT_VALIDATED)

    def insert(self, conn: Connection, good: pd.DataFrame) -> None:
        staged = good.assign(tanggal_temuan=good["tanggal"], instansi_asli=good["instansi"])
        self.wh.bulk_insert(conn, "staging.case_report", staged[STAGING_CASE_COLUMNS])


# Columns GX never sees: pseudonyms, the raw date and instansi texts (a name may land there) and explanations.
NOT_VALIDATED = ["nip_hash", "nama_hash", "tanggal", "tanggal_asli", "instansi", "instansi_alasan"]
STAGING_CASE_COLUMNS = [
    "batch_id", "baris", "kode_kantor", "nomor_kasus", "tanggal_temuan", "pemilihan", "instansi_kode",
    "instansi_asli", "nip_hash", "nama_hash", "jabatan", "jenis_pelanggaran", "status",
]  # fmt: skip


def _dedupe(frame: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, dict[str, int]]:
    repeated = frame.duplicated(subset=["batch_id", *columns], keep="first")
    counts = frame[repeated].groupby("batch_id").size().to_dict()
    return frame[~repeated].reset_index(drop=True), {k: int(v) for k, v in counts.items()}


def _resolve(values: pd.Series, catalogue) -> tuple[pd.Series, pd.Series]:
    """Each distinct spelling resolved once: the catalogue code (None when unresolved) and the reason."""
    resolutions = map_distinct(values, catalogue.resolve)
    kode = pd.Series([r.kode if r is not None else None for r in resolutions], index=values.index, dtype="object")
    reason = pd.Series(
        [r.reason if r is not None else "instansi kosong" for r in resolutions], index=values.index, dtype="object"
    )
    return kode, reason


def _prepare_cases(frame: pd.DataFrame, catalogue, key: bytes) -> pd.DataFrame:
    """Derived columns for validation and staging; raw personal data is dropped here."""
    from include.netralitas.ingest.readers import parse_dates

    out = frame.copy(deep=False)  # copy-on-write: the new columns never touch the caller's frame
    out["pemilihan"] = map_distinct(out["pemilihan"], normalise_pemilihan)
    out["tanggal_asli"] = out["tanggal_temuan"]
    out["tanggal"] = parse_dates(out["tanggal_temuan"])
    out["tanggal_temuan"] = pd.to_datetime(out["tanggal"])
    out["instansi_kode"], out["instansi_alasan"] = _resolve(out["instansi"], catalogue)
    out["nip_bentuk"] = mask_format(out["nip"]).astype("object")
    out["nip_hash"] = pseudonymise(out["nip"], key)
    out["nama_hash"] = pseudonymise(out["nama_terlapor"], key)
    return out.drop(columns=["nip", "nama_terlapor"])


def _explain_instansi(outcome: ValidationOutcome, prepared: pd.DataFrame) -> ValidationOutcome:
    """An unresolved instansi is quarantined with the resolver's own reason (candidates listed)."""
    failures = outcome.failures
    if failures.empty:
        return outcome
    reasons = prepared.set_index(["batch_id", ROW_COLUMN])["instansi_alasan"]
    is_instansi = (failures["kolom"] == "instansi") & (failures["aturan"] == "expect_column_values_to_not_be_null")
    keys = list(zip(failures.loc[is_instansi, "batch_id"], failures.loc[is_instansi, "baris"], strict=True))
    failures = failures.copy()
    values = prepared.set_index(["batch_id", ROW_COLUMN])["instansi"]
    failures.loc[is_instansi, "alasan"] = [
        _masked_reason(reasons.get(k) or "instansi tidak dikenal", values.get(k)) for k in keys
    ]
    return ValidationOutcome(failures, outcome.results)


def _masked_reason(reason: str, value: object) -> str:
    """The resolver quotes the instansi as written; a value that may be a person's name shows its shape. An
    ambiguous value matched catalogue names (`Bima`: the regency and the city), so it names a place."""
    if isinstance(value, str) and repr(value) in reason and not reason.startswith("instansi ambigu"):
        return reason.replace(repr(value), safe_value("instansi", value))
    return reason


def ingest_national_releases(wh: Warehouse, settings: Settings, *, run_id: str | None = None) -> list[BatchResult]:
    """Ingest every national release (CSV, XLSX or HTML + sidecar, or one JSON document) in the drop folder."""
    return _ingest(wh, settings, _NationalReleases(wh, settings), run_id)


class _NationalReleases(_Contract):
    contract = NATIONAL_RELEASE_CONTRACT
    suite = RELEASE_SUITE
    content_columns = ["instansi", "jumlah", "peringkat", "provinsi"]

    def __init__(self, wh: Warehouse, settings: Settings) -> None:
        self.catalogue = load_catalogue(settings.aliases_file)
        super().__init__(wh, settings.national_release_drop, national_release_rules())

    def read(self, item: _Pending) -> pd.DataFrame:
        """The release's rows; its sidecar's metadata is kept on the batch (`item.meta`) for `insert_header`."""
        item.meta, frame = read_national_release(item.landed, name=item.result.file_name)
        return frame

    def prepare(self, raw: pd.DataFrame) -> pd.DataFrame:
        from include.netralitas.contracts import release_number

        prepared = raw.copy()
        prepared["instansi_kode"], prepared["instansi_alasan"] = _resolve(prepared["instansi"], self.catalogue)
        # The numbers the suite bounds (never an overflow: see contracts.release_number), NaN where the text
        # is not ASCII digits (the suite quarantines it with its reason).
        for column in ("jumlah", "peringkat"):
            prepared[f"{column}_angka"] = prepared[column].map(release_number).astype("float64")
        # The competition rank that each row's jumlah implies within its release, to check the published one.
        rank = prepared["jumlah_angka"].groupby(prepared["batch_id"]).rank(method="min", ascending=False)
        prepared["peringkat_dari_jumlah"] = rank.astype("float64")
        return prepared

    def insert_header(self, conn: Connection, item: _Pending) -> None:
        meta = item.meta
        conn.execute(
            sql("staging/insert_national_release.sql"),
            {"b": item.result.batch_id, "p": meta.penerbit, "j": meta.judul, "t": meta.tanggal_data,
             "e": meta.pemilihan},
        )  # fmt: skip

    def insert(self, conn: Connection, good: pd.DataFrame) -> None:
        staged = pd.DataFrame(
            {
                "batch_id": good["batch_id"],
                "baris": good[ROW_COLUMN],
                "instansi_kode": good["instansi_kode"],
                "instansi_asli": good["instansi"],
                # validated: 0..MAX_RELEASE_COUNT and 1..MAX_RELEASE_RANK, both within a 32-bit INTEGER
                "jumlah": good["jumlah_angka"].astype("int64"),
                "peringkat_rilis": good["peringkat_angka"].astype("Int64"),
                "provinsi_asli": good["provinsi"],
            }
        )
        self.wh.bulk_insert(conn, "staging.national_release_row", staged)


def summarise(results: list[BatchResult]) -> dict[str, int]:
    """Small counts for XCom and the log: batches per status and rows per outcome."""
    summary: dict[str, int] = {}
    for r in results:
        summary[f"batches_{r.status}"] = summary.get(f"batches_{r.status}", 0) + 1
        for field in ("rows_in", "rows_loaded", "rows_quarantined", "rows_duplicate"):
            summary[field] = summary.get(field, 0) + getattr(r, field)
    return summary


class ReplayRefused(ValueError):
    """The batch cannot be replayed (unknown, or rejected whole: a corrected file must be dropped)."""


def replay_batch(
    wh: Warehouse,
    settings: Settings,
    batch_id: str,
    key: bytes | None = None,
    *,
    run_id: str | None = None,
    today: date | None = None,
) -> BatchResult:
    """Re-validate a batch's landed file after a fix (an alias in the mappings file, the reference data) and
    load its quarantined rows that now pass; rows already loaded are never loaded twice, rows that still
    fail stay quarantined. The replay is recorded in `audit.replay` and the manifest (`replay_count`)."""
    wh.migrate()
    with wh.session() as conn:
        batch = conn.execute(sql("landing/select_batch.sql"), {"b": batch_id}).mappings()
        batch = next(iter(batch), None)
        if batch is None:
            raise ReplayRefused(f"no batch {batch_id} in landing.batch")
        if batch["status"] not in ("loaded", "quarantined"):
            raise ReplayRefused(f"batch {batch_id} ({batch['file_name']}) was {batch['status']}: drop a corrected file")
        quarantined = {
            int(b) for b in conn.execute(sql("audit/select_quarantined_rows.sql"), {"b": batch_id}).scalars()
        }
        if batch["contract"] == CASE_REPORT_CONTRACT:
            if key is None:
                raise ReplayRefused("replaying case reports needs the pseudonymisation key")
            spec = _CaseReports(wh, settings, key, today)
        else:
            spec = _NationalReleases(wh, settings)
        result = BatchResult(batch_id, batch["file_name"], batch["contract"], batch["kode_kantor"], "loaded")
        item = _Pending(result, [], Path(batch["landed_path"]), batch["received_at"])
        frame = spec.read(item).assign(batch_id=batch_id)
        prepared, _, outcome = _validate(spec, frame, settings, [batch_id], run_id, {batch_id: _label(item)})
        failures = outcome.failures
        still_bad = set(failures.loc[failures["tingkat"] == "critical", "baris"].astype(int))
        released = sorted(quarantined - still_bad)
        now = datetime.now(UTC)
        with wh.transaction(conn):
            spec.insert(conn, prepared[prepared[ROW_COLUMN].isin(released)])
            # the next build merges the batch again (its released rows; rows already in core stay as they are)
            conn.execute(sql("core/delete_merged_batch.sql"), {"b": batch_id})
            if released:
                conn.execute(
                    sql("audit/update_quarantine_released.sql"),
                    [{"t": now, "b": batch_id, "r": r} for r in released],
                )
            conn.execute(
                sql("landing/update_batch_replayed.sql"),
                {"n": len(released), "t": now, "b": batch_id},
            )
            conn.execute(
                sql("audit/insert_replay.sql"),
                {"b": batch_id, "r": run_id, "n": len(released), "q": len(quarantined) - len(released), "t": now},
            )
    result.rows_in = int(batch["rows_in"])
    result.rows_loaded = int(batch["rows_loaded"]) + len(released)
    result.rows_quarantined = int(batch["rows_quarantined"]) - len(released)
    result.rows_duplicate = int(batch["rows_duplicate"])
    result.status = "loaded" if result.rows_loaded else batch["status"]
    log.info("replayed %s: %d row(s) released from quarantine, %d still quarantined", batch_id, len(released),
             result.rows_quarantined)  # fmt: skip
    return result


def replay_batches(
    wh: Warehouse,
    settings: Settings,
    batch_ids: list[str],
    key: bytes | None = None,
    *,
    run_id: str | None = None,
    report: Callable[[str], None] = log.info,
) -> tuple[list[BatchResult], dict[str, str]]:
    """Replay each batch (`replay_batch`); one that is refused never stops the others. Reports a line per
    replayed batch and returns the replayed batches' results and the refused ones with their reason."""
    replayed: list[BatchResult] = []
    refused: dict[str, str] = {}
    for batch_id in batch_ids:
        try:
            result = replay_batch(wh, settings, batch_id, key, run_id=run_id)
        except ReplayRefused as exc:
            refused[batch_id] = str(exc)
            continue
        replayed.append(result)
        report(f"{batch_id} ({result.file_name}): loaded={result.rows_loaded} quarantined={result.rows_quarantined}")
    return replayed, refused
