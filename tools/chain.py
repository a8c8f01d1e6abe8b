"""Run the DAG chain for one ISO week, in-process with `dag.test()` (no scheduler needed).

    python tools/chain.py --week 2020-W45 [--demo] [--force-reason TEXT] [--preview]
    python tools/chain.py --check-week TEXT     # print the week if it parses, else exit 2 (used by make run)

Order: ingest_case_reports -> ingest_national_releases -> build_warehouse -> publish_weekly_ranking.
Any week from 2018-W01 up to the last week that has ended can be run; a week that has not ended is refused
unless `--preview` (rendered to `<publish>/preview/<week>/`, never frozen). `--demo` first writes the
bundled sample data into the drop folder, serves the API offices' share of it from a sample office API on
loopback (stopped afterwards) and creates a local pseudonymisation key when none exists. `make demo` and
`make run` call this with their Airflow home under `var/`.

Honest: a DAG run counts as done only when every task of the DAG has a task instance that succeeded; a run
in which an expected task did not run fails the chain with the DAG and the reason (e.g. "no task instance:
logical date before the DAG's start"). The summary names only files that exist, says whether the week was
newly published, re-rendered from its frozen snapshot or re-published (with the reason), and gives the row
accounting per source from `landing.batch` of this run. Exits non-zero when a DAG run does not succeed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from include.netralitas.weeks import IsoWeek, WeekNotPublishable, publishable_week  # noqa: E402

CHAIN = ("ingest_case_reports", "ingest_national_releases", "build_warehouse", "publish_weekly_ranking")
INGESTION = {"ingest_case_reports": "ingest", "ingest_national_releases": "ingest"}
PUBLISH_TASK = ("publish_weekly_ranking", "publish")


class ChainFailed(SystemExit):
    """A DAG run of the chain did not do its work: the message names the DAG and why."""


@dataclass
class ChainRun:
    """What the chain did: each DAG's run id and state, and the return values of the tasks that matter."""

    week: IsoWeek
    states: dict[str, str] = field(default_factory=dict)
    run_ids: dict[str, str] = field(default_factory=dict)
    returns: dict[str, Any] = field(default_factory=dict)  # "dag_id.task_id" -> XCom return value

    def values(self):  # the DAG states, as the old dict-shaped result gave them
        return self.states.values()

    @property
    def publication(self) -> dict | None:
        return self.returns.get(".".join(PUBLISH_TASK))


