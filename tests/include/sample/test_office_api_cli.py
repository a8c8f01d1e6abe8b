"""The sample office API as a service (`python -m include.netralitas.sample.office_api`, the compose stack's
`office-api`): started as a real process, asked over HTTP, stopped with SIGTERM."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from include.netralitas.sample.generator import generate_sample
from include.netralitas.sample.office_api import SampleOfficeApi

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "test-token-not-a-secret"


def _get(url: str, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def service(tmp_path):
    """The service on a free port (`--port 0`), its endpoints file in tmp_path; stopped afterwards."""
    endpoints = tmp_path / "sample-api" / "endpoints.csv"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NETRALITAS_OFFICE_API_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "include.netralitas.sample.office_api", "--port", "0", "--page-size", "7",
         "--endpoints-file", str(endpoints)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    first = process.stdout.readline()
    if not first.startswith("serving "):
        process.kill()
        pytest.fail(f"the service did not start: {first!r} {process.communicate()[1]}")
    yield process, first.rsplit(" ", 1)[1].strip(), endpoints
    if process.poll() is None:
        process.kill()
        process.wait()


def test_serves_the_api_share_of_the_sample_and_lists_it_in_the_endpoints_file(service, tmp_path):
    process, url, endpoints = service
    expected: dict[str, list[dict[str, str]]] = {}
    generate_sample(tmp_path / "expected", api_rows=expected)  # the same default seed as the service

    with endpoints.open(newline="") as handle:
        listed = list(csv.DictReader(handle))
    assert [row["kode_kantor"] for row in listed] == sorted(expected)
    assert all(row["base_url"] == "" and row["conn_id"] == "" for row in listed)  # the shared connection

    assert _get(f"{url}/health") == (200, {"status": "ok", "offices": len(expected)})
    office = max(expected, key=lambda kode: len(expected[kode]))  # the busiest office spans several pages
    assert len(expected[office]) > 7
    status, body = _get(f"{url}/kantor/{office}/kasus")
    assert status == 401
    served, page = [], 1
    while page:
        status, body = _get(f"{url}/kantor/{office}/kasus?page={page}", TOKEN)
        assert status == 200
        served += body["rows"]
        page = body["next_page"]
    want = [{k: v for k, v in row.items() if k != "diterima_pada"} for row in expected[office]]
    assert sorted(served, key=lambda r: r["nomor_kasus"]) == sorted(want, key=lambda r: r["nomor_kasus"])


def test_sigterm_stops_it_cleanly(service):
    process, url, _ = service
    assert _get(f"{url}/health")[0] == 200
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert out.strip() == "stopped"


def test_refuses_to_start_without_a_token(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NETRALITAS_OFFICE_API_TOKEN"}
    result = subprocess.run(
        [sys.executable, "-m", "include.netralitas.sample.office_api", "--port", "0"],
        cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "NETRALITAS_OFFICE_API_TOKEN" in result.stderr


def test_health_is_off_unless_asked_for():
    with SampleOfficeApi({"82.04": []}, token="t") as api:
        assert _get(f"{api.base_url}/health")[0] == 401
        assert _get(f"{api.base_url}/health", "t")[0] == 404
    with SampleOfficeApi({"82.04": []}, token="t", health=True) as api:
        assert _get(f"{api.base_url}/health") == (200, {"status": "ok", "offices": 1})
        assert api.request_log[-1] == ("", "/health", 200)
