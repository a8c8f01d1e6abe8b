"""Great Expectations suites for the input contracts, run once over all new batches of an ingestion run.

The suites are code, versioned with the repository. Each expectation carries, in its `meta`, the column
and the Indonesian reason that a quarantined row gets. GX sees no personal data: names are not validated
and NIPs only through their shape (`pii.mask_format`); and of a failing row GX keeps only its identity
(`RESULT_FORMAT`), so no value of the input reaches a stored result or Data Docs.
All batches of a run are validated in one pass (with `batch_id` and `baris` as the row identity), because
GX's fixed cost per run is far larger than its cost per row. A run that dies while GX writes its project
(suites, results, Data Docs) leaves it for the next run to repair (`_project`).
One data asset and one checkpoint per contract; a contract's warning rules are a suite of their own
(`<suite>_warnings`); results carry the Airflow run id as run name and list their batches by office and file;
the Data Docs site is made to work offline from the vendored assets of `data_docs_static/` (`offline_site`).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from include.netralitas.contracts import EARLIEST_CASE_DATE, JABATAN, JENIS_PELANGGARAN, PEMILIHAN, STATUS
from include.netralitas.files import atomic_write, fsync_dir

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

log = logging.getLogger(__name__)

CASE_SUITE = "case_report_v1"
RELEASE_SUITE = "national_release_v1"
ROW_ID = ["batch_id", "baris"]
FAILURE_COLUMNS = ("batch_id", "baris", "kolom", "aturan", "alasan", "tingkat")


@dataclass(frozen=True)
class Rule:
    """One expectation: its GX class name, its keyword arguments, the column and the quarantine reason."""

    expectation: str
    kwargs: dict[str, Any]
    column: str
    reason: str
    severity: str = "critical"

    @property
    def expectation_type(self) -> str:
        """`ExpectColumnValuesToNotBeNull` -> `expect_column_values_to_not_be_null`, as GX reports it."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.expectation).lower()


def case_report_rules(region_codes: Iterable[str], today: date) -> list[Rule]:
    """`today` is the reporting offices' day (Asia/Jakarta). In-set, regex and between expectations skip
    blank cells, so every required column also has its own not-null expectation."""
    required = [
        Rule("ExpectColumnValuesToNotBeNull", {"column": column}, column, f"{column} kosong")
        for column in ("kode_kantor", "nomor_kasus", "pemilihan", "jabatan", "jenis_pelanggaran", "status")
    ]
    return [
        *required,
        Rule("ExpectColumnValuesToBeInSet", {"column": "kode_kantor", "value_set": sorted(region_codes)},
             "kode_kantor", "kode_kantor tidak ada di data wilayah rujukan"),
        Rule("ExpectColumnPairValuesToBeEqual",
             {"column_A": "kode_kantor", "column_B": "kantor_berkas", "ignore_row_if": "either_value_is_missing"},
             "kode_kantor", "kode_kantor bukan kantor pengirim berkas (nama berkas <kode_kantor>_...): "
             "satu kantor tidak dapat melaporkan atau mengubah kasus kantor lain"),
        Rule("ExpectColumnValuesToNotMatchRegex", {"column": "nomor_kasus", "regex": r"\d{16,}"}, "nomor_kasus",
             "nomor_kasus berisi 16 digit atau lebih berturut-turut, bentuk NIP/NIK: periksa apakah kolom tertukar"),
        Rule("ExpectColumnValuesToNotBeNull", {"column": "tanggal_temuan"}, "tanggal_temuan",
             "tanggal_temuan kosong atau bukan tanggal yang sah (YYYY-MM-DD atau DD/MM/YYYY)"),
        Rule("ExpectColumnValuesToBeBetween",
             {"column": "tanggal_temuan", "min_value": pd.Timestamp(EARLIEST_CASE_DATE),
              "max_value": pd.Timestamp(today)},
             "tanggal_temuan", f"tanggal_temuan sebelum {EARLIEST_CASE_DATE} atau di masa depan (WIB)"),
        Rule("ExpectColumnValuesToBeInSet", {"column": "pemilihan", "value_set": list(PEMILIHAN)},
             "pemilihan", "pemilihan bukan kode yang dikenal"),
        Rule("ExpectColumnValuesToNotBeNull", {"column": "instansi_kode"}, "instansi",
             "instansi tidak dapat ditentukan secara tunggal"),
        Rule("ExpectColumnValuesToMatchRegex", {"column": "nip_bentuk", "regex": r"^9{18}$"}, "nip",
             "nip bukan 18 digit"),
        Rule("ExpectColumnValuesToBeInSet", {"column": "jabatan", "value_set": list(JABATAN)}, "jabatan",
             "jabatan bukan kode yang dikenal"),
        Rule("ExpectColumnValuesToBeInSet",
             {"column": "jenis_pelanggaran", "value_set": list(JENIS_PELANGGARAN)}, "jenis_pelanggaran",
             "jenis_pelanggaran bukan kode yang dikenal"),
        Rule("ExpectColumnValuesToBeInSet", {"column": "status", "value_set": list(STATUS)}, "status",
             "status bukan kode yang dikenal"),
        Rule("ExpectCompoundColumnsToBeUnique", {"column_list": ["batch_id", "kode_kantor", "nomor_kasus"]},
             "nomor_kasus", "nomor_kasus muncul lebih dari sekali dalam batch dengan isi berbeda"),
    ]  # fmt: skip


