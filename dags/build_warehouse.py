"""
### build_warehouse

Runs the warehouse migrations, refreshes the reference dimensions and merges staging into core
(case history, the newest report of each case, national release facts), then runs the Great Expectations
suite `warehouse_v1` (no orphan facts, every ranked figure's lineage adds up; the national-vs-regional
reconciliation as a warning), all in one transaction. Triggered by either ingestion DAG through their
Assets. Idempotent: re-running it for the same staged data changes nothing.

* **Outputs:** `core.*`; one Asset per table it writes (`netralitas://warehouse/core/<table>`).
* **Runbook:** `docs/runbook.md#build_warehouse` in the repository: failures and the daily tasks.
* **Owner:** netralitas-data.
* **When it fails:** nothing is half-written (one transaction). `WarehouseCheckFailed`: a post-load check
  failed, the build was rolled back and the failing checks are in `audit.validation_result`
  (`suite = 'warehouse_v1'`, `success = false`) and in the Data Docs (`var/gx/`). Otherwise fix the cause
  (warehouse unreachable, a migration error in the log) and clear the task.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from include.netralitas.orchestration import assets, defaults, tags


@dag(
    dag_id="build_warehouse",
    schedule=(assets.asset("staging.case_report") | assets.asset("staging.national_release")),
    start_date=defaults.START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=[tags.WAREHOUSE],
    default_args=defaults.default_args(),
    doc_md=__doc__,
)
def build_warehouse():
    @task(outlets=assets.outlets("build_warehouse"))
    def build(run_id: str | None = None) -> dict[str, int]:
        from include.netralitas.settings import get_settings
        from include.netralitas.warehouse.build import build_warehouse as run
        from include.netralitas.warehouse.database import Warehouse

        settings = get_settings()
        return run(Warehouse(settings.warehouse_url), gx_dir=settings.gx_dir, run_id=run_id)

    build()


build_warehouse()
