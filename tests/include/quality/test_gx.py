"""`run_suite` in a file context: every failing row found, none of its values in what GX keeps, and a project
that a killed run left half-written repaired by the next run.

The frames hold sentinel strings (a fake 18-digit NIP-like value, names) in the cells that fail; GX's
`COMPLETE` result format would write them into the stored validation results and the Data Docs pages.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from include.netralitas.contracts import release_number
from include.netralitas.quality.gx import (
    CASE_SUITE,
    RELEASE_SUITE,
    RUNNING,
    SET_ASIDE,
    case_report_rules,
    data_docs_index,
    national_release_rules,
    run_suite,
)

NIP_LIKE = "199912312024121999"  # 18 digits, in a code-list column
SENTINELS = (NIP_LIKE, "Sentinel Rahayu", "Sentinel Wati", "Nama Sentinel Budi", "SENTINEL-NIP-0001",
             "SENTINEL-INSTANSI", "Sentinel Jumlah 12", "Sentinel7")  # fmt: skip
TODAY = date(2024, 12, 1)
GOOD_CASE = {"kode_kantor": "82.01", "kantor_berkas": "82.01", "tanggal_temuan": "2024-11-01",
             "pemilihan": "PILKADA-2024", "instansi_kode": "kemenag", "nip_bentuk": "9" * 18, "jabatan": "pelaksana",
             "jenis_pelanggaran": "lainnya", "status": "diproses"}  # fmt: skip
CASE_ROWS = [  # (batch_id, baris, the cells that differ from GOOD_CASE)
    ("b1", 2, {}),
    ("b1", 3, {"jabatan": NIP_LIKE}),
    ("b1", 4, {"status": "Sentinel Rahayu"}),
    ("b1", 5, {"nip_bentuk": "SENTINEL-NIP-0001"}),
    ("b1", 6, {"kode_kantor": "99.99"}),
    ("b2", 2, {"nomor_kasus": None}),
    ("b2", 3, {"nomor_kasus": "Nama Sentinel Budi"}),
    ("b2", 4, {"nomor_kasus": "Nama Sentinel Budi", "status": "sanksi"}),
    ("b2", 5, {"tanggal_temuan": "2030-01-01", "pemilihan": "Sentinel Wati"}),
    ("b2", 6, {"instansi_kode": None}),
]
CASE_FAILURES = {
    ("b1", 3, "jabatan", "expect_column_values_to_be_in_set"),
    ("b1", 4, "status", "expect_column_values_to_be_in_set"),
    ("b1", 5, "nip", "expect_column_values_to_match_regex"),
    ("b1", 6, "kode_kantor", "expect_column_values_to_be_in_set"),
    ("b1", 6, "kode_kantor", "expect_column_pair_values_to_be_equal"),  # not the office of the file either
    ("b2", 2, "nomor_kasus", "expect_column_values_to_not_be_null"),
    ("b2", 3, "nomor_kasus", "expect_compound_columns_to_be_unique"),
    ("b2", 4, "nomor_kasus", "expect_compound_columns_to_be_unique"),
    ("b2", 5, "tanggal_temuan", "expect_column_values_to_be_between"),
    ("b2", 5, "pemilihan", "expect_column_values_to_be_in_set"),
    ("b2", 6, "instansi", "expect_column_values_to_not_be_null"),
}
RELEASE_FAILURES = {
    ("r1", 3, "jumlah", "expect_column_values_to_match_regex", "critical"),
    ("r1", 3, "instansi", "expect_compound_columns_to_be_unique", "critical"),
    ("r1", 4, "instansi", "expect_compound_columns_to_be_unique", "critical"),
    ("r1", 4, "jumlah", "expect_column_values_to_not_be_null", "critical"),
    ("r1", 5, "peringkat", "expect_column_values_to_match_regex", "critical"),
    ("r1", 6, "peringkat", "expect_column_pair_values_to_be_equal", "warning"),
    ("r1", 6, "instansi", "expect_column_values_to_not_be_null", "critical"),
}


def case_frame() -> pd.DataFrame:
    rows = [
        {"batch_id": b, "baris": n, **GOOD_CASE, "nomor_kasus": f"{n}/PL/{b}", **cells} for b, n, cells in CASE_ROWS
    ]
    frame = pd.DataFrame(rows)
    frame["tanggal_temuan"] = pd.to_datetime(frame["tanggal_temuan"])
    return frame


def release_frame() -> pd.DataFrame:
    columns = ["batch_id", "baris", "instansi_kode", "jumlah", "peringkat", "peringkat_dari_jumlah"]
    rows = [
        ("r1", 2, "kemenag", "10", "1", "1"),
        ("r1", 3, "SENTINEL-INSTANSI", "Sentinel Jumlah 12", "2", "2"),
        ("r1", 4, "SENTINEL-INSTANSI", None, "3", "3"),
        ("r1", 5, "pemkab-halsel", "3", "Sentinel7", "4"),
        ("r1", 6, None, "1", "9", "5"),
    ]
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("jumlah", "peringkat"):  # derived as the ingestion derives them
        frame[f"{column}_angka"] = frame[column].map(release_number).astype("float64")
    frame["peringkat_dari_jumlah"] = frame["peringkat_dari_jumlah"].astype("float64")
    return frame


def run_case(gx_dir: Path | None):
    return run_suite(CASE_SUITE, case_report_rules(["82.01", "82.02"], TODAY), case_frame(), gx_dir, ["b1", "b2", "b3"])


def run_release(gx_dir: Path | None):
    return run_suite(RELEASE_SUITE, national_release_rules(), release_frame(), gx_dir)


def case_failures(outcome) -> set[tuple]:
    return {tuple(r) for r in outcome.failures[["batch_id", "baris", "kolom", "aturan"]].itertuples(index=False)}


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def store_files(gx_dir: Path) -> list[Path]:
    root = gx_dir / "gx"
    stores = ("expectations", "validation_definitions", "checkpoints", "uncommitted/validations")
    return [p for s in stores for p in sorted((root / s).rglob("*.json"))]


def reload(gx_dir: Path, capfd) -> dict[str, list[str]]:
    """What a new context finds in the project, and anything GX printed on the way (its 'Skipping Bad Configs')."""
    import great_expectations as gx

    capfd.readouterr()
    context = gx.get_context(mode="file", project_root_dir=str(gx_dir))
    found = {
        "suites": sorted(s.name for s in context.suites.all()),
        "definitions": sorted(d.name for d in context.validation_definitions.all()),
        "checkpoints": sorted(c.name for c in context.checkpoints.all()),
        "assets": sorted(f"{d.name}.{a.name}" for d in context.data_sources.all().values() for a in d.assets),
    }
    out, err = capfd.readouterr()
    assert "Skipping Bad Configs" not in out + err, out + err
    return found


def docs_pages_whole(gx_dir: Path) -> list[str]:
    """The Data Docs pages, each checked whole; one page per stored validation result."""
    site = data_docs_index(gx_dir).parent
    pages = sorted(site.rglob("*.html"))
    for page in pages:
        assert page.read_text(encoding="utf-8").rstrip().endswith("</html>"), page
    results = sorted((gx_dir / "gx" / "uncommitted" / "validations").rglob("*.json"))
    rendered = {p.relative_to(site / "validations").with_suffix("") for p in site.glob("validations/**/*.html")}
    assert rendered == {p.relative_to(results[0].parents[3]).with_suffix("") for p in results}
    return [str(p.relative_to(site)) for p in pages]


# -- every failing row, no value kept -------------------------------------------------------------------------


def test_every_failing_row_is_found_and_gx_keeps_none_of_their_values(tmp_path, capfd):
    gx_dir = tmp_path / "gx"
    case, release = run_case(gx_dir), run_release(gx_dir)

    assert case_failures(case) == CASE_FAILURES
    assert not case.failures.duplicated().any()
    found = {tuple(r) for r in release.failures[["batch_id", "baris", "kolom", "aturan", "tingkat"]].values}
    assert found == RELEASE_FAILURES
    results = case.results.set_index(["batch_id", "expectation", "kolom"])
    assert len(case.results) == 3 * len(case_report_rules([], TODAY))  # b3 (no rows) too
    assert case.results[case.results["batch_id"] == "b3"]["success"].all()
    assert results.loc[("b2", "expect_compound_columns_to_be_unique", "nomor_kasus"), "unexpected_count"] == 2
    assert results.loc[("b1", "expect_column_values_to_be_in_set", "jabatan"), "success"] == False  # noqa: E712

    written = files(gx_dir)
    pages = [name for name in written if name.endswith(".html") and "/static/" not in name]
    results_json = [name for name in written if "/uncommitted/validations/" in name and name.endswith(".json")]
    assert len(pages) >= 7  # index, 3 suites, 3 validation results
    assert len(results_json) == 3  # the release's warning rule has a suite of its own
    for name, content in written.items():
        for sentinel in SENTINELS:
            assert sentinel.encode() not in content, f"{sentinel!r} in {name}"
    # What is kept of a failing row is its identity.
    stored = json.loads(written[results_json[0]] if CASE_SUITE in results_json[0] else written[results_json[1]])
    in_set = [
        r["result"]
        for r in stored["results"]
        if r["expectation_config"]["kwargs"].get("column") == "jabatan"
        and r["expectation_config"]["type"] == "expect_column_values_to_be_in_set"
    ]
    assert in_set == [
        {
            "element_count": 10, "unexpected_count": 1, "unexpected_percent": 10.0, "missing_count": 0,
            "missing_percent": 0.0, "unexpected_percent_total": 10.0, "unexpected_percent_nonmissing": 10.0,
            "unexpected_index_column_names": ["batch_id", "baris"],
            "unexpected_index_list": [{"batch_id": ["b1"], "baris": [3]}],
        }
    ]  # fmt: skip
    # Both contracts' assets share one data source: the saved project reloads whole.
    assert reload(gx_dir, capfd) == {
        "suites": [CASE_SUITE, RELEASE_SUITE, f"{RELEASE_SUITE}_warnings"],
        "definitions": [f"{CASE_SUITE}_ingestion", f"{RELEASE_SUITE}_ingestion", f"{RELEASE_SUITE}_warnings_ingestion"],
        "checkpoints": [f"{CASE_SUITE}_checkpoint", f"{RELEASE_SUITE}_checkpoint"],
        "assets": [f"netralitas.{CASE_SUITE}", f"netralitas.{RELEASE_SUITE}"],
    }
    assert not (gx_dir / RUNNING).exists()


def test_an_ephemeral_run_finds_the_same_rows():
    assert case_failures(run_case(None)) == CASE_FAILURES


def test_a_run_does_not_rewrite_the_project_configuration(tmp_path):
    gx_dir = tmp_path / "gx"
    run_case(gx_dir)
    run_release(gx_dir)
    config = gx_dir / "gx" / "great_expectations.yml"
    before = (config.read_bytes(), config.stat().st_mtime_ns)
    run_case(gx_dir)
    run_release(gx_dir)
    assert (config.read_bytes(), config.stat().st_mtime_ns) == before


# -- a killed run's damage, repaired by the next ----------------------------------------------------------------


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project both suites have run in twice (two validation results each, the Data Docs of all four)."""
    gx_dir = tmp_path_factory.mktemp("project") / "gx"
    for _ in range(2):
        run_case(gx_dir)
        run_release(gx_dir)
    return gx_dir


