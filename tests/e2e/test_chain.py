"""The whole DAG chain with `dag.test()`, on the embedded warehouse and on PostgreSQL: sample data for all
552 offices in, a published ranking out; the second run changes nothing."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest
from sqlalchemy import text

from include.netralitas.generator import DEMO_WEEK, generate_sample
from include.netralitas.publish import RANKING_COLUMNS
from include.netralitas.warehouse import Warehouse
from include.netralitas.weeks import IsoWeek
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from chain import run_chain  # noqa: E402

pytestmark = pytest.mark.e2e
COUNTED = (
    "landing.batch",
    "staging.case_report",
    "core.case_history",
    "core.case_current",
    "audit.quarantine",
)


@pytest.fixture(scope="session")
def airflow_db():
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)


def counts(wh: Warehouse) -> dict[str, int]:
    with wh.read() as conn:
        return {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in COUNTED}


def test_chain_publishes_the_ranking_and_a_rerun_changes_nothing(airflow_db, settings):
    week = IsoWeek.parse(DEMO_WEEK)
    sample = generate_sample(settings.drop_dir)
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
    with wh.read() as conn:
        accounting = conn.execute(
            text("SELECT SUM(rows_in), SUM(rows_loaded + rows_quarantined + rows_duplicate) FROM landing.batch")
        ).one()
        offices = conn.execute(text("SELECT COUNT(DISTINCT kode_kantor) FROM landing.batch")).scalar_one()
    assert accounting[0] == accounting[1] == sample.case_rows + 15  # 15 rows of the national release
    assert offices == 552
    assert first["landing.batch"] == sample.case_files + sample.release_files
    assert not any(settings.case_report_drop.iterdir())  # every file left the drop folder once landed

    before = ranking_csv.read_bytes()
    generate_sample(settings.drop_dir)  # the same files dropped again
    run_chain(week)
    assert ranking_csv.read_bytes() == before
    assert counts(wh) == first  # no duplicate rows anywhere
