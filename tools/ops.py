"""What on-call reads: the manifest, the quarantine, validation results, office API pulls and endpoints,
publications, national releases and their conflicts, and how the resolver reads an instansi name.
Read-only; docs/runbook.md uses every command.

    python tools/ops.py batches [--problems] [--office KODE]
    python tools/ops.py quarantine [--batch ID] [--column KOLOM] [--reason TEXT] [--all] [--summary | --ids]
    python tools/ops.py validation [--suite NAME] [--failed] [--batch ID]
    python tools/ops.py pulls [--failed] [--office KODE]
    python tools/ops.py endpoints
    python tools/ops.py publications [--week YYYY-Www]
    python tools/ops.py releases [--conflicts] [--penerbit NAME]
    python tools/ops.py resolve NAME [NAME ...] [--strict]

Uses the same configuration as the DAGs (NETRALITAS_* variables, e.g. NETRALITAS_WAREHOUSE_URL). Nothing
printed holds personal data: the quarantine keeps a row's number, column, rule and reason, never its values,
and anything NIP-shaped in a message is masked all the same.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
from sqlalchemy import text  # noqa: E402

from include.netralitas.settings import Settings, get_settings  # noqa: E402
from include.netralitas.warehouse.database import Warehouse  # noqa: E402

# An 18-digit NIP, written plain or grouped 8-6-1-3 (19850101 201001 1 001).
NIP_SHAPED = re.compile(r"(?<!\d)\d{8}[ .-]?\d{6}[ .-]?\d[ .-]?\d{3}(?!\d)")
BATCH_ID = re.compile(r"^[0-9a-f]{64}$")


class OpsError(RuntimeError):
    """Reported as one line on stderr, exit status 2."""


def cell(value: object) -> str:
    """One table cell: missing is blank, anything NIP-shaped masked, one line."""
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return ""
    return NIP_SHAPED.sub("[NIP]", str(value)).replace("\n", " ")


def show(frame: pd.DataFrame, empty: str, limit: int | None = None) -> None:
    if frame.empty:
        print(empty)
        return
    shown = frame if limit is None else frame.head(limit)
    cells = [[cell(v) for v in row] for row in shown.itertuples(index=False)]
    widths = [max([len(str(c)), *(len(r[i]) for r in cells)]) for i, c in enumerate(shown.columns)]
    for row in [list(map(str, shown.columns)), *cells]:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    if limit is not None and len(frame) > limit:
        print(f"... and {len(frame) - limit} more (--limit)")


def warehouse(settings: Settings) -> Warehouse:
    wh = Warehouse(settings.warehouse_url)
    database = wh.engine.url.database
    if wh.dialect == "duckdb" and database and database != ":memory:" and not Path(database).exists():
        raise OpsError(f"no warehouse at {database}: run the pipeline first (make demo, make run)")
    return wh


def query(settings: Settings, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    with warehouse(settings).session() as conn:
        result = conn.execute(text(sql), params or {})
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def batches(args: argparse.Namespace, settings: Settings) -> int:
    sql = (
        "SELECT received_at, batch_id, file_name, source, kode_kantor, rows_in, rows_loaded, rows_quarantined,"
        " rows_duplicate, status, replay_count, error FROM landing.batch WHERE 1 = 1"
    )
    params: dict[str, Any] = {}
    if args.problems:
        sql += " AND (status <> 'loaded' OR rows_quarantined > 0)"
    if args.office:
        sql += " AND kode_kantor = :office"
        params["office"] = args.office
    frame = query(settings, sql + " ORDER BY received_at DESC, file_name", params)
    show(frame, "no batches", args.limit)
    return 0


def quarantine(args: argparse.Namespace, settings: Settings) -> int:
    sql = (
        "SELECT q.batch_id, b.file_name, b.kode_kantor, q.baris, q.kolom, q.aturan, q.tingkat, q.alasan,"
        " q.dilepas_pada FROM audit.quarantine AS q JOIN landing.batch AS b ON b.batch_id = q.batch_id"
        " WHERE b.status = 'loaded'"
    )
    params: dict[str, Any] = {}
    if not args.all:
        sql += " AND q.dilepas_pada IS NULL"
    if args.batch:
        sql += " AND q.batch_id = :batch"
        params["batch"] = args.batch
    if args.column:
        sql += " AND q.kolom = :kolom"
        params["kolom"] = args.column
    if args.reason:
        sql += " AND LOWER(q.alasan) LIKE :reason"
        params["reason"] = f"%{args.reason.lower()}%"
    frame = query(settings, sql + " ORDER BY b.file_name, q.batch_id, q.baris, q.kolom", params)
    if args.ids or args.conf:  # the batches a replay could release rows of: loaded, with open critical rows
        open_critical = frame[(frame["tingkat"] == "critical") & frame["dilepas_pada"].isna()]
        ids = list(dict.fromkeys(open_critical["batch_id"]))
        if args.conf:
            print(json.dumps({"batch_ids": ids}))
        elif ids:
            print("\n".join(ids))
        return 0
    if args.summary:
        counts = (
            frame.groupby(["kolom", "aturan", "tingkat"], dropna=False)
            .agg(baris=("baris", "size"), batch=("batch_id", "nunique"))
            .reset_index()
            .sort_values(["baris", "kolom"], ascending=[False, True])
        )
        show(counts, "no quarantined rows")
        return 0
    show(frame, "no quarantined rows", args.limit)
    return 0


def validation(args: argparse.Namespace, settings: Settings) -> int:
    from include.netralitas.quality.gx import data_docs_index

    where, params = ["1 = 1"], {}
    if args.suite:
        where.append("suite = :suite")
        params["suite"] = args.suite
    if args.batch:
        where.append("batch_id = :batch")
        params["batch"] = args.batch
    if args.failed:
        where.append("NOT success")
    if args.batch:
        sql = (
            "SELECT validated_at, suite, expectation, kolom, tingkat, success, unexpected_count, run_id"
            f" FROM audit.validation_result WHERE {' AND '.join(where)} ORDER BY validated_at, suite, expectation"
        )
    else:
        sql = (
            "SELECT suite, expectation, kolom, tingkat, COUNT(*) AS hasil,"
            " SUM(CASE WHEN success THEN 0 ELSE 1 END) AS gagal, SUM(unexpected_count) AS baris_gagal,"
            " MAX(validated_at) AS terakhir FROM audit.validation_result"
            f" WHERE {' AND '.join(where)} GROUP BY suite, expectation, kolom, tingkat"
            " ORDER BY suite, gagal DESC, expectation, kolom"
        )
    show(query(settings, sql, params), "no validation results")
    index = data_docs_index(settings.gx_dir)
    print(f"Data Docs: {index}" + ("" if index.exists() else " (not built yet)"))
    return 0


def pulls(args: argparse.Namespace, settings: Settings) -> int:
    sql = (
        "SELECT kode_kantor, pulled_at, status, rows_pulled, pages, watermark, file_name, error, base_url FROM ("
        " SELECT p.*, ROW_NUMBER() OVER (PARTITION BY kode_kantor ORDER BY pulled_at DESC) AS newest"
        " FROM landing.api_pull AS p) AS latest WHERE newest = 1"
    )
    params: dict[str, Any] = {}
    if args.failed:
        sql += " AND status = 'failed'"
    if args.office:
        sql += " AND kode_kantor = :office"
        params["office"] = args.office
    empty = (
        "no office API pull"
        + (" whose latest pull failed" if args.failed else "")
        + (f" of office {args.office}" if args.office else "")
    )
    show(query(settings, sql + " ORDER BY status, kode_kantor", params), empty, args.limit)
    return 0


def endpoints(args: argparse.Namespace, settings: Settings) -> int:
    from include.netralitas.reference.catalogue import load_catalogue
    from include.netralitas.sources.office_pull import load_endpoints

    path = settings.office_endpoints
    if path is None:
        print("NETRALITAS_OFFICE_ENDPOINTS is not set: every office reports by file drop")
        return 0
    if not path.exists():
        raise OpsError(f"{path} (NETRALITAS_OFFICE_ENDPOINTS) does not exist")
    regions = load_catalogue().regions
    try:
        listed = load_endpoints(path, set(regions))
    except ValueError as exc:
        raise OpsError(str(exc)) from None
    seen: dict[str, int] = {}
    for endpoint in listed:
        seen[endpoint.kode_kantor] = seen.get(endpoint.kode_kantor, 0) + 1
    repeated = sorted(k for k, n in seen.items() if n > 1)
    if repeated:
        raise OpsError(f"{path.name}: office(s) listed more than once: {', '.join(repeated)}")
    frame = pd.DataFrame(
        [
            (e.kode_kantor, regions[e.kode_kantor].nama, e.base_url or f"(host of {e.conn_id})", e.conn_id)
            for e in listed
        ],
        columns=["kode_kantor", "wilayah", "base_url", "conn_id"],
    )
    show(frame, f"{path} lists no office")
    print(f"{len(listed)} office(s) in {path}; Airflow connection(s) needed: "
          + ", ".join(sorted({e.conn_id for e in listed})))  # fmt: skip
    return 0


def publications(args: argparse.Namespace, settings: Settings) -> int:
    where, params = "", {}
    if args.week:
        where, params = " WHERE minggu = :week", {"week": args.week}
    weeks = query(
        settings,
        "SELECT minggu, versi_metodologi, jumlah_baris, dibuat_pada, alasan_terbit_ulang, sha256_csv"
        f" FROM mart.publication{where} ORDER BY minggu",
        params,
    )
    show(weeks, "no published week")
    log = query(
        settings,
        "SELECT minggu, tindakan, alasan, dicatat_pada, disetujui_oleh, disetujui_pada, sha256_csv"
        f" FROM audit.publication_log{where}"
        " ORDER BY dicatat_pada, minggu",
        params,
    )
    print("\naudit.publication_log:")
    show(log, "empty")
    return 0


def releases(args: argparse.Namespace, settings: Settings) -> int:
    """Every national release with its decision (audit.release_supersession), or only the conflicts."""
    where, params = "", {}
    if args.penerbit:
        where, params = " WHERE penerbit = :penerbit", {"penerbit": args.penerbit.upper()}
    if args.conflicts:
        sql = (
            "SELECT penerbit, tanggal_data, pemilihan, instansi_berbeda, pemenang_file, pemenang_dimuat_pada,"
            " instansi_pemenang, digantikan_file, digantikan_dimuat_pada, instansi_digantikan, pemenang_batch_id,"
            f" digantikan_batch_id FROM audit.release_conflict{where}"
            " ORDER BY tanggal_data DESC, penerbit, pemilihan, digantikan_dimuat_pada DESC"
        )
        show(query(settings, sql, params), "no conflicting national releases", args.limit)
        return 0
    sql = (
        "SELECT * FROM (SELECT r.penerbit, r.tanggal_data, r.pemilihan, r.judul, b.ingested_at AS dimuat_pada,"
        " (SELECT COUNT(*) FROM core.national_release_fact AS f WHERE f.batch_id = r.batch_id) AS instansi,"
        " CASE WHEN s.digantikan_batch_id IS NULL THEN 'berlaku'"
        " WHEN s.instansi_berbeda > 0 THEN 'digantikan (konflik)' ELSE 'digantikan (identik)' END AS keputusan,"
        " s.pemenang_batch_id AS digantikan_oleh, r.batch_id, b.file_name"
        " FROM core.national_release AS r LEFT JOIN landing.batch AS b ON b.batch_id = r.batch_id"
        " LEFT JOIN audit.release_supersession AS s ON s.digantikan_batch_id = r.batch_id) AS rilis"
        f"{where} ORDER BY tanggal_data DESC, penerbit, pemilihan, dimuat_pada DESC, batch_id"
    )
    show(query(settings, sql, params), "no national release", args.limit)
    return 0


def resolve(args: argparse.Namespace, settings: Settings) -> int:
    from include.netralitas.reference.catalogue import load_catalogue

    catalogue = load_catalogue(settings.aliases_file)
    unresolved = 0
    for name in args.names:
        result = catalogue.resolve(name)
        if result.ok:
            print(f"{name!r}: {result.kode} {catalogue.instansi[result.kode].nama}")
            continue
        unresolved += 1
        candidates = "; ".join(f"{k} {catalogue.instansi[k].nama}" for k in result.candidates)
        print(f"{name!r}: not resolved ({result.reason})" + (f"; candidates: {candidates}" if candidates else ""))
    source = settings.aliases_file or "none (NETRALITAS_ALIASES_FILE is not set)"
    print(f"aliases file: {source}")
    return 1 if unresolved and args.strict else 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = main.add_subparsers(dest="command", required=True)

    def command(name: str, run: Callable[[argparse.Namespace, Settings], int], help_text: str):
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(run=run)
        return sub

    sub = command("batches", batches, "the manifest (landing.batch), newest first")
    sub.add_argument("--problems", action="store_true", help="only rejected batches and batches with quarantine")
    sub.add_argument("--office", help="only this kode_kantor")
    sub.add_argument("--limit", type=int, default=50)

    sub = command("quarantine", quarantine, "quarantined rows of loaded batches with their rule and reason")
    sub.add_argument("--batch", help="only this batch_id")
    sub.add_argument("--column", help="only this column (kolom), e.g. instansi")
    sub.add_argument("--reason", help="only reasons containing this text (case-insensitive)")
    sub.add_argument("--all", action="store_true", help="also rows already released by a replay")
    mode = sub.add_mutually_exclusive_group()
    mode.add_argument("--summary", action="store_true", help="counts per column, rule and level")
    mode.add_argument("--ids", action="store_true", help="only the batch ids, one a line (for tools/replay.py)")
    mode.add_argument("--conf", action="store_true", help="the batch ids as the replay_quarantine DAG's run conf")
    sub.add_argument("--limit", type=int, default=100)

    sub = command("validation", validation, "Great Expectations results (audit.validation_result)")
    sub.add_argument("--suite", help="case_report_v1, national_release_v1 or warehouse_v1")
    sub.add_argument("--failed", action="store_true", help="only failed expectations")
    sub.add_argument("--batch", help="every result of this batch_id (warehouse_v1 results: 'warehouse')")

    sub = command("pulls", pulls, "the latest API pull of each office (landing.api_pull)")
    sub.add_argument("--failed", action="store_true", help="only offices whose latest pull failed")
    sub.add_argument("--office", help="only this kode_kantor")
    sub.add_argument("--limit", type=int, default=100)

    command("endpoints", endpoints, "check the endpoints file (NETRALITAS_OFFICE_ENDPOINTS) and list it")

    sub = command("publications", publications, "published weeks (mart.publication) and audit.publication_log")
    sub.add_argument("--week", help="only this ISO week, YYYY-Www")

    sub = command("releases", releases, "national releases, which is in force, and the conflicts between them")
    sub.add_argument("--conflicts", action="store_true", help="only superseded releases with other figures")
    sub.add_argument("--penerbit", help="only this publisher (BAWASLU, KASN, BKN)")
    sub.add_argument("--limit", type=int, default=100)

    sub = command("resolve", resolve, "how the resolver reads instansi names (with the aliases file)")
    sub.add_argument("names", nargs="+")
    sub.add_argument("--strict", action="store_true", help="exit 1 when a name is not resolved")
    return main


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends the output quietly
    args = parser().parse_args(argv)
    if getattr(args, "batch", None) and args.batch != "warehouse" and not BATCH_ID.match(args.batch):
        print(f"--batch {args.batch!r} is not a batch id (64 hex digits)", file=sys.stderr)
        return 2
    try:
        return args.run(args, get_settings())
    except OpsError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
