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


def test_the_data_docs_render_offline_with_every_result_listed_and_styled(made_demo, tmp_path):
    from tests.e2e.chromium import offline_chromium

    site = made_demo.var / "gx" / "gx" / "uncommitted" / "data_docs" / "local_site"
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 5
    for page in pages:  # nothing left to fetch from the network: every stylesheet and script is the site's own
        html = page.read_text(encoding="utf-8")
        assert not re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="https?://', html), page
    with offline_chromium(tmp_path / "profile") as tab:
        tab.open(site.joinpath("index.html").as_uri())
        assert tab.evaluate("typeof jQuery === 'function' && typeof jQuery.fn.bootstrapTable === 'function'")
        # Bootstrap's stylesheet applied: its system font stack, not the browser's default serif
        assert "apple-system" in tab.evaluate("getComputedStyle(document.body).fontFamily")
        assert tab.evaluate("getComputedStyle(document.querySelector('.navbar, nav')).display") == "flex"
        rows = tab.evaluate(  # the validation results: one row per suite run, its status an icon
            "[...document.querySelectorAll('table tbody tr')].filter(r => r.cells.length > 2)"
            ".map(r => r.innerText.replace(/\\s+/g, ' ').trim() + ' | ' + r.innerHTML)"
        )
        suites = ("case_report_v1", "national_release_v1", "national_release_v1_warnings", "warehouse_v1")
        for suite in suites:
            assert any(suite in row for row in rows), (suite, rows[:5])
        [case_row] = [row for row in rows if "case_report_v1" in row and "manual__" in row]
        assert "netralitas.case_report_v1" in case_row  # the data asset, no longer "None"
        # the warehouse checks passed; its reconciliation gap is a warning, in a suite of its own
        [warehouse_row] = [row for row in rows if re.search(r"warehouse_v1 \|", row)]
        assert "text-success" in warehouse_row
        assert "text-danger" not in warehouse_row
        shots = ROOT / "var" / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        tab.screenshot(shots / "data-docs-offline.png")
        result_page = next(site.glob("validations/case_report_v1/manual__*/*/*.html"))
        tab.open(result_page.as_uri())
        text = tab.evaluate("document.body.textContent")  # with the collapsed "more info" part
        assert re.search(r"Run Name\s*manual__", text)
        assert "netralitas.case_report_v1" in text
        assert re.search(r"\d{2}(\.\d{2})? · \d{2}(\.\d{2})?_\S+\.(csv|json|xlsx)\s*batch [0-9a-f]{12}", text)
    assert (shots / "data-docs-offline.png").stat().st_size > 10_000


def test_the_saved_gx_project_reloads_with_every_suite_asset_and_checkpoint(made_demo):
    script = (
        "import json, great_expectations as gx\n"
        f"c = gx.get_context(mode='file', project_root_dir={str(made_demo.var / 'gx')!r})\n"
        "print(json.dumps({'suites': sorted(s.name for s in c.suites.all()),"
        " 'assets': sorted(f'{d.name}.{a.name}' for d in c.data_sources.all().values() for a in d.assets),"
        " 'checkpoints': sorted(k.name for k in c.checkpoints.all())}))\n"
    )
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "False"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Skipping Bad Configs" not in done.stdout + done.stderr
    import json

    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {
        "suites": ["case_report_v1", "national_release_v1", "national_release_v1_warnings", "warehouse_v1",
                   "warehouse_v1_warnings"],
        "assets": ["netralitas.case_report_v1", "netralitas.national_release_v1", "netralitas.warehouse_v1"],
        "checkpoints": ["case_report_v1_checkpoint", "national_release_v1_checkpoint", "warehouse_v1_checkpoint"],
    }  # fmt: skip
