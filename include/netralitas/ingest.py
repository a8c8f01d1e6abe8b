"""Ingestion of dropped files: land, read, resolve, validate, pseudonymise, stage (product.md §3, §7, §8).

Each batch (a file) is landed immutably under its content hash before anything else; the same content
twice is a no-op. Each batch is then written in one transaction: its good rows to staging, its bad rows'
reasons to the quarantine, its validation results and its manifest row, with
rows in = loaded + quarantined + duplicates. One bad batch never stops the others. A file leaves the drop
folder only after its batch is committed.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import text

from include.netralitas.catalogue import load_catalogue
from include.netralitas.contracts import (
    CASE_COLUMNS,
    CASE_REPORT_CONTRACT,
    NATIONAL_RELEASE_CONTRACT,
    normalise_pemilihan,
)
from include.netralitas.pii import mask_format, pseudonymise
from include.netralitas.readers import (
    ROW_COLUMN,
    BatchRejected,
    read_case_report,
    read_national_release,
    release_sidecar,
)
from include.netralitas.validation import (
    CASE_SUITE,
    RELEASE_SUITE,
    ValidationOutcome,
    case_report_rules,
    data_docs_index,
    national_release_rules,
    run_suite,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Connection

    from include.netralitas.settings import Settings
    from include.netralitas.warehouse import Warehouse

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
    received_at: datetime
    frame: pd.DataFrame | None = None
    meta: object | None = None


def content_hash(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


STALE_TEMPORARY_S = 3600  # no landing write takes an hour: a temporary file that old lost its writer


def sweep_stale_temporaries(landing_dir: Path, contract: str, *, older_than_s: float = STALE_TEMPORARY_S) -> int:
    """Remove the hidden temporary files that a writer killed mid-write (kill -9) left in the landing zone.

    They are never read (a landed file appears only by an atomic rename); a fresh one may belong to a writer
    still at work, so only those older than `older_than_s` go. Returns how many were removed.
    """
    cutoff = time.time() - older_than_s
    removed = 0
    for path in (landing_dir / contract.split("/")[0]).glob("*/.landing-*"):
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
    return removed


def land(landing_dir: Path, contract: str, raw: bytes, name: str, stem: str | None = None) -> Path:
    """Store `raw` immutably as <landing>/<contract>/<sha[:2]>/<sha><suffix>, owner-only, atomically.

    Content-addressed: the same bytes are stored once. A sidecar is stored beside its data file (`stem`).
    """
    digest = stem or hashlib.sha256(raw).hexdigest()
    folder = landing_dir / contract.split("/")[0] / digest[:2]
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for parent in (landing_dir, folder.parent, folder):
        os.chmod(parent, 0o700)
    suffix = ".meta.json" if name.lower().endswith(".meta.json") else Path(name).suffix.lower()
    target = folder / f"{digest}{suffix or '.bin'}"
    if target.exists() and target.read_bytes() == raw:
        return target
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".landing-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o400)
        os.replace(tmp, target)
    except BaseException as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)  # nothing half-written stays behind
        if isinstance(exc, OSError):  # a full disk, say: name the file, which stays in the drop folder
            raise OSError(exc.errno, f"landing {name} as {target} failed: {exc.strerror or exc}") from exc
        raise
    return target


def office_from_name(name: str) -> str:
    """Drop files are named `<kode_kantor>_<anything>` (e.g. `82.04_20241125.csv`); else no office."""
    head = name.split("_", 1)[0]
    return head if head in load_catalogue().regions else ""


def _received_at(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


def _drop_files(folder: Path) -> list[Path]:
    if not folder.exists():
        return []
    files = [
        p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and not p.name.endswith(".meta.json")
    ]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def _known_batches(conn: Connection, batch_ids: list[str]) -> set[str]:
    if not batch_ids:
        return set()
    wanted = set(batch_ids)
    return {b for b in conn.execute(text("SELECT batch_id FROM landing.batch")).scalars() if b in wanted}


def _record_batch(
    wh: Warehouse,
    conn: Connection,
    pending: _Pending,
    run_id: str | None,
    quarantine: pd.DataFrame,
    results: pd.DataFrame | None,
) -> None:
    r = pending.result
    now = datetime.now(UTC)
    quarantine = quarantine[quarantine["tingkat"] == "critical"]  # warnings live in validation_result only
    if not quarantine.empty:
        wh.bulk_insert(conn, "audit.quarantine", quarantine.assign(run_id=run_id))
    if results is not None and not results.empty:
        wh.bulk_insert(conn, "audit.validation_result", results.assign(run_id=run_id, validated_at=now))
    conn.execute(
        text(
            "INSERT INTO landing.batch (batch_id, contract, source, kode_kantor, file_name, landed_path,"
            " received_at, ingested_at, run_id, rows_in, rows_loaded, rows_quarantined, rows_duplicate,"
            " status, error) VALUES (:batch_id, :contract, :source, :kode_kantor, :file_name, :landed_path,"
            " :received_at, :ingested_at, :run_id, :rows_in, :rows_loaded, :rows_quarantined,"
            " :rows_duplicate, :status, :error)"
        ),
        {
            **{k: v for k, v in asdict(r).items() if k not in ("status",)},
            "status": r.status,
            "source": "api" if "_api_" in r.file_name else "file",  # office_pull names its batch files so
            "landed_path": str(pending.landed),
            "received_at": pending.received_at,
            "ingested_at": now,
            "run_id": run_id,
        },
    )


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
    failures = outcome.failures
    critical = failures[failures["tingkat"] == "critical"]
    is_bad = pd.Series(
        pd.MultiIndex.from_frame(prepared[["batch_id", ROW_COLUMN]]).isin(
            pd.MultiIndex.from_frame(critical[["batch_id", "baris"]].rename(columns={"baris": ROW_COLUMN}))
        ),
        index=prepared.index,
    )
    # One pass to split rows, failures and results by batch (not one scan of everything per batch).
    rows_by_batch = dict(tuple(prepared.assign(_bad=is_bad).groupby("batch_id", sort=False)))
    failures_by_batch = dict(tuple(failures.groupby("batch_id", sort=False)))
    results_by_batch = dict(tuple(outcome.results.groupby("batch_id", sort=False)))
    empty_rows = prepared.iloc[0:0].assign(_bad=pd.Series(dtype=bool))
    for item in pending:
        r = item.result
        rows = rows_by_batch.get(r.batch_id, empty_rows)
        good = rows.loc[~rows["_bad"]].drop(columns="_bad")
        r.rows_duplicate = duplicates.get(r.batch_id, 0)
        r.rows_quarantined = int(rows["_bad"].sum())
        r.rows_loaded = len(good)
        r.status = "loaded"
        with wh.transaction(conn):
            if spec.insert_header is not None:
                spec.insert_header(conn, item)
            spec.insert(conn, good, item)
            _record_batch(
                wh,
                conn,
                item,
                run_id,
                failures_by_batch.get(r.batch_id, failures.iloc[0:0]),
                results_by_batch.get(r.batch_id, outcome.results.iloc[0:0]),
            )
        _finish(item)


def _scan(
    conn: Connection, settings: Settings, folder: Path, contract: str
) -> tuple[list[_Pending], list[BatchResult]]:
    """Land every file of `folder`; skip content already loaded (and clear it from the drop folder)."""
    sweep_stale_temporaries(settings.landing_dir, contract)
    pending: list[_Pending] = []
    for path in _drop_files(folder):
        parts = [path]
        if contract == NATIONAL_RELEASE_CONTRACT and path.suffix.lower() != ".json":
            parts.append(release_sidecar(path))
        raws = [p.read_bytes() if p.exists() else b"" for p in parts]
        # Two offices may send byte-identical files (a header only): the office named by the file is part
        # of the batch identity, so each gets its own "zero cases" batch. Renaming keeps the identity.
        batch_id = content_hash(office_from_name(path.name).encode(), *raws)
        landed = land(settings.landing_dir, contract, raws[0], path.name)
        if len(parts) > 1 and parts[1].exists():
            land(settings.landing_dir, contract, raws[1], parts[1].name, stem=landed.stem)
        result = BatchResult(batch_id, path.name, contract, None, "pending")
        pending.append(_Pending(result, [p for p in parts if p.exists()], landed, _received_at(path)))
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
    return fresh, done


def _ingest(
    wh: Warehouse,
    settings: Settings,
    spec: _Contract,
    run_id: str | None,
) -> list[BatchResult]:
    """The skeleton shared by every contract: land, read each batch, validate all in one pass, stage."""
    wh.migrate()
    with wh.session() as conn:
        fresh, results = _scan(conn, settings, spec.folder, spec.contract)
        frames = []
        for item in list(fresh):
            try:
                frame = spec.read(item)
            except BatchRejected as exc:
                _reject(wh, conn, item, exc, spec.suite, run_id)
                _finish(item)
                results.append(item.result)
                fresh.remove(item)
                continue
            item.result.rows_in = len(frame)
            frames.append(frame.assign(batch_id=item.result.batch_id))
        if fresh:
            batch_ids = [item.result.batch_id for item in fresh]
            prepared, duplicates, outcome = _validate(spec, pd.concat(frames, ignore_index=True), settings, batch_ids)
            _apply(wh, conn, fresh, outcome, prepared, duplicates, spec, run_id)
            results.extend(item.result for item in fresh)
    for r in results:
        log.info("%s %s", spec.contract, r.summary())
    return results


def _validate(
    spec: _Contract, frame: pd.DataFrame, settings: Settings, batch_ids: list[str]
) -> tuple[pd.DataFrame, dict[str, int], ValidationOutcome]:
    """Drop exact repeats, derive the validated columns, and run the contract's suite once over all rows."""
    raw, duplicates = _dedupe(frame, spec.content_columns)
    prepared = spec.prepare(raw)
    validated = run_suite(spec.suite, spec.rules, spec.for_validation(prepared), settings.gx_dir, batch_ids)
    log.info("%s: Great Expectations Data Docs at %s", spec.suite, data_docs_index(settings.gx_dir))
    return prepared, duplicates, _explain_instansi(validated, prepared)


