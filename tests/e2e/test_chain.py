"""The whole DAG chain with `dag.test()`, on the embedded warehouse and on PostgreSQL: sample data for all
552 offices in, a published ranking out; the second run changes nothing."""

from __future__ import annotations

import csv
import sys

import pytest
from sqlalchemy import text

from include.netralitas.ingest.readers import read_case_report
from include.netralitas.publish.publication import RANKING_COLUMNS
from include.netralitas.quality.gx import data_docs_index
from include.netralitas.sample.generator import DEMO_WEEK
from include.netralitas.warehouse.database import Warehouse
from include.netralitas.weeks import IsoWeek
from tests.conftest import ROOT, personal_data_pattern

sys.path.insert(0, str(ROOT / "tools"))
from chain import demo_data, run_chain  # noqa: E402

pytestmark = pytest.mark.e2e
COUNTED = (
    "landing.batch",
    "staging.case_report",
    "core.case_history",
    "core.case_current",
    "audit.quarantine",
)


def counts(wh: Warehouse) -> dict[str, int]:
    with wh.session() as conn:
        return {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in COUNTED}


@pytest.mark.data_docs
def test_chain_publishes_the_ranking_and_a_rerun_changes_nothing(airflow_db, settings):
    week = IsoWeek.parse(DEMO_WEEK)
    with demo_data(settings) as sample:  # sample files, and a sample office API for a tenth of the offices
        raw = [read_case_report(p) for p in sorted(settings.case_report_drop.iterdir())]
        outcome = run_chain(week)
    assert set(outcome.values()) == {"success"}

    ranking_csv = settings.publish_dir / DEMO_WEEK / "ranking.csv"
    assert (settings.publish_dir / DEMO_WEEK / "index.html").exists()
    with ranking_csv.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == RANKING_COLUMNS
    assert len(rows) >= 10
    assert rows[0]["instansi"].startswith(("Pemerintah ", "Kementerian ", "Badan "))

    wh = Warehouse(settings.warehouse_url)
    first = counts(wh)
    with wh.session() as conn:
        accounting = conn.execute(
            text("SELECT SUM(rows_in), SUM(rows_loaded + rows_quarantined + rows_duplicate) FROM landing.batch")
        ).one()
        offices = conn.execute(text("SELECT COUNT(DISTINCT kode_kantor) FROM landing.batch")).scalar_one()
    assert accounting[0] == accounting[1] == sample.case_rows + 15  # 15 rows of the national release
    assert offices == 552
    assert first["landing.batch"] == sample.case_files + sample.release_files
    with wh.session() as conn:
        api = conn.execute(text("SELECT COUNT(*), MIN(status) FROM landing.api_pull")).one()
    assert api[0] > 10
    assert api[1] == "ok"
    assert not any(settings.case_report_drop.iterdir())  # every file left the drop folder once landed

    _assert_validation_evidence(wh, settings, raw)

    before = ranking_csv.read_bytes()
    with demo_data(settings):  # the same files dropped again, the same API rows served again
        run_chain(week)
    assert ranking_csv.read_bytes() == before
    assert counts(wh) == first  # no duplicate rows anywhere


def _assert_validation_evidence(wh: Warehouse, settings, raw) -> None:
    """Data Docs list the suites, every batch has validation results, and no NIP or name is in either."""
    index = data_docs_index(settings.gx_dir)
    assert index.exists()
    page = index.read_text()
    for suite in ("case_report_v1", "national_release_v1", "warehouse_v1"):
        assert suite in page
    with wh.session() as conn:
        unvalidated = conn.execute(
            text(
                "SELECT COUNT(*) FROM landing.batch AS b WHERE NOT EXISTS"
                " (SELECT 1 FROM audit.validation_result AS v WHERE v.batch_id = b.batch_id)"
            )
        ).scalar_one()
        stored = " ".join(" ".join(map(str, r)) for r in conn.execute(text("SELECT * FROM audit.validation_result")))
    assert unvalidated == 0
    pattern = personal_data_pattern(raw, minimum=1000)
    docs = [p for p in settings.gx_dir.rglob("*") if p.is_file() and p.suffix in (".html", ".json")]
    assert len(docs) > 5
    for path in docs:
        assert pattern.search(path.read_text(errors="replace")) is None, f"personal data in {path}"
    assert pattern.search(stored) is None