def defect_rule() -> Rule:
    """A row whose cells a reader noted as defects (a control character, a nested JSON value, a NIP sent as
    a JSON number) is quarantined; `explain` turns the failure into one reason per cell."""
    return Rule("ExpectColumnValuesToBeNull", {"column": "cacat"}, "cacat", "sel tidak dapat dibaca sebagai teks")


def national_release_rules() -> list[Rule]:
    """The release contract. `jumlah` and `peringkat` follow the one number rule of contracts.py (ASCII
    digits only, no sign or separator, within a bound), each failure with its own reason: checked on the text
    and on the number `release_number` derives from it (`jumlah_angka`, `peringkat_angka`, see ingest.py)."""
    from include.netralitas.contracts import (
        MAX_RELEASE_COUNT,
        MAX_RELEASE_RANK,
        NEGATIVE,
        NON_ASCII_DIGIT,
        NUMBER_SHAPE,
        THOUSANDS_GROUPED,
    )

    rules = [
        Rule("ExpectColumnValuesToNotBeNull", {"column": "instansi_kode"}, "instansi",
             "instansi tidak dapat ditentukan secara tunggal"),
        Rule("ExpectColumnValuesToNotBeNull", {"column": "jumlah"}, "jumlah", "jumlah kosong"),
    ]  # fmt: skip
    for column, least, most in (("jumlah", 0, MAX_RELEASE_COUNT), ("peringkat", 1, MAX_RELEASE_RANK)):
        rules += [
            Rule("ExpectColumnValuesToMatchRegex", {"column": column, "regex": NUMBER_SHAPE}, column,
                 f"{column} bukan bilangan bulat >= {least}: tulis hanya angka 0-9, tanpa koma, titik desimal,"
                 " spasi, tanda atau huruf (mis. 1234)"),
            Rule("ExpectColumnValuesToNotMatchRegex", {"column": column, "regex": NEGATIVE}, column,
                 f"{column} negatif: {column} harus bilangan bulat >= {least}"),
            Rule("ExpectColumnValuesToNotMatchRegex", {"column": column, "regex": THOUSANDS_GROUPED}, column,
                 f"{column} memakai pemisah ribuan (bentuk 1.234, 1,234 atau 1 234): ambigu, karena titik"
                 " menandai ribuan dalam penulisan Indonesia tetapi desimal di format lain; tulis bilangan bulat"
                 " polos tanpa pemisah, mis. 1234"),
            Rule("ExpectColumnValuesToNotMatchRegex", {"column": column, "regex": NON_ASCII_DIGIT}, column,
                 f"{column} memakai digit non-ASCII (mis. angka Arab-Indik ١٢٣ atau Dewanagari १२३): tulis"
                 " bilangan bulat dengan angka 0-9"),
            Rule("ExpectColumnValuesToBeBetween",
                 {"column": f"{column}_angka", "min_value": least, "max_value": most}, column,
                 f"{column} di luar batas wajar {least} sampai {most}: periksa apakah angkanya salah ketik"),
        ]  # fmt: skip
    rules += [
        Rule("ExpectCompoundColumnsToBeUnique", {"column_list": ["batch_id", "instansi_kode"]}, "instansi",
             "instansi tercantum lebih dari sekali dalam rilis"),
        Rule("ExpectColumnPairValuesToBeEqual",
             {"column_A": "peringkat_angka", "column_B": "peringkat_dari_jumlah",
              "ignore_row_if": "either_value_is_missing"},
             "peringkat", "peringkat yang diterbitkan tidak sesuai dengan urutan jumlah", severity="warning"),
    ]  # fmt: skip
    return rules


