"""The data engineer's seat (issue 18), on one real `make demo` run in a var/ of its own: its log is quiet and
says one line per office and per file, the Great Expectations project it leaves reloads whole and its Data
Docs render with no network, and its freshness warning names only the offices that sent nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def made_demo(tmp_path_factory):
    """`make demo VAR=<tmp>`: the Makefile's own recipe, log and all, in a temporary var/."""
    var = tmp_path_factory.mktemp("seat-var")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETRALITAS_", "AIRFLOW", "PYTHONPATH"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        ["make", "demo", f"VAR={var}"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    log = (var / "logs" / "demo.log").read_text(errors="replace")
    assert done.returncode == 0, f"make demo failed:\n{done.stdout[-2000:]}\n{log[-3000:]}"
    return SimpleNamespace(var=var, log=log, output=done.stdout + done.stderr)


def _task_log(log: str, dag_id: str, task_id: str) -> str:
    """The lines the task logged in the demo (`dag.test()` runs each task in-process: its log is this span)."""
    runs = re.split(r"(?=Created dag run\.)", log)
    [run] = [part for part in runs if f"<DagRun {dag_id} @" in part.split("\n", 1)[0]]
    start = run.index(f"[DAG TEST] starting task_id={task_id} ")
    return run[start : run.index(f"[DAG TEST] end task task_id={task_id} ", start)]


def test_the_demo_log_is_quiet_and_says_one_line_per_office_and_file(made_demo):
    ingest = _task_log(made_demo.log, "ingest_case_reports", "ingest")
    pull = _task_log(made_demo.log, "ingest_case_reports", "pull_office_apis")
    for text in (made_demo.log, made_demo.output, ingest, pull):
        assert "Skipping registering" not in text
        assert not [line for line in text.splitlines() if "leaked" in line]
    # GX still ran (its Data Docs are there) and its warnings would still show: only its INFO is held back
    assert (made_demo.var / "gx" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").is_file()
    assert "great_expectations" not in ingest

    files = re.findall(r"case-report/v1 (\S+) \[[^\]]*\] (?:loaded|empty|rejected|quarantined)", ingest)
    assert len(files) > 500
    assert len(files) == len(set(files)), "a file has more than one summary line"
    offices = re.findall(r"office API (\S+): ", pull)
    assert len(offices) > 10
    assert len(offices) == len(set(offices)), "an office has more than one summary line"
    assert not re.search(r"\boffice \d+(\.\d+)?: \d+ rows in", pull), "the client's line repeats the summary"
