"""The data engineer's seat (issue 18), on one real `make demo` run in a var/ of its own: its log is quiet and
says one line per office and per file, the Great Expectations project it leaves reloads whole and its Data
Docs render with no network, and its freshness warning names only the offices that sent nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def made_demo(demo_build):
    """`make demo VAR=<tmp>`: the Makefile's own recipe, log and all, in a temporary var/ (the session's demo
    build, tests/conftest.py `demo_build`, read before the runbook's commands change it)."""
    return SimpleNamespace(var=demo_build.var, log=demo_build.log, output=demo_build.output)


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
        cdn = "fetch('https://code.jquery.com/jquery-3.7.1.min.js', {mode: 'no-cors'})"
        assert tab.evaluate(f"{cdn}.then(() => 'reached', () => 'blocked')") == "blocked"  # really offline
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


def _warehouse_numbers(var: Path) -> dict:
    """What the page must show, read from the demo's warehouse before the api-server opens it."""
    from include.netralitas.warehouse.database import Warehouse

    wh = Warehouse(f"duckdb:///{var / 'warehouse.duckdb'}")
    try:
        with wh.session() as conn:
            quarantined = conn.exec_driver_sql(
                "SELECT kode_kantor, SUM(rows_quarantined) FROM landing.batch WHERE rows_quarantined > 0"
                " AND contract = 'case-report/v1' GROUP BY kode_kantor"
            ).all()
            offices = conn.exec_driver_sql("SELECT kode, nama FROM core.region").all()
    finally:
        wh.engine.dispose()
    return {"quarantined": dict(quarantined), "offices": dict(offices)}