WAREHOUSE_SUITE = "warehouse_v1"


def warehouse_rules() -> list[Rule]:
    """Post-load checks: no orphan facts and every ranked figure's lineage adds up (errors); the gap between
    national and regional counts is reported (a warning: either source may be incomplete)."""
    return [
        Rule("ExpectColumnValuesToBeBetween", {"column": "wajib_nol", "min_value": 0, "max_value": 0}, "*",
             "fakta yatim atau angka peringkat yang tidak sesuai lineage-nya"),
        Rule("ExpectColumnValuesToBeBetween", {"column": "selisih_rekonsiliasi", "min_value": 0, "max_value": 0},
             "selisih", "angka rilis nasional berbeda dari jumlah kasus daerah sampai tanggal data",
             severity="warning"),
    ]  # fmt: skip


@dataclass(frozen=True)
class ValidationOutcome:
    """Row failures (`batch_id, baris, kolom, aturan, alasan, tingkat`) and per-batch results."""

    failures: pd.DataFrame
    results: pd.DataFrame  # batch_id, suite, expectation, kolom, success, unexpected_count, tingkat


DATASOURCE = "netralitas"
# What GX keeps of a failing row: its identity only. `exclude_unexpected_values` keeps the values out of the
# results and Data Docs; `partial_unexpected_count: 0` drops the partial lists and counts (values too);
# COMPLETE is still needed, since only it returns `unexpected_index_list` (every failing row).
RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": ROW_ID,
    "exclude_unexpected_values": True,
    "partial_unexpected_count": 0,
    "return_unexpected_index_query": False,
}
RUNNING = ".run-in-progress"  # in gx_dir while a run writes the project; left behind by a run that died
LOCK = ".lock"
SET_ASIDE = "set-aside"  # gx_dir/set-aside/<time>/: what a repair moved out of the project


def quiet_great_expectations() -> None:
    """Keep GX's chatter out of task logs and `make` output without hiding a warning or an error: on import and
    on every context GX logs at INFO ~210 "Skipping registering function ..." lines
    (`great_expectations._docs_decorators`) and its config saves ("Saving 1 Fluent Datasources", "missing
    `config_provider`"). Its package logger is set to WARNING, so its warnings and errors still show.
    Idempotent; called before GX is imported."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)


def _context(gx_dir: Path | None):
    """A file context under `gx_dir` (suites, results and Data Docs kept), else an ephemeral one."""
    quiet_great_expectations()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    if gx_dir is None:
        context = gx.get_context(mode="ephemeral")
    else:
        gx_dir.mkdir(parents=True, exist_ok=True)
        context = gx.get_context(mode="file", project_root_dir=str(gx_dir))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


@contextmanager
def _project(gx_dir: Path | None) -> Iterator[tuple[Any, bool]]:
    """(context, repaired): the GX project of `gx_dir`, one run at a time, repaired first if a run died in it.

    GX writes its files in place (a kill -9 leaves one truncated), so a run marks the project (`RUNNING`,
    written atomically) and clears the mark only once everything it wrote is complete. A run that finds the
    mark repairs first (`_repair`) and then rebuilds the whole Data Docs site. An exclusive lock (released by
    the kernel when its holder dies) keeps two runs (e.g. both ingestion DAGs) from writing the project at
    once. Without `gx_dir`: an ephemeral context, nothing kept.
    """
    if gx_dir is None:
        yield _context(None), False
        return
    gx_dir.mkdir(parents=True, exist_ok=True)
    with open(gx_dir / LOCK, "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        running = gx_dir / RUNNING
        repaired = running.exists()
        if repaired:
            moved = _repair(gx_dir)
            log.warning("GX project %s: the previous run did not finish; repaired (%s)", gx_dir, "; ".join(moved))
        else:
            atomic_write(running, f"pid {os.getpid()} since {datetime.now(UTC).isoformat()}\n".encode())
        yield _context(gx_dir), repaired
        running.unlink()
        fsync_dir(gx_dir)


def _parses(path: Path) -> bool:
    """A store file is whole: a JSON object, or a store's id file (`store_backend_id = <uuid>`)."""
    try:
        text = path.read_text(encoding="utf-8")
        if path.name == ".ge_store_backend_id":
            return re.fullmatch(r"store_backend_id = [0-9a-f-]{36}\s*", text) is not None
        return isinstance(json.loads(text), dict)
    except (OSError, UnicodeDecodeError, ValueError):
        return False


