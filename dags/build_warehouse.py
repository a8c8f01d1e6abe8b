"""
### build_warehouse

Runs the warehouse migrations, refreshes the reference dimensions and merges staging into core
(case history, the newest report of each case, national release facts), in one transaction. Triggered by
either ingestion DAG through their Assets. Idempotent: re-running it for the same staged data changes
nothing.

* **Outputs:** `core.*`; updates the Asset `netralitas://warehouse/core`.
* **Owner:** netralitas-data.
* **When it fails:** nothing is half-written (one transaction); fix the cause (warehouse unreachable, a
  migration error in the log) and clear the task.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset, dag, task

from include.netralitas import assets, tags


@dag(
    dag_id="build_warehouse",
    schedule=(
        Asset(uri=assets.STAGING_CASE_REPORTS, name="staging_case_report")
        | Asset(uri=assets.STAGING_NATIONAL_RELEASES, name="staging_national_release")
    ),
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=[tags.WAREHOUSE],
    default_args={"owner": tags.OWNER, "retries": 2, "retry_delay": timedelta(minutes=5)},
    doc_md=__doc__,
)
def build_warehouse():
    @task(outlets=[Asset(uri=assets.CORE, name="core")])
    def build() -> dict[str, int]:
        from include.netralitas.build import build_warehouse as run
        from include.netralitas.settings import get_settings
        from include.netralitas.warehouse import Warehouse

        return run(Warehouse(get_settings().warehouse_url))

    build()


build_warehouse()
