"""`make bench`: every stage of the pipeline timed at scale, on DuckDB and PostgreSQL, against what the
machine can do (docs/performance.md).

    python tools/bench.py --rows 1000000 [--pg postgresql://postgres@127.0.0.1:5432/test]

Synthetic case reports (seeded) for all 552 offices are written as CSV files. Stages:
  parse      read_case_report over every file (text columns)                      [database-independent]
  validate   the GX suite case_report_v1 on all rows, against the same checks as plain pandas masks
  load       Warehouse.bulk_insert into staging.case_report, against the raw bulk load of the same rows
             (PostgreSQL COPY into an unindexed table; DuckDB's native CSV reader into a table)
  merge      build_warehouse (history, newest report per case, post-load checks) and the ranking query
  publish    publish_week
  chain      the whole ingestion + build + publication from the drop folder, then a no-change re-run
  week       a typical week: 10,000 case rows across all 552 offices and one national release (the sample
             generator), from drop to published with `make run` on the embedded warehouse in a var folder of
             its own, Airflow start-up included (a subprocess, wall time)
References: pandas' pyarrow CSV engine on the same files (every column text), the raw bulk load of the same
rows, the same checks as plain pandas masks. Also the parse time of each DAG file and the peak RSS of each
stage. Every stage runs as the pipeline runs it: in a fresh spawned process (the benchmark's own process never
holds the rows), over the pipeline's chunks of about `pipeline.ROWS_PER_VALIDATION` rows (read, prepared,
validated and loaded one chunk at a time); a stage's time is the sum over its chunks, its peak RSS the highest
RSS of its process while the stage ran. Prints every ratio of issue 20 with its target and whether it is met,
side by side on both warehouses, and writes var/bench/bench-<rows>.json. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from include.netralitas.contracts import CASE_COLUMNS, JABATAN, JENIS_PELANGGARAN, PEMILIHAN, STATUS  # noqa: E402
from include.netralitas.ingest import pipeline  # noqa: E402
from include.netralitas.ingest.pipeline import (  # noqa: E402
    NOT_VALIDATED,
    STAGING_CASE_COLUMNS,
    _prepare_cases,
    ingest_case_reports,
    summarise,
)
from include.netralitas.ingest.readers import NOTES_COLUMN, read_case_report  # noqa: E402
from include.netralitas.publish.publication import compute_ranking, publish_week  # noqa: E402
from include.netralitas.quality.gx import case_report_rules, run_suite  # noqa: E402
from include.netralitas.reference.catalogue import load_catalogue  # noqa: E402
from include.netralitas.settings import get_settings  # noqa: E402
from include.netralitas.warehouse.build import build_warehouse  # noqa: E402
from include.netralitas.warehouse.database import Warehouse  # noqa: E402
from include.netralitas.weeks import IsoWeek  # noqa: E402

KEY = b"bench-key"
WEEK = IsoWeek.parse("2024-W48")


class Peak:
    """Samples this process's RSS every 20 ms while a stage runs; `mb` is the peak."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.mb = 0.0
        self._stop = threading.Event()

    def __enter__(self) -> Peak:
        self.mb = self.process.memory_info().rss / 2**20
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.mb = max(self.mb, self.process.memory_info().rss / 2**20)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.mb = max(self.mb, self.process.memory_info().rss / 2**20)


def measure(results: dict, name: str, fn, rows: int | None = None):
    with Peak() as peak:
        start = time.perf_counter()
        value = fn()
        seconds = time.perf_counter() - start
    results[name] = {"s": round(seconds, 3), "peak_rss_mb": round(peak.mb, 1)}
    if rows:
        results[name]["rows_per_s"] = round(rows / seconds)
    print(f"  {name:<28} {seconds:8.2f} s  peak RSS {peak.mb:7.0f} MB", flush=True)
    return value


class Stages:
    """Per-stage figures summed over the chunks a stage ran on: seconds, and the highest RSS of this process
    while the stage ran (`Peak`)."""

    def __init__(self, rows: int | None = None) -> None:
        self.rows = rows
        self.figures: dict[str, dict] = {}

    @contextlib.contextmanager
    def run(self, name: str):
        with Peak() as peak:
            start = time.perf_counter()
            yield
            seconds = time.perf_counter() - start
        figures = self.figures.setdefault(name, {"s": 0.0, "peak_rss_mb": 0.0})
        figures["s"] += seconds
        figures["peak_rss_mb"] = max(figures["peak_rss_mb"], peak.mb)

    def results(self, per_row: tuple[str, ...] = ()) -> dict:
        out = {}
        for name, figures in self.figures.items():
            out[name] = {"s": round(figures["s"], 3), "peak_rss_mb": round(figures["peak_rss_mb"], 1)}
            if self.rows and name in per_row:
                out[name]["rows_per_s"] = round(self.rows / figures["s"])
        return out