def _repair(gx_dir: Path) -> list[str]:
    """Bring a project a run died in back to a state every run can start from; returns what it did.

    The configuration is rebuilt from code: great_expectations.yml is set aside (GX scaffolds a new one and
    `run_suite` adds its data source), validation definitions and checkpoints (rewritten by every run) and the
    Data Docs site (rebuilt whole by this run) are removed. Of the suites and validation results, every file
    that does not parse is set aside under `gx_dir/set-aside/<time>/`. Each step can be repeated: a repair
    that is itself killed is done again by the next run.
    """
    root = gx_dir / "gx"
    aside = gx_dir / SET_ASIDE / datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    done = []

    def set_aside(path: Path) -> None:
        target = aside / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        done.append(f"set aside {path.relative_to(root)}")

    if (root / "great_expectations.yml").exists():
        set_aside(root / "great_expectations.yml")
    for relative in ("validation_definitions", "checkpoints", "uncommitted/data_docs", "plugins"):
        if (root / relative).exists():
            shutil.rmtree(root / relative)
            done.append(f"removed {relative}/")
    (root / "uncommitted" / "config_variables.yml").unlink(missing_ok=True)
    for store in ("expectations", "uncommitted/validations"):
        for path in sorted((root / store).rglob("*")) if (root / store).is_dir() else []:
            if path.is_file() and not _parses(path):
                set_aside(path)
    return done or ["nothing to set aside"]


def data_docs_index(gx_dir: Path) -> Path:
    return gx_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


WARNINGS = "_warnings"  # the suite of a contract's warning rules: `<suite>_warnings`
NO_RUN_ID = "local"  # the GX run name of a validation that no Airflow run started (a tool, a test)
STATIC = Path(__file__).with_name("data_docs_static")


def run_suite(
    suite_name: str,
    rules: list[Rule],
    frame: pd.DataFrame,
    gx_dir: Path | None = None,
    batch_ids: list[str] | None = None,
    *,
    run_id: str | None = None,
    batch_labels: dict[str, str] | None = None,
) -> ValidationOutcome:
    """Validate `frame` (which has `batch_id` and `baris`) against `rules` in one GX checkpoint run.

    One data asset per contract (`netralitas.<suite>`), one checkpoint per contract (`<suite>_checkpoint`)
    running the contract's critical rules (suite `<suite>`) and, when it has any, its warning rules (suite
    `<suite>_warnings`), so that a warning that fails never shows the contract as failed. The Airflow run id
    (`run_id`) is the GX run name. With `gx_dir`, suites, validation definitions, the checkpoint and the results
    are kept in a file context there; each result names its data asset and lists its batches (`batch_labels`:
    batch id -> "office · file"), and the Data Docs site (`data_docs_index(gx_dir)`) is rebuilt for them and
    made to work offline (`offline_site`). A project left damaged by a run that died is repaired first
    (`_project`). `batch_ids` names every batch that gets result rows, including those without any row (a
    report of zero cases). GX keeps only the identity of a failing row (`batch_id`, `baris`), never its values.
    """
    quiet_great_expectations()
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    started = datetime.now(UTC)
    with _project(gx_dir) as (context, repaired):
        # Each contract's asset is added once, to one data source (add_or_update_pandas would replace the data
        # source, dropping the other contracts' assets and orphaning their checkpoints).
        try:
            source = context.data_sources.get(DATASOURCE)
        except KeyError:
            source = context.data_sources.add_pandas(DATASOURCE)
        try:
            asset = source.get_asset(suite_name)
        except LookupError:
            asset = source.add_dataframe_asset(suite_name)
        try:
            batch_definition = asset.get_batch_definition("ingestion_run")
        except KeyError:
            batch_definition = asset.add_batch_definition_whole_dataframe("ingestion_run")
        definitions = []
        for name, severity in ((suite_name, "critical"), (suite_name + WARNINGS, "warning")):
            expectations = [
                getattr(gx.expectations, rule.expectation)(
                    **rule.kwargs, severity=rule.severity, meta={"rule": i, "kolom": rule.column, "alasan": rule.reason}
                )
                for i, rule in enumerate(rules)
                if rule.severity == severity
            ]
            if not expectations:
                continue
            suite = context.suites.add_or_update(gx.ExpectationSuite(name=name, expectations=expectations))
            definitions.append(
                context.validation_definitions.add_or_update(
                    gx.ValidationDefinition(name=f"{name}_ingestion", data=batch_definition, suite=suite)
                )
            )
        checkpoint = context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=f"{suite_name}_checkpoint", validation_definitions=definitions, result_format=RESULT_FORMAT
            )
        )
        run = checkpoint.run(
            batch_parameters={"dataframe": _nanosecond_dates(frame)},
            run_id=RunIdentifier(run_name=run_id or NO_RUN_ID, run_time=started),
        )
        if gx_dir is not None:
            _describe_batches(context, run, f"{DATASOURCE}.{suite_name}", batch_ids, batch_labels)
            if repaired:  # a repaired project gets its whole site rebuilt, not just this run's pages
                context.build_data_docs()
            else:
                suites = {identifier.expectation_suite_identifier for identifier in run.run_results}
                context.build_data_docs(resource_identifiers=[*run.run_results, *suites])
            offline_site(data_docs_index(gx_dir).parent, since=None if repaired else started)
    failures = []
    for result in run.run_results.values():
        for item in result.results:
            config = item.expectation_config
            rule = rules[config.meta["rule"]]
            raised = _raised(item.exception_info)
            if raised:  # e.g. a column the suite needs is missing: never a silent pass
                raise RuntimeError(f"{suite_name}: {config.type} on {rule.column} raised: {raised}")
            rows = _failing_rows(suite_name, item)
            if not item.success and not rows:
                raise RuntimeError(f"{suite_name}: {config.type} on {rule.column} failed without naming a row")
            for batch_id, baris in rows:
                failures.append(
                    (batch_id, int(baris), rule.column, config.type, rule.reason, rule.severity, config.meta["rule"])
                )
    failed = pd.DataFrame(failures, columns=[*FAILURE_COLUMNS, "rule"])
    results = _per_batch(suite_name, rules, batch_ids or list(frame["batch_id"].unique()), failed)
    return ValidationOutcome(failed[list(FAILURE_COLUMNS)], results)