@dataclass
class _Contract:
    contract: str
    folder: Path
    content_columns: list[str]
    read: Callable[[_Pending], pd.DataFrame]
    prepare: Callable[[pd.DataFrame], pd.DataFrame]
    suite: str
    rules: list
    insert: Callable[[Connection, pd.DataFrame, _Pending], None]
    for_validation: Callable[[pd.DataFrame], pd.DataFrame] = lambda frame: frame
    insert_header: Callable[[Connection, _Pending], None] | None = None  # once per batch (release metadata)


def ingest_case_reports(
    wh: Warehouse, settings: Settings, key: bytes, *, run_id: str | None = None, today: date | None = None
) -> list[BatchResult]:
    """Ingest every case-report file in the drop folder; return one result per file."""
    return _ingest(wh, settings, _case_spec(wh, settings, key, today), run_id)


def _case_spec(wh: Warehouse, settings: Settings, key: bytes, today: date | None) -> _Contract:
    catalogue = load_catalogue(settings.aliases_file)

    def read(item: _Pending) -> pd.DataFrame:
        frame = read_case_report(item.landed, name=item.result.file_name)
        codes = frame["kode_kantor"].dropna()
        named = office_from_name(item.result.file_name)
        item.result.kode_kantor = named or (codes.mode().iloc[0] if not codes.empty else None)
        return frame

    def insert(conn: Connection, good: pd.DataFrame, item: _Pending) -> None:
        staged = good.assign(tanggal_temuan=good["tanggal"], instansi_asli=good["instansi"])
        wh.bulk_insert(conn, "staging.case_report", staged[STAGING_CASE_COLUMNS])

    spec = _Contract(
        contract=CASE_REPORT_CONTRACT,
        folder=settings.case_report_drop,
        content_columns=list(CASE_COLUMNS),
        read=read,
        prepare=lambda raw: _prepare_cases(raw, catalogue, key),
        suite=CASE_SUITE,
        rules=case_report_rules(catalogue.regions, today or date.today()),
        insert=insert,
        # GX never sees personal data: only the NIP's shape (nip_bentuk) is validated.
        for_validation=lambda prepared: prepared.drop(columns=["nip_hash", "nama_hash", "tanggal"]),
    )
    return spec


