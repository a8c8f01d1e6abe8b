"""The distributed path, natively (issue: running it for real): the api-server, scheduler, dag-processor and a
Celery worker run as separate processes, Redis is the broker and PostgreSQL holds both the metadata database
and the warehouse, each in a database this test creates. The chain is driven through the REST API, exactly
as an operator would, and every process is stopped afterwards.

Needs PostgreSQL and Redis: skipped with the reason when either is missing, failed instead under CI=true.
"""

from __future__ import annotations

import csv
import json
import socket
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests.conftest import _pg_admin_engine, require_service
from tools.chain import demo_data
from tools.native_stack import NativeStack

REDIS = ("127.0.0.1", 6379)
BUDGET_S = 480  # the whole chain on a 2-core machine takes 2-3 minutes; this only bounds a hang
TERMINAL = {"success", "failed"}
WEEK = "2024-W48"


def _redis_available() -> str | None:
    try:
        with socket.create_connection(REDIS, timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return None
            return f"the server at {REDIS[0]}:{REDIS[1]} does not answer PING like Redis"
    except OSError as exc:
        return f"no Redis at {REDIS[0]}:{REDIS[1]}: {exc}"


@pytest.fixture
def redis_broker() -> str:
    require_service("Redis", _redis_available())
    return f"redis://{REDIS[0]}:{REDIS[1]}/0"


@pytest.fixture
def databases(pg_server: str):
    """An Airflow metadata database and a warehouse database, dropped afterwards."""
    suffix = uuid.uuid4().hex[:10]
    names = {"metadata": f"netralitas_e2e_airflow_{suffix}", "warehouse": f"netralitas_e2e_wh_{suffix}"}
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield {role: make_url(pg_server).set(database=name).render_as_string(hide_password=False)
           for role, name in names.items()}  # fmt: skip
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class Chain:
    """Drives DAG runs through the REST API within one time budget."""

    def __init__(self, stack: NativeStack, budget_s: float) -> None:
        self.stack = stack
        self.deadline = time.monotonic() + budget_s

    def wait(self, what: str, condition, interval: float = 2.0):
        while time.monotonic() < self.deadline:
            self.stack.check_alive()
            result = condition()
            if result:
                return result
            time.sleep(interval)
        logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
                         for p in sorted(self.stack.log_dir.glob("*.log")))  # fmt: skip
        raise TimeoutError(f"gave up waiting for {what} within the budget\n{logs}")

    def runs(self, dag_id: str) -> list[dict]:
        return self.stack.api("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"]

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        body = {"logical_date": None, "conf": conf or {}, "note": "tests/e2e/test_celery.py"}
        return self.stack.api("POST", f"/dags/{dag_id}/dagRuns", json=body)["dag_run_id"]

    def finished(self, dag_id: str, run_id: str) -> dict:
        def ended():
            run = self.stack.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
            return run if run["state"] in TERMINAL else None

        run = self.wait(f"{dag_id} {run_id}", ended)
        if run["state"] != "success":
            tasks = self.stack.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
            states = {t["task_id"]: t["state"] for t in tasks}
            raise AssertionError(f"{dag_id} {run_id} ended {run['state']}: {states}")
        return run


def test_the_chain_runs_on_celery_workers_and_publishes(tmp_path: Path, monkeypatch, databases, redis_broker):
    from include.netralitas.settings import get_settings
    from include.netralitas.weeks import IsoWeek

    queue = f"netralitas-e2e-{uuid.uuid4().hex[:8]}"  # a queue of its own: no other worker takes its tasks
    monkeypatch.setenv("NETRALITAS_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("NETRALITAS_WAREHOUSE_URL", databases["warehouse"])
    monkeypatch.setenv("NETRALITAS_HMAC_KEY", "e2e-key-not-secret")
    # the weekly DAG would otherwise catch up on every week since 2024 once unpaused
    monkeypatch.setenv("NETRALITAS_PUBLISH_FIRST_WEEK", str(IsoWeek.containing(_now())))
    settings = get_settings()
    stack = NativeStack(tmp_path / "airflow", databases["metadata"], databases["warehouse"], redis_broker, queue)
    stack.migrate()
    with demo_data(settings) as sample:
        stack.start()
        try:
            stack.wait_healthy()
            chain = Chain(stack, BUDGET_S)
            dag_ids = ("ingest_case_reports", "ingest_national_releases", "build_warehouse", "publish_weekly_ranking")
            chain.wait("the dag-processor to parse the DAGs", lambda: {d["dag_id"] for d in stack.api(
                "GET", "/dags", params={"limit": 100})["dags"]} >= set(dag_ids))  # fmt: skip
            for dag_id in dag_ids:
                stack.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

            ingestion = {dag_id: chain.trigger(dag_id) for dag_id in dag_ids[:2]}
            for dag_id, run_id in ingestion.items():
                chain.finished(dag_id, run_id)
            # build_warehouse is triggered by the ingestion Assets, not by us
            builds = chain.wait(
                "build_warehouse runs triggered by the Assets to end",
                lambda: (runs := chain.runs("build_warehouse")) and all(r["state"] in TERMINAL for r in runs) and runs,
            )
            assert {r["run_type"] for r in builds} == {"asset_triggered"}
            assert [r["state"] for r in builds] == ["success"] * len(builds)

            publish_run = chain.trigger("publish_weekly_ranking", {"week": WEEK, "force_reason": None})
            chain.finished("publish_weekly_ranking", publish_run)

            runs = {dag_id: chain.runs(dag_id) for dag_id in dag_ids}
            task_instances = [
                ti
                for dag_id, dag_runs in runs.items()
                for run in dag_runs
                if run["state"] in TERMINAL
                for ti in stack.api("GET", f"/dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances")[
                    "task_instances"
                ]
            ]
        finally:
            stack.stop()

    ended = [(dag_id, r["state"]) for dag_id, dag_runs in runs.items() for r in dag_runs if r["state"] in TERMINAL]
    assert ended
    assert all(state == "success" for _, state in ended), ended
    assert {ti["queue"] for ti in task_instances} == {queue}
    assert {ti["state"] for ti in task_instances} == {"success"}

    # every task went through Celery: the result backend holds one successful result per task try
    engine = create_engine(databases["metadata"].replace("postgresql://", "postgresql+psycopg://", 1),
                           poolclass=NullPool)  # fmt: skip
    with engine.connect() as conn:
        celery_results = conn.execute(text("SELECT status, count(*) FROM celery_taskmeta GROUP BY status")).all()
    assert dict(celery_results).get("SUCCESS", 0) >= len(task_instances)

    # and the ranking was published from the warehouse the workers filled
    folder = settings.publish_dir / WEEK
    with (folder / "ranking.csv").open(newline="", encoding="utf-8") as handle:
        ranking = list(csv.DictReader(handle))
    assert len(ranking) > 10
    assert "SEMUA" in {row["pemilihan"] for row in ranking}
    assert json.loads((folder / "ranking.json").read_text())["minggu"] == WEEK
    warehouse = create_engine(databases["warehouse"].replace("postgresql://", "postgresql+psycopg://", 1),
                              poolclass=NullPool)  # fmt: skip
    with warehouse.connect() as conn:
        loaded = conn.execute(text("SELECT sum(rows_in) FROM landing.batch WHERE contract = 'case-report/v1'")).scalar()
        published = conn.execute(text("SELECT count(*) FROM mart.publication WHERE minggu = :w"), {"w": WEEK}).scalar()
    assert loaded == sample.case_rows
    assert published == 1


def _now():
    from datetime import datetime

    from include.netralitas.weeks import WIB

    return datetime.now(WIB)