def in_child(fn, *args) -> dict:
    """`fn(*args)` in a fresh spawned process (its RSS is the stage's alone); prints the figures it returns."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        results = pool.apply(fn, args)
    for name, figures in results.items():
        print(f"  {name:<28} {figures['s']:8.2f} s  peak RSS {figures['peak_rss_mb']:7.0f} MB", flush=True)
    return results


def pipeline_chunks(paths: list[Path]) -> list[list[Path]]:
    """The files in the groups the pipeline reads, validates and stages together: in name order, a group
    closes once it holds `pipeline.ROWS_PER_VALIDATION` rows (the synthetic CSV rows are one line each)."""
    chunks: list[list[Path]] = [[]]
    rows = 0
    for path in paths:
        chunks[-1].append(path)
        rows += path.read_bytes().count(b"\n") - 1
        if rows >= pipeline.ROWS_PER_VALIDATION:
            chunks.append([])
            rows = 0
    return [chunk for chunk in chunks if chunk]


COMMON_PER_ROW = ("parse (pandas pyarrow CSV)", "parse (read_case_report)", "prepare (resolve, HMAC)",
                  "validate (GX suite)", "validate (plain pandas)")  # fmt: skip


def common_stages(files: str, staged_dir: str, n: int) -> dict:
    """In a child process: parse (and its reference), prepare and validate (and its reference), one chunk of
    files at a time as the pipeline does; each chunk's staging rows are written to `staged_dir` (Parquet) for
    the load stages."""
    import logging

    import great_expectations  # noqa: F401  (imported before the GX stage: its ~5 s import is not validation)

    logging.disable(logging.INFO)
    stages = Stages(n)
    catalogue = load_catalogue()
    rules = case_report_rules(catalogue.regions, date.today())
    for index, chunk in enumerate(pipeline_chunks(sorted(Path(files).iterdir()))):
        with stages.run("parse (pandas pyarrow CSV)"):
            len(parse_reference(chunk))
        with stages.run("parse (read_case_report)"):
            frame = pd.concat([read_case_report(p).assign(batch_id=p.stem, kantor_berkas=p.name.split("_")[0])
                               for p in chunk], ignore_index=True)  # fmt: skip
        with stages.run("prepare (resolve, HMAC)"):
            prepared = _prepare_cases(frame, catalogue, KEY)
        frame = None
        for_gx = prepared.drop(columns=[*NOT_VALIDATED, NOTES_COLUMN])
        with stages.run("validate (GX suite)"):
            run_suite("case_report_v1", rules, for_gx)
        with stages.run("validate (plain pandas)"):
            pandas_checks(for_gx, set(catalogue.regions), date.today())
        for_gx = None
        staged = prepared.assign(tanggal_temuan=prepared["tanggal"], instansi_asli=prepared["instansi"])
        staged[STAGING_CASE_COLUMNS].to_parquet(Path(staged_dir) / f"chunk-{index:04d}.parquet", index=False)
        prepared = staged = None
        gc.collect()  # as the pipeline does after each chunk (pipeline._ingest): GX's reference cycles let go
    return stages.results(COMMON_PER_ROW)


def staged_chunks(staged_dir: Path):
    """The staging rows of each chunk: text held by Arrow (compact), as the load stages take them."""
    for path in sorted(staged_dir.glob("chunk-*.parquet")):
        staged = pd.read_parquet(path)
        yield staged.astype({c: pd.StringDtype("pyarrow") for c in STAGING_CASE_COLUMNS
                             if c != "tanggal_temuan" and staged[c].dtype != pd.StringDtype("pyarrow")
                             and not pd.api.types.is_numeric_dtype(staged[c])})  # fmt: skip


def load_stages(url: str, staged_dir: str, folder: str, n: int) -> dict:
    """In a child process: the project's load of every chunk (one transaction each, as the pipeline commits
    a chunk), then the raw bulk load of the same rows (one load of one CSV file: the database's own best)."""
    from sqlalchemy import text

    stages = Stages(n)
    wh = Warehouse(url)
    build_warehouse(wh)
    batches = sorted(set().union(*(set(pd.read_parquet(p, columns=["batch_id"])["batch_id"])
                                  for p in Path(staged_dir).glob("chunk-*.parquet"))))  # fmt: skip
    with wh.begin() as conn:  # the manifest rows the staged rows belong to
        conn.execute(
            text(
                "INSERT INTO landing.batch (batch_id, contract, source, file_name, landed_path, received_at,"
                " ingested_at, rows_in, rows_loaded, rows_quarantined, rows_duplicate, status) VALUES"
                " (:b, 'case-report/v1', 'file', :b, '-', :t, :t, 0, 0, 0, 0, 'loaded')"
            ),
            [{"b": b, "t": datetime(2024, 11, 25, tzinfo=UTC)} for b in batches],
        )
    csv_path = Path(folder) / "raw.csv"
    for index, staged in enumerate(staged_chunks(Path(staged_dir))):
        with stages.run("load (project path)"), wh.begin() as conn:
            wh.bulk_insert(conn, "staging.case_report", staged)
        staged.to_csv(csv_path, index=False, header=index == 0, mode="w" if index == 0 else "a")
        staged = None
    load = raw_bulk_load(wh, csv_path)
    with stages.run("load (raw bulk load)"):
        load()
    wh.engine.dispose()
    return stages.results(("load (project path)", "load (raw bulk load)"))


def merge_stage(url: str, n: int) -> dict:
    """In a child process: build_warehouse on the loaded rows (DuckDB's merge runs inside this process)."""
    stages = Stages(n)
    wh = Warehouse(url)
    with stages.run("merge (build_warehouse)"):
        build_warehouse(wh)
    wh.engine.dispose()
    return stages.results(("merge (build_warehouse)",))


def publish_stages(url: str, folder: str) -> dict:
    """In a child process: the ranking query, then publish_week."""
    stages = Stages()
    wh = Warehouse(url)
    with stages.run("rank (ranking query)"), wh.session() as conn:
        len(compute_ranking(wh, conn, WEEK))
    with stages.run("publish (publish_week)"):
        publish_week(wh, Path(folder) / "publish", WEEK)
    wh.engine.dispose()
    return stages.results()


def write_case_files(folder: Path, n: int, seed: int = 11) -> int:
    """n synthetic contract rows over all 552 offices, one CSV per office, every value as offices write it."""
    rng = np.random.default_rng(seed)
    cat = load_catalogue()
    offices = np.array(sorted(cat.regions))
    names = np.array([cat.instansi[k].nama for k in sorted(cat.instansi)])
    frame = pd.DataFrame(
        {
            "kode_kantor": offices[rng.integers(0, len(offices), n)],
            "nomor_kasus": np.char.add(np.arange(n).astype(str), "/PL"),
            "tanggal_temuan": (pd.Timestamp("2018-02-01") + pd.to_timedelta(rng.integers(0, 2400, n), unit="D"))
            .strftime("%Y-%m-%d"),
            "pemilihan": np.array(PEMILIHAN)[rng.integers(0, len(PEMILIHAN), n)],
            "instansi": names[rng.integers(0, len(names), n)],
            "nip": np.char.add("1990010120150310", rng.integers(10, 99, n).astype(str)),
            "nama_terlapor": np.char.add("Nama ", rng.integers(0, 10**6, n).astype(str)),
            "jabatan": np.array(JABATAN)[rng.integers(0, len(JABATAN), n)],
            "jenis_pelanggaran": np.array(JENIS_PELANGGARAN)[rng.integers(0, len(JENIS_PELANGGARAN), n)],
            "status": np.array(STATUS)[rng.integers(0, len(STATUS), n)],
        }
    )[list(CASE_COLUMNS)]  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    for kode, group in frame.groupby("kode_kantor"):
        group.to_csv(folder / f"{kode}_bench.csv", index=False)
    return len(frame)


def pandas_checks(frame: pd.DataFrame, regions: set[str], today: date) -> int:
    """The suite's checks as vectorised pandas masks: the number of failing rows."""
    bad = ~frame["kode_kantor"].isin(regions)
    bad |= frame["nomor_kasus"].isna()
    bad |= frame["tanggal_temuan"].isna()
    bad |= (frame["tanggal_temuan"] < pd.Timestamp("2015-01-01")) | (frame["tanggal_temuan"] > pd.Timestamp(today))
    bad |= ~frame["pemilihan"].isin(PEMILIHAN)
    bad |= frame["instansi_kode"].isna()
    bad |= frame["nip_bentuk"].notna() & ~frame["nip_bentuk"].astype("string").str.fullmatch(r"9{18}").fillna(False)
    bad |= ~frame["jabatan"].isin(JABATAN) | ~frame["jenis_pelanggaran"].isin(JENIS_PELANGGARAN)
    bad |= ~frame["status"].isin(STATUS)
    bad |= frame.duplicated(["batch_id", "kode_kantor", "nomor_kasus"], keep=False)
    return int(bad.sum())


def raw_bulk_load(wh: Warehouse, path: Path):
    """The reference: the database's own fastest load of the same rows (the CSV file `path`, with a header)
    into an unindexed table."""
    from sqlalchemy import text

    columns = ", ".join(STAGING_CASE_COLUMNS)
    with wh.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS staging.bench_raw"))
        conn.execute(text("CREATE TABLE staging.bench_raw AS SELECT * FROM staging.case_report WHERE 1 = 0"))
    if wh.dialect == "postgresql":

        def load() -> None:
            with wh.begin() as conn, path.open("rb") as handle:
                raw = conn.connection.dbapi_connection
                with (
                    raw.cursor() as cursor,
                    cursor.copy(f"COPY staging.bench_raw ({columns}) FROM STDIN (FORMAT csv, HEADER true)") as copy,
                ):
                    while block := handle.read(1 << 20):
                        copy.write(block)
    else:

        def load() -> None:
            with wh.begin() as conn:
                conn.exec_driver_sql(f"INSERT INTO staging.bench_raw SELECT * FROM read_csv('{path}', header = true)")

    return load


def bench_database(label: str, url: str, files: Path, staged_dir: Path, n: int, folder: Path) -> dict:
    print(f"{label}:", flush=True)
    folder.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    results |= in_child(load_stages, url, str(staged_dir), str(folder), n)
    results |= in_child(merge_stage, url, n)
    results |= in_child(publish_stages, url, str(folder))

    # The whole chain from the drop folder into a fresh warehouse, then the same files again, in a fresh
    # process: its peak RSS is the pipeline's own.
    chain_url = fresh_database(url.rsplit("/", 1)[0] + "/test" if url.startswith("postgresql") else url,
                               folder / "chain.duckdb")  # fmt: skip
    results |= in_child(run_chain_twice, chain_url, str(files), str(folder), n)
    return results


def run_chain_twice(url: str, files: str, folder: str, n: int) -> dict:
    """In a child process: ingestion + build + publication from the drop folder, then a no-change re-run."""
    import logging

    logging.disable(logging.INFO)
    base = Path(folder)
    settings = replace(
        get_settings(), drop_dir=base / "drop", landing_dir=base / "landing", publish_dir=base / "publish2",
        gx_dir=base / "gx", warehouse_url=url, settle_seconds=0.0,  # just written: no settle interval
    )  # fmt: skip
    wh = Warehouse(url)

    def chain() -> dict[str, int]:
        shutil.copytree(files, settings.case_report_drop, dirs_exist_ok=True)
        summary = summarise(ingest_case_reports(wh, settings, KEY))
        build_warehouse(wh)
        publish_week(wh, settings.publish_dir, WEEK)
        return summary

    results: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        first = measure(results, "chain (first run)", chain, n)
        again = measure(results, "chain (no-change re-run)", chain)
    # Honest figures: the first run loaded every row, the re-run found every batch already loaded.
    results["chain (first run)"]["ingested"] = first
    results["chain (no-change re-run)"]["ingested"] = again
    if first.get("rows_in") != n or again.get("batches_already_loaded") != first.get("batches_loaded"):
        raise RuntimeError(f"the chain did not ingest what it should: first {first}, re-run {again}")
    wh.engine.dispose()
    return results


CREATED: list[tuple[str, str]] = []  # (server URL, database) made by this run, dropped at the end


def _admin(url: str):
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    return create_engine(
        url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )


def fresh_database(url: str, duckdb_path: Path) -> str:
    if url.startswith("duckdb"):
        return f"duckdb:///{duckdb_path}"
    from sqlalchemy import text

    name = f"netralitas_bench_{uuid.uuid4().hex[:8]}"
    with _admin(url).connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    CREATED.append((url, name))
    return url.rsplit("/", 1)[0] + f"/{name}"


def drop_created() -> None:
    from sqlalchemy import text

    for url, name in CREATED:
        with _admin(url).connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def dag_parse_times() -> dict[str, float]:
    from airflow.dag_processing.dagbag import DagBag

    if str(ROOT / "plugins") not in sys.path:  # as Airflow's own processes have it: the timetable is a plugin
        sys.path.append(str(ROOT / "plugins"))
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    if bag.import_errors:  # a DAG file that does not import would leave the figure out silently
        raise RuntimeError(f"DAG files that do not import: {sorted(bag.import_errors)}")
    return {Path(s.file).name: round(s.duration.total_seconds(), 3) for s in bag.dagbag_stats}


def parse_reference(paths: list[Path]) -> pd.DataFrame:
    """pandas' pyarrow CSV engine on the same files, every column text (an 18-digit NIP keeps its digits)."""
    return pd.concat(
        [pd.read_csv(p, engine="pyarrow", dtype=str, keep_default_na=False) for p in paths], ignore_index=True
    )


WEEK_CASES = 10_000


def typical_week(folder: Path) -> dict:
    """A typical week from drop to published: the sample generator's 10,000 case rows across all 552 offices
    and its national release, then `make run WEEK=2024-W48` as a subprocess with a var folder of its own (a
    fresh embedded warehouse and Airflow home: `airflow db migrate` and Airflow's start-up are included)."""
    from include.netralitas.sample.generator import generate_sample

    var = folder / "var"
    sample = generate_sample(var / "drop", total_cases=WEEK_CASES)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETRALITAS_", "AIRFLOW", "MAKE"))}
    env |= {"NETRALITAS_VAR_DIR": str(var), "AIRFLOW_HOME": str(var / "airflow"), "NETRALITAS_HMAC_KEY": "bench"}
    # `make bench` has already made .venv/.installed: -o keeps make from re-checking it.
    command = ["make", "--no-print-directory", "-C", str(ROOT), "-o", ".venv/.installed", "run", f"WEEK={WEEK}",
               f"VAR={var}"]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    published = sorted(p.name for p in (var / "publish" / str(WEEK)).glob("*"))
    figures = {"s": round(seconds, 2), "case_rows": sample.case_rows, "case_files": sample.case_files,
               "exit": done.returncode, "published": published}  # fmt: skip
    print(
        f"  {'make run (typical week)':<28} {seconds:8.2f} s  {sample.case_rows:,} case rows, "
        f"{sample.case_files} files, exit {done.returncode}, {len(published)} files published",
        flush=True,
    )
    if done.returncode:
        print(done.stdout[-2000:], done.stderr[-2000:], sep="\n")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--pg", default=os.environ.get("NETRALITAS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    args = parser.parse_args()
    began = time.perf_counter()
    out_dir = ROOT / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    report: dict = {
        "rows": args.rows,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
                    "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
    }  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="netralitas-bench-") as tmp:
        folder = Path(tmp)
        print(f"a typical week ({WEEK_CASES:,} case rows, 552 offices, one national release) with make run:")
        report["week"] = typical_week(folder / "week")
        files = folder / "files"
        n = write_case_files(files, args.rows)
        chunks = len(pipeline_chunks(sorted(files.iterdir())))
        print(f"{n:,} case rows in {len(list(files.iterdir()))} office files, {chunks} chunks of "
              f"~{pipeline.ROWS_PER_VALIDATION:,} rows; each stage in a process of its own:", flush=True)  # fmt: skip
        staged_dir = folder / "staged"
        staged_dir.mkdir()
        report["common"] = in_child(common_stages, str(files), str(staged_dir), n)
        report["duckdb"] = bench_database(
            "DuckDB", f"duckdb:///{folder / 'bench.duckdb'}", files, staged_dir, n, folder / "d"
        )
        try:
            pg_url = fresh_database(args.pg, folder)
        except Exception as exc:  # no server: report it, do not fail the DuckDB figures
            print(f"PostgreSQL skipped: {exc}")
        else:
            try:
                report["postgresql"] = bench_database("PostgreSQL", pg_url, files, staged_dir, n, folder / "p")
            finally:
                drop_created()
    report["dag_parse_s"] = dag_parse_times()
    report["wall_s"] = round(time.perf_counter() - began, 1)
    report["targets"] = targets(report)
    print_targets(report["targets"], args.rows)
    path = out_dir / f"bench-{args.rows}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten: {path}")
    return 0