STAGING_CASE_COLUMNS = [
    "batch_id", "baris", "kode_kantor", "nomor_kasus", "tanggal_temuan", "pemilihan", "instansi_kode",
    "instansi_asli", "nip_hash", "nama_hash", "jabatan", "jenis_pelanggaran", "status",
]  # fmt: skip


def _dedupe(frame: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, dict[str, int]]:
    repeated = frame.duplicated(subset=["batch_id", *columns], keep="first")
    counts = frame[repeated].groupby("batch_id").size().to_dict()
    return frame[~repeated].reset_index(drop=True), {k: int(v) for k, v in counts.items()}


def _resolve(values: pd.Series, catalogue) -> tuple[pd.Series, pd.Series]:
    resolutions = {v: catalogue.resolve(v) for v in values.dropna().unique()}
    kode = values.map(lambda v: resolutions[v].kode if v in resolutions else None)
    reason = values.map(lambda v: resolutions[v].reason if v in resolutions else "instansi kosong")
    return kode.astype("object"), reason.astype("object")


def _prepare_cases(frame: pd.DataFrame, catalogue, key: bytes) -> pd.DataFrame:
    """Derived columns for validation and staging; raw personal data is dropped here."""
    from include.netralitas.readers import parse_dates

    out = frame.copy()
    out["pemilihan"] = out["pemilihan"].map(normalise_pemilihan, na_action="ignore")
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
    failures.loc[is_instansi, "alasan"] = [reasons.get(k) or "instansi tidak dikenal" for k in keys]
    return ValidationOutcome(failures, outcome.results)