def _nanosecond_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with its dates at nanosecond resolution where every value fits (years 1678-2261), else as is.

    GX 1.24 compares a date column with an expectation's bounds vectorised only at nanosecond resolution
    (`column_values_between.py`: `is_datetime64_ns_dtype`); at pandas 3's second resolution it calls a Python
    function per value, the costliest step of the suite. The instants, hence every verdict, are the same."""
    converted = {}
    for column in frame.columns:
        dtype = frame[column].dtype
        if pd.api.types.is_datetime64_dtype(dtype) and not pd.api.types.is_datetime64_ns_dtype(dtype):
            try:
                converted[column] = frame[column].astype("datetime64[ns]")
            except pd.errors.OutOfBoundsDatetime:  # a date GX then compares one by one, as before
                continue
    return frame.assign(**converted) if converted else frame


def _describe_batches(
    context, run, asset_name: str, batch_ids: list[str] | None, labels: dict[str, str] | None
) -> None:
    """Name, in each stored result, its data asset and its batches (Data Docs show them as "Data asset" and
    under "Batch Spec"): one validation covers every batch of an ingestion run, identified by office and file
    name rather than only by GX's fingerprint of the whole frame."""
    labels = labels or {}
    listed = {labels.get(batch_id, batch_id): f"batch {batch_id[:12]}" for batch_id in batch_ids or []}
    for identifier, result in run.run_results.items():
        result.meta["batch_spec"] = {
            "data_asset_name": asset_name,
            "batch_data": "PandasDataFrame",
            "batches": len(listed),
            **({"batch (office · file)": listed} if listed else {}),
        }
        context.validation_results_store.set(identifier, result)


# The CDN URLs of GX 1.24's Data Docs pages and the vendored copy (under `data_docs_static/`) each one becomes;
# None: the tag is dropped (Vega draws only profiling charts, which these suites never produce).
CDN_COPIES: dict[str, str | None] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap-4.3.1/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap-4.3.1/bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js-1.12.9/popper.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        "bootstrap-table-1.19.1/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        "bootstrap-table-1.19.1/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table-1.19.1/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table-1.19.1/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table-1.19.1/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker-1.9.0/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker-1.9.0/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "fontawesome-free-6.6.0/css/all.min.css",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "bootstrap-dark-1.1.0/bootstrap-prefers-dark.min.css",
    "https://cdn.jsdelivr.net/npm/vega@5": None,
    "https://cdn.jsdelivr.net/npm/vega-lite@5": None,
    "https://cdn.jsdelivr.net/npm/vega-embed@6": None,
}  # fmt: skip
_ASSET_LINK = re.compile(r'(?P<attr>src|href)="(?P<url>https?://[^"]+)"')
_SCRIPT = re.compile(r'<script[^>]*\ssrc="(?P<url>https?://[^"]+)"[^>]*>\s*</script>\s*')
_GX_LOGO = re.compile(r'https://great-expectations-web-assets\.s3\.[a-z0-9-]+\.amazonaws\.com/(?P<name>[\w.-]+)\?[^"]*')
_LOADED = (".css", ".js")


