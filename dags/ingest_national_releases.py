"""
### ingest_national_releases

Lands every national release (Bawaslu RI, KASN, BKN) dropped in `$NETRALITAS_DROP_DIR/national-releases/`
(contract `national-release/v1`, product.md §3.2: CSV with a `<name>.meta.json` sidecar, or one JSON
document), validates it with the Great Expectations suite `national_release_v1` and stages it.

* **Outputs:** `landing.batch`, `staging.national_release(_row)`, `audit.quarantine`,
  `audit.validation_result`, each an Asset; `staging.*` triggers `build_warehouse`.
* **Runbook:** `docs/runbook.md#ingest_national_releases` in the repository: failures and the daily tasks.
* **Owner:** netralitas-data.
* **When it fails:** a release whose metadata is missing or wrong is rejected whole
  (`landing.batch.status = 'rejected'`, reason in `error`); correct the sidecar and drop both files again.
"""

from __future__ import annotations

from airflow.sdk import CronTriggerTimetable, dag, task

from include.netralitas.orchestration import assets, defaults, tags


@dag(
    dag_id="ingest_national_releases",
    schedule=CronTriggerTimetable("30 5 * * *", timezone=defaults.TIMEZONE),
    start_date=defaults.START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=[tags.INGESTION, tags.NATIONAL_RELEASES],
    default_args=defaults.default_args(),
    doc_md=__doc__,
)
def ingest_national_releases():
    @task(outlets=assets.outlets("ingest_national_releases"))
    def ingest(run_id: str | None = None) -> dict[str, int]:
        from include.netralitas.ingest.pipeline import ingest_national_releases as run
        from include.netralitas.ingest.pipeline import summarise
        from include.netralitas.settings import get_settings
        from include.netralitas.warehouse.database import Warehouse

        settings = get_settings()
        return summarise(run(Warehouse(settings.warehouse_url), settings, run_id=run_id))

    ingest()


ingest_national_releases()