def ingest_national_releases(wh: Warehouse, settings: Settings, *, run_id: str | None = None) -> list[BatchResult]:
    """Ingest every national release (CSV, XLSX or HTML + sidecar, or one JSON document) in the drop folder."""
    return _ingest(wh, settings, _release_spec(wh, settings), run_id)


def _release_spec(wh: Warehouse, settings: Settings) -> _Contract:
    from include.netralitas.contracts import release_number

    catalogue = load_catalogue(settings.aliases_file)

    def read(item: _Pending) -> pd.DataFrame:
        item.meta, frame = read_national_release(item.landed, name=item.result.file_name)
        return frame

    def prepare(raw: pd.DataFrame) -> pd.DataFrame:
        prepared = raw.copy()
        prepared["instansi_kode"], prepared["instansi_alasan"] = _resolve(prepared["instansi"], catalogue)
        # The numbers the suite bounds (never an overflow: see contracts.release_number), NaN where the text
        # is not ASCII digits (the suite quarantines it with its reason).
        for column in ("jumlah", "peringkat"):
            prepared[f"{column}_angka"] = prepared[column].map(release_number).astype("float64")
        # The competition rank that each row's jumlah implies within its release, to check the published one.
        rank = prepared["jumlah_angka"].groupby(prepared["batch_id"]).rank(method="min", ascending=False)
        prepared["peringkat_dari_jumlah"] = rank.astype("float64")
        return prepared

    def insert_header(conn: Connection, item: _Pending) -> None:
        meta = item.meta
        conn.execute(
            text(
                "INSERT INTO staging.national_release (batch_id, penerbit, judul, tanggal_data, pemilihan)"
                " VALUES (:b, :p, :j, :t, :e)"
            ),
            {"b": item.result.batch_id, "p": meta.penerbit, "j": meta.judul, "t": meta.tanggal_data,
             "e": meta.pemilihan},
        )  # fmt: skip

    def insert(conn: Connection, good: pd.DataFrame, item: _Pending) -> None:
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
        wh.bulk_insert(conn, "staging.national_release_row", staged)

    spec = _Contract(
        contract=NATIONAL_RELEASE_CONTRACT,
        folder=settings.national_release_drop,
        content_columns=["instansi", "jumlah", "peringkat", "provinsi"],
        read=read,
        prepare=prepare,
        suite=RELEASE_SUITE,
        rules=national_release_rules(),
        insert=insert,
        insert_header=insert_header,
    )
    return spec


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
        batch = conn.execute(text("SELECT * FROM landing.batch WHERE batch_id = :b"), {"b": batch_id}).mappings()
        batch = next(iter(batch), None)
        if batch is None:
            raise ReplayRefused(f"no batch {batch_id} in landing.batch")
        if batch["status"] != "loaded":
            raise ReplayRefused(f"batch {batch_id} ({batch['file_name']}) was {batch['status']}: drop a corrected file")
        quarantined = {
            int(b)
            for b in conn.execute(
                text(
                    "SELECT DISTINCT baris FROM audit.quarantine WHERE batch_id = :b AND tingkat = 'critical'"
                    " AND dilepas_pada IS NULL"
                ),
                {"b": batch_id},
            ).scalars()
        }
        if batch["contract"] == CASE_REPORT_CONTRACT:
            if key is None:
                raise ReplayRefused("replaying case reports needs the pseudonymisation key")
            spec = _case_spec(wh, settings, key, today)
        else:
            spec = _release_spec(wh, settings)
        result = BatchResult(batch_id, batch["file_name"], batch["contract"], batch["kode_kantor"], "loaded")
        item = _Pending(result, [], Path(batch["landed_path"]), batch["received_at"])
        frame = spec.read(item).assign(batch_id=batch_id)
        prepared, _, outcome = _validate(spec, frame, settings, [batch_id])
        failures = outcome.failures
        still_bad = set(failures.loc[failures["tingkat"] == "critical", "baris"].astype(int))
        released = sorted(quarantined - still_bad)
        now = datetime.now(UTC)
        with wh.transaction(conn):
            spec.insert(conn, prepared[prepared[ROW_COLUMN].isin(released)], item)
            # the next build merges the batch again (its released rows; rows already in core stay as they are)
            conn.execute(text("DELETE FROM core.merged_batch WHERE batch_id = :b"), {"b": batch_id})
            if released:
                conn.execute(
                    text("UPDATE audit.quarantine SET dilepas_pada = :t WHERE batch_id = :b AND baris = :r"),
                    [{"t": now, "b": batch_id, "r": r} for r in released],
                )
            conn.execute(
                text(
                    "UPDATE landing.batch SET rows_loaded = rows_loaded + :n, rows_quarantined = rows_quarantined - :n,"
                    " replay_count = COALESCE(replay_count, 0) + 1, last_replay_at = :t WHERE batch_id = :b"
                ),
                {"n": len(released), "t": now, "b": batch_id},
            )
            conn.execute(
                text("INSERT INTO audit.replay VALUES (:b, :r, :n, :q, :t)"),
                {"b": batch_id, "r": run_id, "n": len(released), "q": len(quarantined) - len(released), "t": now},
            )
    result.rows_in = int(batch["rows_in"])
    result.rows_loaded = int(batch["rows_loaded"]) + len(released)
    result.rows_quarantined = int(batch["rows_quarantined"]) - len(released)
    result.rows_duplicate = int(batch["rows_duplicate"])
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
