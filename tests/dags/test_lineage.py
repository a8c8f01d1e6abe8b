"""OpenLineage: off by default, on when a transport is configured through the environment
(`AIRFLOW__OPENLINEAGE__TRANSPORT`); then every task run of our DAGs emits START and COMPLETE events."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

RUN = """
from airflow.dag_processing.dagbag import DagBag
dag = DagBag(dag_folder="dags/ingest_national_releases.py").dags["ingest_national_releases"]
for task in dag.tasks:
    task.retries = 0
print("STATE", dag.test().state)
"""
IS_DISABLED = "from airflow.providers.openlineage.conf import is_disabled; print(is_disabled())"


def _env(tmp_path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "OPENLINEAGE" not in k}
    env.update({"PYTHONPATH": str(ROOT), "NETRALITAS_VAR_DIR": str(tmp_path / "var"), **extra})
    return env


@pytest.mark.integration  # three Python processes that import Airflow
def test_openlineage_is_off_unless_a_transport_is_configured(tmp_path):
    def disabled(**extra: str) -> str:
        out = subprocess.run([sys.executable, "-c", IS_DISABLED], env=_env(tmp_path, **extra), cwd=ROOT,
                             capture_output=True, text=True, check=True)  # fmt: skip
        return out.stdout.strip().splitlines()[-1]

    assert disabled() == "True"
    assert disabled(AIRFLOW__OPENLINEAGE__TRANSPORT='{"type": "console"}') == "False"
    assert disabled(AIRFLOW__OPENLINEAGE__TRANSPORT='{"type": "console"}', AIRFLOW__OPENLINEAGE__DISABLED="True") == (
        "True"
    )


def test_with_a_transport_each_task_run_emits_openlineage_events(airflow_db, tmp_path):
    events = tmp_path / "openlineage.jsonl"
    transport = json.dumps({"type": "file", "log_file_path": str(events), "append": True})
    env = _env(tmp_path, AIRFLOW__OPENLINEAGE__TRANSPORT=transport, AIRFLOW__OPENLINEAGE__NAMESPACE="netralitas")
    out = subprocess.run([sys.executable, "-c", RUN], env=env, cwd=ROOT, capture_output=True, text=True)
    assert "STATE success" in out.stdout, out.stdout[-2000:] + out.stderr[-2000:]
    emitted = [json.loads(line) for line in events.read_text().splitlines()]
    seen = {(e["eventType"], e["job"]["namespace"], e["job"]["name"]) for e in emitted}
    assert ("START", "netralitas", "ingest_national_releases.ingest") in seen
    assert ("COMPLETE", "netralitas", "ingest_national_releases.ingest") in seen
    assert ("COMPLETE", "netralitas", "ingest_national_releases") in seen  # the DAG run as a whole