@pytest.fixture(scope="module")
def api_server(made_demo, tmp_path_factory):
    """`airflow api-server` with the plugins folder, on the demo's Airflow home and warehouse, simple auth
    manager with a user whose password this fixture sets; stopped afterwards."""
    import json
    import secrets
    import signal
    import time

    import requests

    from tools.native_stack import AIRFLOW, free_port

    port, password = free_port(), secrets.token_urlsafe(12)
    passwords = tmp_path_factory.mktemp("auth") / "passwords.json"
    passwords.write_text(json.dumps({"engineer": password}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETRALITAS_", "AIRFLOW"))}
    env.update({
        "PYTHONPATH": str(ROOT), "AIRFLOW_HOME": str(made_demo.var / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"), "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "engineer:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "NETRALITAS_VAR_DIR": str(made_demo.var), "GX_ANALYTICS_ENABLED": "False", "NO_COLOR": "1",
        # for a DAG run through an executor (test_a_task_log_...): its workers report to this api-server
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
    })  # fmt: skip
    log = made_demo.var / "logs" / "api-server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [AIRFLOW, "api-server", "--port", str(port), "--workers", "1"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, log.read_text()[-3000:]
            try:
                if requests.get(f"{base}/api/v2/monitor/health", timeout=5).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(1)
        token = requests.post(
            f"{base}/auth/token", json={"username": "engineer", "password": password}, timeout=30
        ).json()["access_token"]
        yield SimpleNamespace(base=base, token=token, log=log, env=env)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_the_netralitas_page_lists_the_offices_and_refuses_strangers(made_demo, api_server, tmp_path):
    import html

    import requests

    from tests.e2e.chromium import offline_chromium

    expected = _warehouse_numbers(made_demo.var)
    base, bearer = api_server.base, {"Authorization": f"Bearer {api_server.token}"}
    # the UI knows the view: the route /plugin/netralitas embeds the plugin's page
    plugins = requests.get(f"{base}/api/v2/plugins", headers=bearer, timeout=30).json()["plugins"]
    [view] = [v for p in plugins if p["name"] == "netralitas_status" for v in p["external_views"]]
    assert (view["url_route"], view["href"], view["destination"]) == ("netralitas", "/netralitas/", "nav")
    assert requests.get(f"{base}/plugin/netralitas", timeout=30).status_code == 200  # the UI's page (SPA)

    page_url = f"{base}{view['href']}"
    assert requests.get(page_url, timeout=30).status_code == 401  # no session: refused
    forged = {"_token": api_server.token[:-4] + "AAAA"}
    assert requests.get(page_url, cookies=forged, timeout=30).status_code in (401, 403)
    response = requests.get(page_url, cookies={"_token": api_server.token}, timeout=60)  # the UI's session cookie
    assert response.status_code == 200, response.text[:500]
    page = html.unescape(response.text)
    for kode, nama in expected["offices"].items():  # every office of the demo, by name
        assert f"<td>{kode}</td><td>{nama}</td>" in page, kode
    assert len(expected["quarantined"]) > 5
    for kode, rows in expected["quarantined"].items():  # each office's quarantined rows, and the reasons
        assert re.search(rf"<td>{re.escape(kode)}</td><td>[^<]*</td><td class=\"partly_quarantined\">", page), kode
        listed = re.findall(
            rf'<tr><td>{re.escape(kode)}</td><td>[^<]*</td><td>[^<]+</td><td class="n">(\d+)</td>', response.text
        )  # fmt: skip (escaped text: a reason may hold "<kode_kantor>")
        assert sum(map(int, listed)) == rows, kode
    assert "partly quarantined: <strong>" in response.text.replace("\n  ", " ")
    assert requests.get(page_url, headers=bearer, timeout=60).status_code == 200  # an API client's token too

    shots = ROOT / "var" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with offline_chromium(tmp_path / "profile") as tab:
        cookie = {"name": "_token", "value": api_server.token, "url": base, "path": "/"}
        tab.run(("Network.enable", {}), ("Network.setCookie", cookie))
        tab.open(f"{base}/plugin/netralitas", settle_js=(
            "!!document.querySelector('iframe') && !!document.querySelector('iframe').contentDocument"
            " && document.querySelector('iframe').contentDocument.body.innerText.includes('Quarantine')"))  # fmt: skip
        tab.screenshot(shots / "airflow-netralitas-page.png", height=1400)
    assert (shots / "airflow-netralitas-page.png").stat().st_size > 20_000


def test_the_demo_warns_only_about_offices_that_sent_nothing(made_demo):
    """The API offices' batches were fetched today but report rows of the demo week: they count then."""
    import csv

    from include.netralitas.reference.catalogue import load_catalogue
    from include.netralitas.warehouse.database import Warehouse

    check = _task_log(made_demo.log, "ingest_case_reports", "check_freshness")
    [stale] = re.findall(r"'offices_stale': (\d+)", check)
    wh = Warehouse(f"duckdb:///{made_demo.var / 'warehouse.duckdb'}")
    try:
        with wh.session() as conn:
            reported = set(conn.exec_driver_sql(
                "SELECT DISTINCT kode_kantor FROM landing.batch WHERE contract = 'case-report/v1'"
                " AND status IN ('loaded', 'empty')").scalars())  # fmt: skip
    finally:
        wh.engine.dispose()
    with (made_demo.var / "sample-api" / "endpoints.csv").open(newline="") as handle:
        api_offices = {row["kode_kantor"] for row in csv.DictReader(handle)}
    assert len(api_offices) > 10
    assert api_offices <= reported
    silent = set(load_catalogue().regions) - reported
    assert int(stale) == len(silent)  # every office of the demo sent its report in the week: none is stale
    warned = set(re.findall(r"^(\d{2}(?:\.\d{2})?) \S.*(?:belum ada laporan|laporan terakhir)", check, re.M))
    assert warned == silent
    assert not warned & api_offices


def test_a_task_log_of_ingest_case_reports_is_quiet(made_demo, api_server):
    """A real task log: `ingest_case_reports` run through the LocalExecutor (each task in a supervised worker
    process, its log written to the Airflow home), on a new file with a row to quarantine."""
    drop = made_demo.var / "drop" / "case-reports"
    drop.mkdir(parents=True, exist_ok=True)
    header = (
        "kode_kantor,nomor_kasus,tanggal_temuan,pemilihan,instansi,nip,nama_terlapor,jabatan,jenis_pelanggaran,status"
    )
    rows = ["82.04,901/PL,2024-11-01,PILKADA-2024,Kementerian Agama,,,pelaksana,lainnya,diproses",
            "82.04,902/PL,2024-11-02,PILKADA-2024,Kementerian Agama,,,bupati,lainnya,diproses"]  # fmt: skip
    (drop / "82.04_20241130.csv").write_text("\n".join([header, *rows]) + "\n")
    sent = datetime(2024, 11, 30, 9, 0, tzinfo=UTC).timestamp()  # settled: older than the settle interval
    os.utime(drop / "82.04_20241130.csv", (sent, sent))
    script = (
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(ROOT / 'dags')!r})\n"
        "run = bag.dags['ingest_case_reports'].test(use_executor=True)\n"
        "print('RUN', run.run_id, run.state)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=api_server.env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [(run_id, state)] = re.findall(r"^RUN (\S+) (\S+)$", done.stdout, re.M)
    assert state.endswith("success"), done.stdout[-2000:]
    logs = made_demo.var / "airflow" / "logs" / "dag_id=ingest_case_reports" / f"run_id={run_id}"
    task_log = (logs / "task_id=ingest" / "attempt=1.log").read_text()
    for text in (task_log, (logs / "task_id=pull_office_apis" / "attempt=1.log").read_text(), done.stderr):
        assert "Skipping registering" not in text
        assert not [line for line in text.splitlines() if "leaked" in line]
    assert "great_expectations" not in task_log
    # the file's one summary line, with its accounting
    assert task_log.count("82.04_20241130.csv [82.04]") == 1
    assert "82.04_20241130.csv [82.04] loaded: in=2 loaded=1 quarantined=1 duplicates=0" in task_log