def offline_site(site: Path, since: datetime | None = None) -> list[str]:
    """Make the Data Docs site under `site` render with no network: copy the vendored assets into
    `site/static/vendor/` and point every page built since `since` (all pages when None) at them, with links
    relative to the page (the site also works from file:// and behind any URL prefix). Returns the external
    stylesheets and scripts it found no copy for (logged as a warning: the page then needs the network)."""
    if not site.is_dir():
        return []
    vendor = site / "static" / "vendor"
    cutoff = since.timestamp() if since and vendor.is_dir() else None  # a site never made offline: every page
    shutil.copytree(STATIC, vendor, dirs_exist_ok=True)
    unmapped: set[str] = set()
    for page in site.rglob("*.html"):
        if cutoff is not None and page.stat().st_mtime < cutoff:
            continue
        html = page.read_text(encoding="utf-8")
        to_vendor = Path(os.path.relpath(vendor, page.parent)).as_posix()
        to_images = Path(os.path.relpath(site / "static" / "images", page.parent)).as_posix()

        def script(match: re.Match[str]) -> str:
            url = match["url"]
            return "" if url in CDN_COPIES and CDN_COPIES[url] is None else match.group()

        def link(match: re.Match[str], to_vendor: str = to_vendor) -> str:
            url = match["url"]
            if CDN_COPIES.get(url):
                return f'{match["attr"]}="{to_vendor}/{CDN_COPIES[url]}"'
            if url.split("?", 1)[0].endswith(_LOADED) or (match["attr"] == "src" and url not in CDN_COPIES):
                unmapped.add(url)
            return match.group()

        rewritten = _SCRIPT.sub(script, html)
        rewritten = _GX_LOGO.sub(lambda m, to_images=to_images: f"{to_images}/{m['name']}", rewritten)
        rewritten = _ASSET_LINK.sub(link, rewritten)
        if rewritten != html:
            atomic_write(page, rewritten.encode("utf-8"))
    if unmapped:
        log.warning("Data Docs: no local copy of %s: these pages need the network", ", ".join(sorted(unmapped)))
    return sorted(unmapped)


def _failing_rows(suite_name: str, item) -> list[tuple[str, int]]:
    """(batch_id, baris) of every row an expectation found unexpected.

    With `exclude_unexpected_values`, GX 1.24 returns `unexpected_index_list` as one mapping of each identity
    column to the values of all failing rows (`[{"batch_id": [...], "baris": [...]}]`, `[]` when none fail),
    not one mapping per row (`metrics/util.py: compute_unexpected_pandas_indices`). Their number must be GX's
    `unexpected_count`: a failing row that is not quarantined would pass unchecked.
    """
    rows = [
        pair
        for entry in item.result.get("unexpected_index_list") or []
        for pair in zip(entry["batch_id"], entry["baris"], strict=True)
    ]
    expected = item.result.get("unexpected_count")
    if expected is not None and expected != len(rows):
        config = item.expectation_config
        raise RuntimeError(f"{suite_name}: {config.type} found {expected} rows, but identified {len(rows)}")
    return rows


def _raised(info: object) -> str | None:
    """The message of an exception GX caught while computing an expectation's metrics, if any. GX 1.x keeps
    them by metric (`{metric id: {"raised_exception": True, "exception_message": ...}}`), not at the top."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "an exception")
    return next((m for value in info.values() if (m := _raised(value))), None)


def _per_batch(suite: str, rules: list[Rule], batch_ids: list[str], failed: pd.DataFrame) -> pd.DataFrame:
    """Every batch gets a result row per expectation, also those where nothing failed."""
    counts = failed.groupby(["batch_id", "rule"]).size().to_dict()  # a dict: a MultiIndex lookup per cell is slow
    rows = []
    for batch_id in batch_ids:
        for index, rule in enumerate(rules):
            n = int(counts.get((batch_id, index), 0))
            rows.append((batch_id, suite, rule.expectation_type, rule.column, n == 0, n, rule.severity))
    columns = ["batch_id", "suite", "expectation", "kolom", "success", "unexpected_count", "tingkat"]
    return pd.DataFrame(rows, columns=columns)
