"""
### ingest_case_reports

Lands every case-report file that regional offices dropped in `$NETRALITAS_DROP_DIR/case-reports/`
(contract `case-report/v1`, product.md §3.1), validates all new batches with the Great Expectations suite
`case_report_v1`, pseudonymises NIP and names (HMAC) and stages the good rows; bad rows go to
`audit.quarantine` with their reason. One bad file never fails the others.

* **Inputs:** CSV (UTF-8, BOM or Windows-1252; `,` or `;`; ISO or `DD/MM/YYYY` dates) and JSON files.
* **Outputs:** `landing.batch` (manifest), `staging.case_report`, `audit.quarantine`,
  `audit.validation_result`; updates the Asset that triggers `build_warehouse`.
* **Owner:** netralitas-data.
* **When it fails:** the task log lists each file with its row accounting. A file that cannot be read
  is in `landing.batch` with `status = 'rejected'` and its `error`; fix it and drop it again.
  A failure of the task itself (warehouse unreachable, key missing) is safe to retry: files leave the drop
  folder only after their batch is committed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from airflow.sdk import Asset, CronTriggerTimetable, dag, task

from include.netralitas import assets, tags

WIB = "Asia/Jakarta"


@dag(
    dag_id="ingest_case_reports",
    schedule=CronTriggerTimetable("15 * * * *", timezone=WIB),
    start_date=datetime(2024, 1, 1, tzinfo=ZoneInfo("Asia/Jakarta")),
    catchup=False,
    max_active_runs=1,
    tags=[tags.INGESTION, tags.CASE_REPORTS],
    default_args={"owner": tags.OWNER, "retries": 2, "retry_delay": timedelta(minutes=5)},
    doc_md=__doc__,
)
def ingest_case_reports():
    @task(outlets=[Asset(uri=assets.STAGING_CASE_REPORTS, name="staging_case_report")])
    def ingest(run_id: str | None = None) -> dict[str, int]:
        from airflow.sdk import Variable

        from include.netralitas.ingest import ingest_case_reports as run
        from include.netralitas.ingest import summarise
        from include.netralitas.settings import get_settings, hmac_key
        from include.netralitas.warehouse import Warehouse

        settings = get_settings()
        key = hmac_key(settings, Variable.get("netralitas_hmac_key", default=None))
        results = run(Warehouse(settings.warehouse_url), settings, key, run_id=run_id)
        return summarise(results)

    ingest()


ingest_case_reports()
