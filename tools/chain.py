"""Run the DAG chain for one ISO week, in-process with `dag.test()` (no scheduler needed).

    python tools/chain.py --week 2024-W48 [--demo] [--force-reason TEXT]

Order: ingest_case_reports -> ingest_national_releases -> build_warehouse -> publish_weekly_ranking.
`--demo` first writes the bundled sample data into the drop folder, serves the API offices' share of it from
a sample office API on loopback (stopped afterwards) and creates a local pseudonymisation key when none
exists. `make demo` and `make run` call this with their Airflow home under `var/`.
Exits non-zero when a DAG run does not succeed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from include.netralitas.weeks import WIB, IsoWeek  # noqa: E402

CHAIN = ("ingest_case_reports", "ingest_national_releases", "build_warehouse", "publish_weekly_ranking")


def logical_date_for(week: IsoWeek) -> datetime:
    """Monday 07:00 WIB after the week: the publication's data interval is then exactly that week."""
    return datetime.combine(week.monday + timedelta(days=7), time(7, 0), tzinfo=WIB)


def run_chain(week: IsoWeek, *, force_reason: str | None = None, dag_folder: Path = ROOT / "dags") -> dict:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dag_folder))
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")
    conf = {"week": str(week), "force_reason": force_reason}
    outcome = {}
    for dag_id in CHAIN:
        dag = bag.dags[dag_id]
        for task in dag.tasks:  # a one-shot local run fails at once instead of waiting out retry delays
            task.retries = 0
        # nothing watches deadlines in a one-shot run, and dag.test() of a DAG that declares one fails after
        # its tasks succeeded (Airflow 3.3.2; tests/include/test_alerts.py notices when that is fixed)
        dag.deadline = None
        run = dag.test(logical_date=logical_date_for(week), run_conf=conf if dag.params else None)
        state = str(getattr(run, "state", None)).rsplit(".", 1)[-1].lower()
        outcome[dag_id] = state
        if state != "success":
            raise SystemExit(f"{dag_id}: run ended {state}; see the task log above")
    return outcome


@contextmanager
def demo_data(settings):
    """Drop the sample files and serve the API offices' rows on loopback, with the connection and the
    endpoints file that the ingestion DAG reads; the server stops afterwards."""
    from include.netralitas.generator import generate_sample
    from include.netralitas.office_api import SampleOfficeApi

    api_rows: dict[str, list[dict[str, str]]] = {}
    summary = generate_sample(settings.drop_dir, api_rows=api_rows)
    token = secrets.token_urlsafe(24)
    server = SampleOfficeApi(api_rows, token=token)
    port = int(server.start().rsplit(":", 1)[1])
    endpoints = settings.var_dir / "sample-api" / "endpoints.csv"
    endpoints.parent.mkdir(parents=True, exist_ok=True)
    endpoints.write_text("kode_kantor,base_url,conn_id\n" + "".join(f"{k},,\n" for k in sorted(api_rows)))
    connection = {"conn_type": "http", "host": "127.0.0.1", "port": port, "schema": "http", "password": token}
    saved = {k: os.environ.get(k) for k in ("AIRFLOW_CONN_NETRALITAS_OFFICE_API", "NETRALITAS_OFFICE_ENDPOINTS")}
    os.environ["AIRFLOW_CONN_NETRALITAS_OFFICE_API"] = json.dumps(connection)
    os.environ["NETRALITAS_OFFICE_ENDPOINTS"] = str(endpoints)
    print(f"sample office API for {len(api_rows)} offices on http://127.0.0.1:{port}")
    try:
        yield summary
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--week", required=True, help="ISO week YYYY-Www, e.g. 2024-W48")
    parser.add_argument("--demo", action="store_true", help="drop the bundled sample data first")
    parser.add_argument("--force-reason", help="re-publish an already published week, with this reason")
    parser.add_argument("--summary", help="also write the closing summary to this file")
    args = parser.parse_args(argv)
    week = IsoWeek.parse(args.week)

    from include.netralitas.settings import get_settings, hmac_key
    from include.netralitas.validation import data_docs_index

    settings = get_settings()
    if args.demo:
        hmac_key(settings, create=True)
        with demo_data(settings) as summary:
            print(f"sample data: {summary.case_files} case reports ({summary.case_rows} rows) for all offices")
            outcome = run_chain(week, force_reason=args.force_reason)
    else:
        outcome = run_chain(week, force_reason=args.force_reason)
    folder = settings.publish_dir / str(week)
    lines = [f"{dag_id}: {state}" for dag_id, state in outcome.items()]
    lines += [
        f"Published week {week} (cut-off {week.cutoff:%Y-%m-%d %H:%M:%S} WIB):",
        f"  ranking.csv: {folder / 'ranking.csv'}",
        f"  index.html:  {folder / 'index.html'}",
        f"Validation reports (Great Expectations Data Docs): {data_docs_index(settings.gx_dir)}",
    ]
    summary = "\n".join(lines) + "\n"
    if args.summary:
        Path(args.summary).write_text(summary)
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