def _newest(gx_dir: Path, pattern: str) -> Path:
    return sorted((gx_dir / "gx").glob(pattern))[-1]


DAMAGE = {  # what a kill -9 in the middle of each of GX's writes leaves
    "config": "great_expectations.yml",
    "suite": f"expectations/{CASE_SUITE}.json",
    "validation definition": f"validation_definitions/{CASE_SUITE}_ingestion.json",
    "checkpoint": f"checkpoints/{CASE_SUITE}_checkpoint.json",
    "validation result": f"uncommitted/validations/{CASE_SUITE}/*/*/*.json",
    "store id": "expectations/.ge_store_backend_id",
    "Data Docs page": f"uncommitted/data_docs/local_site/validations/{CASE_SUITE}/*/*/*.html",
    "Data Docs asset": "uncommitted/data_docs/local_site/static/styles/data_docs_default_styles.css",
    "Data Docs index": "uncommitted/data_docs/local_site/index.html",
}


@pytest.mark.parametrize("cut", ["empty", "half"])
@pytest.mark.parametrize("damaged", list(DAMAGE))
def test_the_run_after_a_killed_one_repairs_the_project(project, tmp_path, capfd, damaged, cut):
    gx_dir = tmp_path / "gx"
    shutil.copytree(project, gx_dir)
    path = _newest(gx_dir, DAMAGE[damaged])
    content = path.read_bytes()
    path.write_bytes(b"" if cut == "empty" else content[: len(content) // 2])  # opened and truncated, or cut
    (gx_dir / RUNNING).write_text("pid 1\n")  # the killed run's mark

    assert case_failures(run_case(gx_dir)) == CASE_FAILURES

    assert not (gx_dir / RUNNING).exists()
    for stored in store_files(gx_dir):
        assert isinstance(json.loads(stored.read_text()), dict), stored
    kept = files(gx_dir / "gx")
    set_aside = files(gx_dir / SET_ASIDE)
    if damaged in ("suite", "validation result", "store id"):  # set aside, never deleted
        assert str(path.relative_to(gx_dir / "gx")) in {name.split("/", 1)[1] for name in set_aside}
    if damaged == "validation result":
        assert len([n for n in kept if n.startswith(f"uncommitted/validations/{CASE_SUITE}/")]) == 2  # 1 + 2 - 1
    else:
        assert path.read_bytes() != (b"" if cut == "empty" else content[: len(content) // 2])
    pages = docs_pages_whole(gx_dir)  # the whole site rebuilt: a page for every result, both suites'
    assert sum(RELEASE_SUITE in p for p in pages) == 6  # its two suites' pages (critical, warnings), 2 results each
    # The other suite's definition and checkpoint are made again by its next run.
    assert reload(gx_dir, capfd)["checkpoints"] == [f"{CASE_SUITE}_checkpoint"]
    run_release(gx_dir)
    assert reload(gx_dir, capfd)["checkpoints"] == [f"{CASE_SUITE}_checkpoint", f"{RELEASE_SUITE}_checkpoint"]


def test_a_run_that_fails_on_a_damaged_project_leaves_it_to_the_next_run_to_repair(project, tmp_path):
    """A project damaged without a mark (say, by a version without one): the run that fails marks it."""
    gx_dir = tmp_path / "gx"
    shutil.copytree(project, gx_dir)
    (gx_dir / "gx" / "great_expectations.yml").write_bytes(b"")

    with pytest.raises(Exception, match="DataContextConfig"):
        run_case(gx_dir)
    assert (gx_dir / RUNNING).exists()
    assert case_failures(run_case(gx_dir)) == CASE_FAILURES
    assert not (gx_dir / RUNNING).exists()


def test_an_expectation_that_cannot_run_is_never_a_silent_pass():
    """GX catches a metric's exception (a column the suite needs is missing) and reports the expectation as
    failed with no unexpected row: run_suite raises instead of letting every row through."""
    frame = case_frame().drop(columns=["kantor_berkas"])
    with pytest.raises(RuntimeError, match="kantor_berkas"):
        run_suite(CASE_SUITE, case_report_rules(["82.01", "82.02"], TODAY), frame, None, ["b1", "b2", "b3"])


# -- results a person can navigate; warnings as warnings; a site that works offline ---------------------------


def test_a_result_names_its_run_asset_and_batches_and_a_failed_warning_leaves_the_contract_passed(tmp_path):
    from include.netralitas.quality.gx import WAREHOUSE_SUITE, warehouse_rules

    gx_dir = tmp_path / "gx"
    frame = pd.DataFrame(
        {"batch_id": ["w1", "w1"], "baris": [1, 2], "wajib_nol": [0, 0], "selisih_rekonsiliasi": [0, 3]}
    )  # fmt: skip  (only the warning rule fails)
    labels = {"w1": "82.04 · 82.04_20241125.csv"}
    outcome = run_suite(
        WAREHOUSE_SUITE, warehouse_rules(), frame, gx_dir, ["w1"], run_id="manual__x", batch_labels=labels
    )
    assert set(outcome.failures["tingkat"]) == {"warning"}

    stored = {
        p.parts[-4]: json.loads(p.read_text()) for p in (gx_dir / "gx" / "uncommitted" / "validations").rglob("*.json")
    }
    assert set(stored) == {WAREHOUSE_SUITE, f"{WAREHOUSE_SUITE}_warnings"}
    assert stored[WAREHOUSE_SUITE]["success"] is True  # the critical checks passed
    assert stored[f"{WAREHOUSE_SUITE}_warnings"]["success"] is False
    for result in stored.values():
        assert result["meta"]["run_id"]["run_name"] == "manual__x"
        spec = result["meta"]["batch_spec"]
        assert spec["data_asset_name"] == f"netralitas.{WAREHOUSE_SUITE}"
        assert spec["batch (office · file)"] == {"82.04 · 82.04_20241125.csv": "batch w1"}
    page = next((data_docs_index(gx_dir).parent / "validations" / WAREHOUSE_SUITE).rglob("*.html")).read_text()
    assert "82.04 · 82.04_20241125.csv" in page
    assert "manual__x" in page


def test_offline_site_points_every_page_at_the_vendored_copies(tmp_path):
    from include.netralitas.quality.gx import CDN_COPIES, offline_site

    site = tmp_path / "site"
    page = site / "validations" / "suite" / "run" / "time" / "batch.html"
    page.parent.mkdir(parents=True)
    (site / "static" / "images").mkdir(parents=True)
    (site / "static" / "images" / "logo-long.png").write_bytes(b"GX ships its logo in the site")
    links = "".join(
        f'<script src="{url}"></script>\n'
        if url.endswith((".js", "@5", "@6"))
        else f'<link href="{url}" rel="stylesheet">'
        for url in CDN_COPIES
    )
    logo = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1&dataContextId=abc"
    unknown = "https://cdn.example.org/lib.min.js"
    page.write_text(
        f'<html><head>{links}<script src="{unknown}"></script></head><body><img src="{logo}"></body></html>'
    )
    (site / "index.html").write_text(
        f'<html><head>{links}</head><body><a href="https://greatexpectations.io">GX</a></body></html>'
    )

    assert offline_site(site) == [unknown]

    for html_file in (page, site / "index.html"):
        html = html_file.read_text()
        assert "vega" not in html
        assert "amazonaws" not in html
        assert 'href="https://greatexpectations.io"' in html or html_file == page  # a plain link stays a link
        local = [u for u in re.findall(r'(?:src|href)="([^"]+)"', html) if not u.startswith("http")]
        assert len(local) == len([u for u in CDN_COPIES.values() if u]) + (html_file == page)
        for url in local:
            assert (html_file.parent / url).resolve().is_file(), url  # relative to the page, and there
    assert (site / "static" / "vendor" / "bootstrap-4.3.1" / "LICENSE").is_file()
