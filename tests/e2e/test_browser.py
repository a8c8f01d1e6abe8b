"""The published pages as people see them, in headless Chromium at a phone's width (390 px) and a desktop's
(1280 px): every ranked row and the charts are there, nothing overflows sideways, the bars are visible,
axe-core finds no serious or critical violation and no content outside the landmarks, and a screenshot of
each page at each width is kept in var/screenshots/. Chromium (Debian's `chromium`) is installed by this
set-up when missing, axe-core by npm into var/node (tests/e2e/browser.py); under CI=true a tool that is
missing fails the test."""

from __future__ import annotations

import csv
import os
import shutil
import struct
import subprocess
from types import SimpleNamespace

import pytest

from include.netralitas.sample.generator import DEMO_WEEK
from tests.conftest import ROOT
from tests.e2e.browser import ToolMissing, axe_source, browser, tool_missing

pytestmark = pytest.mark.e2e
WIDTHS = {390: 844, 1280: 800}  # viewport width -> height, CSS pixels
SHOTS = ROOT / "var" / "screenshots"
# axe-core rules that must pass whatever their impact: one main landmark, all content inside landmarks
REQUIRED_RULES = {"landmark-one-main", "region"}


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium")
    if found is None and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], capture_output=True, env=env)
        found = shutil.which("chromium")
    if found is None:
        tool_missing("Chromium is not installed and could not be installed (apt-get install chromium, as root)")
    return found


@pytest.fixture(scope="module")
def axe() -> str:
    try:
        return axe_source(ROOT / "var")
    except ToolMissing as exc:
        tool_missing(str(exc))


@pytest.fixture(scope="module")
def tab(chromium):
    with browser(chromium) as new_page:
        yield new_page()


@pytest.fixture(scope="module")
def page(demo_build):
    """The demo's published week (one demo build per session, shared with the runbook tests) and the week
    index copied beside it."""
    folder = demo_build.published
    return SimpleNamespace(
        folder=folder,
        index_html=folder / "index.html",
        ranking_csv=folder / "ranking.csv",
        provinces=sorted((folder / "provinsi").glob("*.html")),
        weeks_index=folder.parent / "index.html",
    )


def test_the_page_shows_every_ranked_row_and_a_chart_per_election(tab, page):
    tab.open(page.index_html.resolve().as_uri(), 1280, 800)
    rendered = tab.evaluate(
        "[...document.querySelectorAll('main tr.peringkat')].map(tr => [tr.cells[0].textContent,"
        " tr.cells[1].textContent])"
    )
    with page.ranking_csv.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rendered == [[r["peringkat"], r["instansi"]] for r in rows]
    bars = tab.evaluate("[...document.querySelectorAll('main section ol.grafik')].map(o => o.children.length)")
    per_election = [sum(1 for r in rows if r["pemilihan"] == p) for p in dict.fromkeys(r["pemilihan"] for r in rows)]
    assert bars == per_election
    assert (page.folder / "chart.png").read_bytes().startswith(b"\x89PNG")
    assert tab.evaluate("document.querySelector('a[href=\"chart.png\"]') !== null")
    # every province page is linked from the week page, and every link leads to one
    linked = tab.evaluate(
        "[...new Set([...document.querySelectorAll('main a[href^=\"provinsi/\"]')].map(a => a.getAttribute('href')))]"
    )
    assert page.provinces, "the demo publishes no province page"
    assert sorted(linked) == [f"provinsi/{p.name}" for p in page.provinces]


def _png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_every_page_fits_the_screen_shows_its_bars_and_passes_axe(tab, axe, page, width):
    pages = {
        f"publication-{DEMO_WEEK}": page.index_html,
        **{f"publication-{DEMO_WEEK}-provinsi-{p.stem}": p for p in page.provinces},
        "publication-index": page.weeks_index,
    }
    for name, path in pages.items():
        tab.open(path.resolve().as_uri(), width, WIDTHS[width])
        viewport = tab.evaluate("window.innerWidth")
        assert viewport == width
        assert tab.evaluate("document.documentElement.scrollWidth") <= viewport, f"{name} overflows at {width} px"
        bars = tab.evaluate(
            "[...document.querySelectorAll('.batang')].map(b => { const r = b.getBoundingClientRect();"
            " const t = b.parentElement.getBoundingClientRect(); return [r.left, r.right, r.width, t.width]; })"
        )
        if name != "publication-index":
            assert bars, f"{name} has no bars"
        for left, right, bar, track in bars:
            assert 0 <= left < right <= viewport, f"a bar of {name} is off the screen at {width} px"
            assert bar >= 2
            assert track >= 120, f"the bars of {name} are squeezed to {track} px at {width} px"
        violations = tab.axe(axe)
        bad = [v for v in violations if v["impact"] in ("serious", "critical") or v["id"] in REQUIRED_RULES]
        assert bad == [], f"axe-core on {name} at {width} px: {bad}"
        if path.parent.name == "provinsi" and path != page.provinces[0]:
            continue  # one province page is enough to look at
        shot = SHOTS / f"{name}-{width}.png"
        shot.unlink(missing_ok=True)
        tab.screenshot(shot)
        assert _png_size(shot.read_bytes())[0] == width