def check_run(dag, run) -> dict[str, Any]:
    """Raise ChainFailed unless every task of `dag` ran and succeeded in `run`; return the tasks' XComs."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    state = str(getattr(run, "state", None)).rsplit(".", 1)[-1].lower()
    with create_session() as session:
        tis = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == dag.dag_id, TaskInstance.run_id == run.run_id)
        ).all()
        states = {ti.task_id: str(ti.state).rsplit(".", 1)[-1].lower() for ti in tis}
        xcoms = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == dag.dag_id, XComModel.run_id == run.run_id, XComModel.key == "return_value"
            )
        ).all()
        returns = {x.task_id: XComModel.deserialize_value(x) for x in xcoms}
    if not states:
        start, logical = dag.start_date, run.logical_date
        why = (
            f"logical date {logical:%Y-%m-%d %H:%M %Z} before the DAG's start {start:%Y-%m-%d %H:%M %Z}"
            if start and logical and logical < start
            else "Airflow created the run without tasks"
        )
        raise ChainFailed(f"{dag.dag_id}: no task instance: {why}; Airflow marked the run {state}, nothing ran")
    missing = sorted(set(dag.task_ids) - set(states))
    if missing:
        raise ChainFailed(f"{dag.dag_id}: task(s) {', '.join(missing)} have no task instance: they never ran")
    not_done = {t: s for t, s in sorted(states.items()) if s != "success"}
    if not_done:
        listed = ", ".join(f"{t} ended {s}" for t, s in not_done.items())
        raise ChainFailed(f"{dag.dag_id}: run {state}: {listed}; see the task log above")
    if state != "success":
        raise ChainFailed(f"{dag.dag_id}: run ended {state}; see the task log above")
    return returns


def run_chain(
    week: IsoWeek,
    *,
    force_reason: str | None = None,
    preview: bool = False,
    dag_folder: Path = ROOT / "dags",
    chain: tuple[str, ...] = CHAIN,
) -> ChainRun:
    from airflow.dag_processing.dagbag import DagBag

    week = publishable_week(week, preview=preview)
    bag = DagBag(dag_folder=str(dag_folder))
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")
    conf = {"week": str(week), "force_reason": force_reason, "preview": preview}
    outcome = ChainRun(week)
    for dag_id in chain:
        dag = bag.dags[dag_id]
        for task in dag.tasks:  # a one-shot local run fails at once instead of waiting out retry delays
            task.retries = 0
        # the scheduled run's moment, Monday 07:00 WIB after the week: the manual run covers exactly that week
        params = {k: v for k, v in conf.items() if k in dag.params}
        run = dag.test(logical_date=week.publication_time, run_conf=params or None)
        outcome.run_ids[dag_id] = run.run_id
        returns = check_run(dag, run)
        outcome.states[dag_id] = "success"
        outcome.returns.update({f"{dag_id}.{task_id}": value for task_id, value in returns.items()})
    return outcome


def row_accounting(warehouse_url: str, run_ids: list[str]) -> list[dict[str, Any]]:
    """Per source (contract and channel) of the batches this run landed: files and rows in/loaded/..."""
    from sqlalchemy import bindparam, text

    from include.netralitas.warehouse.database import Warehouse

    query = text(
        "SELECT contract, source, COUNT(*) AS files, SUM(rows_in) AS rows_in, SUM(rows_loaded) AS loaded,"
        " SUM(rows_quarantined) AS quarantined, SUM(rows_duplicate) AS duplicates,"
        " SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END) AS rejected"
        " FROM landing.batch WHERE run_id IN :runs GROUP BY contract, source ORDER BY contract, source"
    ).bindparams(bindparam("runs", expanding=True))
    wh = Warehouse(warehouse_url)
    try:
        with wh.session() as conn:
            return [dict(r) for r in conn.execute(query, {"runs": run_ids}).mappings()]
    finally:
        wh.engine.dispose()


def summary_text(chain: ChainRun, accounting: list[dict[str, Any]], data_docs: Path) -> str:
    lines = [f"{dag_id}: {state} (run {chain.run_ids[dag_id]})" for dag_id, state in chain.states.items()]
    lines.append("Row accounting of this run (rows in = loaded + quarantined + duplicates):")
    if not accounting:
        lines.append("  no new batch landed (files already loaded, or none dropped)")
    for row in accounting:
        lines.append(
            f"  {row['contract']} ({row['source']}): {row['files']} files, {row['rows_in']} rows in,"
            f" {row['loaded']} loaded, {row['quarantined']} quarantined, {row['duplicates']} duplicates"
            + (f", {row['rejected']} files rejected" if row["rejected"] else "")
        )
    for dag_id, task_id in INGESTION.items():
        counts = chain.returns.get(f"{dag_id}.{task_id}") or {}
        others = {k[len("batches_") :]: v for k, v in counts.items() if k.startswith("batches_")}
        waiting = {k: v for k, v in others.items() if k in ("waiting", "already_loaded", "empty", "rejected")}
        if waiting:
            lines.append(f"  {dag_id} files: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in waiting.items()))
    if any(row["quarantined"] for row in accounting):
        lines.append("  quarantined rows and their reasons: python tools/ops.py quarantine  (docs/runbook.md)")
    week = chain.week
    publication = chain.publication or {}
    lines.append(
        f"Week {week} (cut-off {week.cutoff:%Y-%m-%d %H:%M:%S} WIB): {publication.get('outcome_text', 'not published')}"
        + (f", {publication['rows']} ranked rows" if "rows" in publication else "")
    )
    files = {name: Path(path) for name, path in (publication.get("files") or {}).items() if Path(path).is_file()}
    for name in ("ranking.csv", "index.html", "ranking.json", "chart.png", "datapackage.json"):
        if name in files:
            lines.append(f"  {name + ':':<17} {files[name]}")
    pages = sorted(name for name in files if name.startswith("provinsi/"))
    if pages:
        lines.append(
            f"  {'provinsi/:':<17} {files[pages[0]].parent} ({len(pages)} province page{'s' * (len(pages) > 1)})"
        )
    if not files:
        lines.append("  no published file exists")
    if data_docs.is_file():
        lines.append(f"Validation reports (Great Expectations Data Docs): {data_docs}")
    return "\n".join(lines) + "\n"


@contextmanager
def demo_data(settings):
    """Drop the sample files and serve the API offices' rows on loopback, with the connection and the
    endpoints file that the ingestion DAG reads; the server stops afterwards."""
    from include.netralitas.sample.generator import generate_sample
    from include.netralitas.sample.office_api import SampleOfficeApi

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
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--week", help="ISO week YYYY-Www, from 2018-W01 to the last week that has ended")
    what.add_argument("--check-week", help="only parse this week and print it (exit 2 when malformed)")
    parser.add_argument("--demo", action="store_true", help="drop the bundled sample data first")
    parser.add_argument("--force-reason", help="re-publish an already published week, with this reason")
    parser.add_argument("--preview", action="store_true", help="a week that has not ended: render, never freeze")
    parser.add_argument("--summary", help="also write the closing summary to this file")
    args = parser.parse_args(argv)
    if args.check_week is not None:
        try:
            print(IsoWeek.parse(args.check_week))
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    try:
        week = publishable_week(args.week, preview=args.preview)
    except (ValueError, WeekNotPublishable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.force_reason is not None and not args.force_reason.strip():
        parser.error("--force-reason needs a reason (it is recorded and shown with the week)")

    # a one-shot local run has nobody to answer the sign-off: approve it unless the operator chose otherwise
    os.environ.setdefault("NETRALITAS_PUBLISH_APPROVAL", "auto")
    from include.netralitas.quality.gx import data_docs_index
    from include.netralitas.settings import get_settings, hmac_key

    settings = get_settings()
    try:
        if args.demo:
            hmac_key(settings, create=True)
            with demo_data(settings) as sample:
                print(f"sample data: {sample.case_files} case reports ({sample.case_rows} rows) for all offices")
                chain = run_chain(week, force_reason=args.force_reason, preview=args.preview)
        else:
            chain = run_chain(week, force_reason=args.force_reason, preview=args.preview)
    except ChainFailed as exc:
        message = f"chain failed for {week}: {exc}\n"
        if args.summary:
            Path(args.summary).write_text(message)
        print(message, file=sys.stderr)
        return 1
    accounting = row_accounting(settings.warehouse_url, list(chain.run_ids.values()))
    summary = summary_text(chain, accounting, data_docs_index(settings.gx_dir))
    if args.summary:
        Path(args.summary).write_text(summary)
    print(summary)
    return 0


def exit_now(code: int) -> None:
    """End the process as Airflow ends a task's process: exit handlers run (logging is flushed), then
    `os._exit`, skipping the interpreter's module teardown. In that teardown DuckDB's nanobind bindings print
    a ~40-line "nanobind: leaked ... instances" report once Great Expectations has run in the process (the
    module globals of `duckdb.sqltypes` outlive nanobind's check): no leak of ours, but noise at the end of
    every `make demo` and `make run` log."""
    import atexit

    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
