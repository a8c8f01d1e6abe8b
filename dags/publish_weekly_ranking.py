"""
### publish_weekly_ranking

Every Monday 07:00 Asia/Jakarta, publishes the national top-10 ranking (methodology v1, product.md §4-5)
for the ISO week that just ended (cut-off Sunday 23:59:59 WIB): `ranking.csv`, `ranking.json`,
`index.html`, `chart.png` and `datapackage.json` in `$NETRALITAS_PUBLISH_DIR/<YYYY-Www>/` (a symlink swapped
atomically to an immutable version folder), `latest`, an index of all weeks, and a frozen snapshot in
`mart.publication`. Catch-up publishes missed weeks in order, one at a time, from 2024-W45 or from the week
set in `$NETRALITAS_PUBLISH_FIRST_WEEK` (read when the DAG is parsed).

The week is the data interval's (a `CronDataIntervalTimetable`: the interval is Monday 07:00 to Monday
07:00, and the week is the one it starts in), or the `week` param (`YYYY-Www`) when given.
Re-running a published week returns its frozen snapshot; pass `force_reason` to re-publish, recorded in
`audit.publication_log`.

* **Runbook:** `docs/runbook.md#publish_weekly_ranking` in the repository: failures and the daily tasks.
* **Owner:** netralitas-data.
* **When it fails:** a week folder appears complete or not at all; re-run the task.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from include.netralitas import alerts, assets, tags
from include.netralitas.weeks import publication_start

WIB = "Asia/Jakarta"


@dag(
    dag_id="publish_weekly_ranking",
    schedule=CronDataIntervalTimetable("0 7 * * 1", timezone=WIB),
    start_date=publication_start(),  # 2024-W45, or $NETRALITAS_PUBLISH_FIRST_WEEK
    catchup=True,  # past weeks are published in order, one at a time (max_active_runs=1)
    max_active_runs=1,
    tags=[tags.PUBLICATION, tags.WEEKLY],
    default_args={
        "owner": tags.OWNER,
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "on_failure_callback": alerts.on_failure(),  # SMTP and webhook, when their connections exist
    },
    params={
        "week": Param(None, type=["null", "string"], pattern=r"^\d{4}-W\d{2}$", description="YYYY-Www"),
        "force_reason": Param(None, type=["null", "string"], description="re-publish with this reason"),
    },
    deadline=alerts.publication_deadline(),  # alert when not finished by Monday 10:00 WIB
    doc_md=__doc__,
)
def publish_weekly_ranking():
    @task(outlets=assets.outlets("publish_weekly_ranking"))
    def publish(params: dict | None = None, data_interval_start: datetime | None = None) -> dict[str, str]:
        from include.netralitas.publish import publish_week
        from include.netralitas.settings import get_settings
        from include.netralitas.warehouse import Warehouse
        from include.netralitas.weeks import IsoWeek

        params = params or {}
        week = IsoWeek.parse(params["week"]) if params.get("week") else IsoWeek.containing(data_interval_start)
        settings = get_settings()
        result = publish_week(
            Warehouse(settings.warehouse_url),
            settings.publish_dir,
            week,
            force_reason=params.get("force_reason"),
        )
        print(f"published {result.week}: {result.rows} rows in {result.folder}")
        return {
            "week": result.week,
            "ranking_csv": str(result.ranking_csv),
            "index_html": str(result.index_html),
        }

    publish()


publish_weekly_ranking()
