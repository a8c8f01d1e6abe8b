"""
### ingest_case_reports

First pulls the offices that report through an API (`pull_office_apis`: those listed in
`$NETRALITAS_OFFICE_ENDPOINTS`, bearer tokens from the Airflow connection `netralitas_office_api` or the
office's own; incremental from each office's watermark; an office that fails is recorded in
`landing.api_pull` and retried next run, the others load). Then lands every case-report file that regional
offices dropped in `$NETRALITAS_DROP_DIR/case-reports/` (and the pull wrote in `api-pulls/`)
(contract `case-report/v1`), validates all new batches with the Great Expectations suite
`case_report_v1`, pseudonymises NIP and names (HMAC) and stages the good rows; bad rows go to
`audit.quarantine` with their reason. The content of a file never fails the run: every row is loaded,
quarantined or a duplicate, an unreadable file is rejected and the files after it load; a file modified
within `$NETRALITAS_SETTLE_SECONDS` (60) waits for the next run.

* **Inputs:** office APIs; CSV (UTF-8, BOM, UTF-16 or Windows-1252; `,` or `;`; ISO or `DD/MM/YYYY`
  dates), XLSX and JSON files.
* **Outputs:** `landing.batch` (manifest), `staging.case_report`, `audit.quarantine`,
  `audit.validation_result`, each an Asset; `staging.*` triggers `build_warehouse`.
* **Runbook:** `docs/runbook.md#ingest_case_reports` in the repository: failures and the daily tasks.
* **Owner:** netralitas-data.
* **Freshness:** `check_freshness` then logs a warning listing the offices with no case report for
  `$NETRALITAS_FRESHNESS_DAYS` (14) days up to the run's logical date, offices with no report at all
  first; it never fails the run. The same picture for analysts: `mart.office_freshness`.
* **When it fails:** the task log lists each file with its row accounting. A file that cannot be read
  is in `landing.batch` with `status = 'rejected'` and its `error` (`quarantined`: rows, none loaded;
  `empty`: zero cases); fix it and drop it again.
  A failure of the task itself (warehouse unreachable, key missing) is safe to retry: files leave the drop
  folder only after their batch is committed.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import CronTriggerTimetable, dag, task

from include.netralitas.orchestration import assets, defaults, tags


@dag(
    dag_id="ingest_case_reports",
    schedule=CronTriggerTimetable("15 * * * *", timezone=defaults.TIMEZONE),
    start_date=defaults.START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=[tags.INGESTION, tags.CASE_REPORTS],
    default_args=defaults.default_args(),
    doc_md=__doc__,
)
def ingest_case_reports():
    @task(outlets=assets.outlets("pull_office_apis"))
    def pull_office_apis(run_id: str | None = None) -> dict[str, int]:
        """Offices listed in NETRALITAS_OFFICE_ENDPOINTS: new rows since their watermark, as batch files."""
        from airflow.sdk import BaseHook

        from include.netralitas.reference.catalogue import load_catalogue
        from include.netralitas.settings import get_settings
        from include.netralitas.sources.api_client import OfficeApiClient
        from include.netralitas.sources.office_pull import load_endpoints, pull_offices
        from include.netralitas.warehouse.database import Warehouse

        settings = get_settings()
        endpoints = load_endpoints(settings.office_endpoints, set(load_catalogue().regions))
        if not endpoints:
            return {"offices": 0}

        def client_for(endpoint) -> OfficeApiClient:
            conn = BaseHook.get_connection(endpoint.conn_id)
            port = f":{conn.port}" if conn.port else ""
            base_url = endpoint.base_url or f"{conn.schema or 'https'}://{conn.host}{port}"
            timeout = float(conn.extra_dejson.get("timeout", 30))
            return OfficeApiClient(base_url, conn.password or "", timeout=timeout)

        results = pull_offices(Warehouse(settings.warehouse_url), settings, endpoints, client_for, run_id=run_id)
        counts = {"offices": len(results)}
        for result in results:
            counts[result.status] = counts.get(result.status, 0) + 1
        return counts

    @task(outlets=assets.outlets("ingest_case_reports"))
    def ingest(run_id: str | None = None) -> dict[str, int]:
        from airflow.sdk import Variable

        from include.netralitas.ingest.pipeline import ingest_case_reports as run
        from include.netralitas.ingest.pipeline import summarise
        from include.netralitas.settings import get_settings, hmac_key
        from include.netralitas.warehouse.database import Warehouse

        settings = get_settings()
        key = hmac_key(settings, Variable.get("netralitas_hmac_key", default=None))
        results = run(Warehouse(settings.warehouse_url), settings, key, run_id=run_id)
        return summarise(results)

    @task
    def check_freshness(logical_date: datetime | None = None) -> dict[str, int]:
        """Warns, without failing, about offices with no case report for $NETRALITAS_FRESHNESS_DAYS days."""
        import logging
        from datetime import UTC

        from include.netralitas.settings import get_settings
        from include.netralitas.warehouse.database import Warehouse
        from include.netralitas.warehouse.freshness import freshness_days, stale_offices, warning_text

        as_of = logical_date or datetime.now(UTC)
        days = freshness_days()
        stale = stale_offices(Warehouse(get_settings().warehouse_url), as_of=as_of, days=days)
        if stale:
            logging.getLogger(__name__).warning(warning_text(stale, as_of=as_of, days=days))
        never = sum(office.laporan_terakhir is None for office in stale)
        return {"offices_stale": len(stale), "offices_never_reported": never, "days": days}

    pull_office_apis() >> ingest() >> check_freshness()


ingest_case_reports()
