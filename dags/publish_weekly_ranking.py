"""
### publish_weekly_ranking

Every Monday 07:00 Asia/Jakarta, publishes the national top-10 ranking (methodology v2, product.md §4-5)
for the ISO week that just ended (cut-off Sunday 23:59:59 WIB): `ranking.csv`, `ranking.json`,
`index.html`, `chart.png` and `datapackage.json` in `$NETRALITAS_PUBLISH_DIR/<YYYY-Www>/` (a symlink swapped
atomically to an immutable version folder), `latest` (the newest published week that has ended), an index
of all weeks, and a frozen snapshot in `mart.publication`.

The schedule is the ISO-week timetable of `plugins/netralitas_schedule.py`: a run's data interval is exactly
its week (Monday 00:00 to the next Monday 00:00 WIB). Catch-up publishes missed weeks in order, one at a
time, from 2024-W45 or from the week set in `$NETRALITAS_PUBLISH_FIRST_WEEK` (read when the DAG is parsed);
earlier weeks, back to 2018-W01, are published by `airflow backfill create` or the `week` param
(`YYYY-Www`). A week that has not ended is refused, unless `preview` is set: then it is rendered to
`preview/<YYYY-Www>/` and never frozen. Re-running a published week returns its frozen snapshot; pass
`force_reason` to re-publish: a correction, shown on the week's page ("Ralat"), in `corrections.json` and
`feed.xml`, with the superseded version kept under `<YYYY-Www>/versi/<n>/`.

Tasks: `stage` builds the week's files in `$NETRALITAS_PUBLISH_STAGING_DIR/<YYYY-Www>/` (not public);
`sign_off` (Airflow's `ApprovalOperator`, Browse → Required Actions) asks a data steward, showing the top 10,
the movement against the last published week and the open quarantine; `publish` publishes exactly the staged
files and records who approved and when in `audit.publication_log`. Reject: nothing is published, the
rejection is logged and on-call alerted. `NETRALITAS_PUBLISH_APPROVAL=auto` approves at once (demo, tests).

* **Runbook:** `docs/runbook.md#publish_weekly_ranking` in the repository: failures and the daily tasks.
* **Owner:** netralitas-data.
* **When it fails:** a week folder appears complete or not at all; re-run the task. `WeekNotPublishable`:
  the week lies before 2018-W01 or has not ended; nothing was written. `StalePublication` in `publish`: the
  week was published by another run while this one waited for sign-off; clear the run from `stage`.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, task
from netralitas_schedule import IsoWeekTimetable, ScheduledRunLogicalDate

from include.netralitas.orchestration import alerts, assets, defaults, tags
from include.netralitas.orchestration.signoff import PublicationSignOff

with alerts.DeadlineDag(
    dag_id="publish_weekly_ranking",
    schedule=IsoWeekTimetable(),  # first scheduled week: 2024-W45, or $NETRALITAS_PUBLISH_FIRST_WEEK
    start_date=defaults.START_DATE,
    catchup=True,  # past weeks since the first scheduled week are published in order, one at a time
    max_active_runs=1,
    tags=[tags.PUBLICATION, tags.WEEKLY],
    default_args=defaults.default_args(),
    params={
        "week": Param(None, type=["null", "string"], pattern=r"^\d{4}-W\d{2}$", description="YYYY-Www"),
        "force_reason": Param(None, type=["null", "string"], description="re-publish with this reason"),
        "preview": Param(False, type="boolean", description="render a week that has not ended; never frozen"),
    },
    # alert when a scheduled run has not finished by Monday 10:00 WIB (backfills and manual runs: no deadline)
    deadline=alerts.publication_deadline(ScheduledRunLogicalDate()),
    doc_md=__doc__,
):

    @task
    def stage(params: dict | None = None, data_interval_start: datetime | None = None) -> dict:
        """Build the week's files in the staging folder (not public) and the approval request's body."""
        from include.netralitas.publish.staging import stage_week
        from include.netralitas.settings import get_settings
        from include.netralitas.warehouse.database import Warehouse
        from include.netralitas.weeks import IsoWeek, publishable_week

        params = params or {}
        preview = bool(params.get("preview"))
        week = publishable_week(params.get("week") or IsoWeek.containing(data_interval_start), preview=preview)
        settings = get_settings()
        wh = Warehouse(settings.warehouse_url)
        wh.migrate()
        staged = stage_week(
            wh, settings.publish_dir, settings.publish_staging_dir, week,
            force_reason=params.get("force_reason"), preview=preview,
        )  # fmt: skip
        print(f"{staged['week']}: staged in {staged['folder']} ({staged['outcome']}), waiting for sign-off")
        return staged

    @task(outlets=assets.outlets("publish_weekly_ranking"))
    def publish(staged: dict, answer: dict) -> dict:
        """Publish exactly the staged files (runs only when approved), with who approved and when."""
        from pathlib import Path

        from include.netralitas.orchestration.signoff import decision
        from include.netralitas.publish.staging import publish_staged
        from include.netralitas.settings import get_settings
        from include.netralitas.warehouse.database import Warehouse

        settings = get_settings()
        approval = decision(answer)
        result = publish_staged(
            Warehouse(settings.warehouse_url), settings.publish_dir, Path(staged["folder"]), approval
        )
        print(f"{result.week}: {result.outcome_text}; approved by {approval.by}; {result.rows} rows in {result.folder}")
        return result.summary()

    staged = stage()
    sign_off = PublicationSignOff(task_id="sign_off", stage_task_id="stage")
    staged >> sign_off
    publish(staged, sign_off.output)
