"""The published page as a person sees it: headless Chromium renders index.html, every ranked row and the
chart are there, and a screenshot is kept in var/screenshots/. Chromium (Debian's `chromium`) is installed
by this set-up when missing."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
from types import SimpleNamespace

import pytest

from include.netralitas.sample.generator import DEMO_WEEK
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium")
    if found is None and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], capture_output=True, env=env)
        found = shutil.which("chromium")
    if found is None:
        reason = "Chromium is not installed and could not be installed (apt-get install chromium, as root)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def page(demo_build):
    """The demo's published week (one demo build per session, shared with the runbook tests)."""
    folder = demo_build.published
    return SimpleNamespace(folder=folder, index_html=folder / "index.html", ranking_csv=folder / "ranking.csv")


def test_the_page_shows_every_ranked_row_and_the_chart(chromium, page, tmp_path):
    url = page.index_html.resolve().as_uri()
    profile = ["--user-data-dir=" + str(tmp_path / "profile")]
    dom = subprocess.run(
        [chromium, *FLAGS, *profile, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    with page.ranking_csv.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    rendered = re.findall(r'<tr class="peringkat"><td>(\d+)</td><td>(.*?)</td>', dom)
    assert len(rendered) == len(rows)
    assert [(r["peringkat"], r["instansi"].replace("&", "&amp;")) for r in rows] == rendered
    assert re.search(r'<img id="grafik" src="chart.png"', dom)
    assert (page.folder / "chart.png").read_bytes().startswith(b"\x89PNG")

    shots = ROOT / "var" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    screenshot = shots / f"publication-{DEMO_WEEK}.png"
    screenshot.unlink(missing_ok=True)
    subprocess.run(
        [chromium, *FLAGS, *profile, "--hide-scrollbars", "--window-size=1280,2400", f"--screenshot={screenshot}", url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert screenshot.stat().st_size > 10_000