DATABASES = ("duckdb", "postgresql")


def targets(report: dict) -> list[dict]:
    """Every target of issue 20: its value on each warehouse (or once, for a database-independent stage), the
    target, and whether it is met (on every warehouse measured)."""
    common, rows = report["common"], report["rows"]
    out: list[dict] = []

    def add(name: str, target: str, values: dict[str, float | None], met, unit: str) -> None:
        shown = {k: v for k, v in values.items() if v is not None}
        out.append({"ratio": name, "target": target, "values": shown, "unit": unit,
                    "met": bool(shown) and all(met(v) for v in shown.values())})  # fmt: skip

    def per_db(fn) -> dict[str, float | None]:
        return {db: (round(fn(report[db]), 3) if db in report else None) for db in DATABASES}

    def s(stage: dict) -> float:
        return stage["s"]

    def common_ratio(numerator: str, denominator: str) -> dict[str, float]:  # a database-independent stage
        return {"both": round(s(common[numerator]) / s(common[denominator]), 3)}

    add(
        "chain first run / raw bulk load of the same rows",
        "≤ 8×",
        per_db(lambda r: s(r["chain (first run)"]) / s(r["load (raw bulk load)"])),
        lambda v: v <= 8,
        "×",
    )
    add(
        "no-change re-run / first run",
        "≤ 5 %",
        per_db(lambda r: 100 * s(r["chain (no-change re-run)"]) / s(r["chain (first run)"])),
        lambda v: v <= 5,
        "%",
    )
    add(
        "prepare (resolution + HMAC) / parse",
        "≤ 1×",
        common_ratio("prepare (resolve, HMAC)", "parse (read_case_report)"),
        lambda v: v <= 1,
        "×",
    )
    add(
        "parse / pandas' pyarrow CSV engine",
        "≤ 2×",
        common_ratio("parse (read_case_report)", "parse (pandas pyarrow CSV)"),
        lambda v: v <= 2,
        "×",
    )
    add(
        "GX suite / the same checks in plain pandas",
        "≤ 3×",
        common_ratio("validate (GX suite)", "validate (plain pandas)"),
        lambda v: v <= 3,
        "×",
    )
    add(
        "load rate / raw bulk-load rate",
        "≥ 80 %",
        per_db(lambda r: 100 * r["load (project path)"]["rows_per_s"] / r["load (raw bulk load)"]["rows_per_s"]),
        lambda v: v >= 80,
        "%",
    )
    add(
        "merge / load of the same rows",
        "≤ 2×",
        per_db(lambda r: s(r["merge (build_warehouse)"]) / s(r["load (project path)"])),
        lambda v: v <= 2,
        "×",
    )
    stage_peak = max(v["peak_rss_mb"] for v in common.values())
    add(
        f"peak RSS of every stage at {rows:,} rows (its own process, by chunks)",
        "< 1024 MB",
        per_db(lambda r: max(stage_peak, *(v["peak_rss_mb"] for k, v in r.items() if not k.startswith("chain")))),
        lambda v: v < 1024,
        " MB",
    )
    add(
        f"peak RSS of the chain at {rows:,} rows (its own process)",
        "< 1024 MB",
        per_db(lambda r: max(r["chain (first run)"]["peak_rss_mb"], r["chain (no-change re-run)"]["peak_rss_mb"])),
        lambda v: v < 1024,
        " MB",
    )
    week = report["week"]
    add(
        f"typical week ({week['case_rows']:,} rows), make run on DuckDB, drop to published",
        "< 30 s",
        {"duckdb": week["s"] if week["exit"] == 0 else None},
        lambda v: v < 30,
        " s",
    )
    add("slowest DAG file parse", "< 0.5 s", {"both": max(report["dag_parse_s"].values())}, lambda v: v < 0.5, " s")
    add("whole benchmark wall time", "< 600 s", {"both": report["wall_s"]}, lambda v: v < 600, " s")
    return out  # fmt: skip


def print_targets(rows: list[dict], n: int) -> None:
    print(f"\ntargets (issue 20) at {n:,} rows:")
    print(f"  {'ratio':<66} {'DuckDB':>10} {'PostgreSQL':>11}  {'target':<10} met")
    for row in rows:
        values = row["values"]

        def cell(db: str, values=values, unit=row["unit"]) -> str:
            value = values.get(db, values.get("both"))
            digits = {" MB": 0, "%": 1, "×": 2, " s": 2}[unit]
            return "-" if value is None else f"{value:.{digits}f}{unit}"

        both = "both" in values
        duck, pg = cell("duckdb"), ("(same)" if both else cell("postgresql"))
        print(f"  {row['ratio']:<66} {duck:>10} {pg:>11}  {row['target']:<10} {'yes' if row['met'] else 'NO'}")


if __name__ == "__main__":
    sys.exit(main())
