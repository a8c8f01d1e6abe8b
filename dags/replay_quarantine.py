"""
### replay_quarantine

Re-runs the quarantined rows of landed batches after a fix — an alias added to the mappings file
(`$NETRALITAS_ALIASES_FILE`), corrected reference data — without the office sending the file again.
Trigger it by hand with the param `batch_ids` (one or more `landing.batch.batch_id`; find them with
`SELECT batch_id, file_name, rows_quarantined FROM landing.batch WHERE rows_quarantined > 0`).
Each batch's landed file is re-validated with the same suite; quarantined rows that now pass are staged
(exactly once: rows already loaded are never loaded twice), rows that still fail stay quarantined with their
reason. Every replay is recorded in `audit.replay` and in the manifest (`landing.batch.replay_count`).
The same from a shell: `python tools/replay.py BATCH_ID ...`.

* **Outputs:** `staging.*` (which triggers `build_warehouse`), `audit.quarantine` (released rows get
  `dilepas_pada`), `audit.replay`, `landing.batch`.
* **Runbook:** `docs/runbook.md#replay_quarantine` in the repository: failures and the daily tasks.
* **Owner:** netralitas-data.
* **When it fails:** the log names each batch that could not be replayed and why (unknown id, or a rejected
  batch: drop a corrected file instead); the other batches are replayed regardless.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from include.netralitas.orchestration import assets, defaults, tags


@dag(
    dag_id="replay_quarantine",
    schedule=None,  # by hand, after a fix
    start_date=defaults.START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=[tags.INGESTION, tags.REPLAY],
    default_args=defaults.default_args(),
    params={
        "batch_ids": Param(
            [],
            type="array",
            items={"type": "string", "pattern": "^[0-9a-f]{64}$"},
            minItems=1,
            description="landing.batch.batch_id of each batch to replay",
        ),
    },
    doc_md=__doc__,
)
def replay_quarantine():
    @task(outlets=assets.outlets("replay_quarantine"))
    def replay(params: dict | None = None, run_id: str | None = None) -> dict[str, int]:
        from airflow.sdk import Variable

        from include.netralitas.ingest.pipeline import replay_batches
        from include.netralitas.settings import get_settings, hmac_key
        from include.netralitas.warehouse.database import Warehouse

        settings = get_settings()
        key = hmac_key(settings, Variable.get("netralitas_hmac_key", default=None))
        batch_ids = (params or {}).get("batch_ids") or []
        replayed, refused = replay_batches(
            Warehouse(settings.warehouse_url), settings, batch_ids, key, run_id=run_id, report=print
        )
        if refused:  # the others were replayed all the same
            reasons = "; ".join(f"{batch_id}: {reason}" for batch_id, reason in refused.items())
            raise RuntimeError(f"{len(refused)} batch(es) not replayed: {reasons}")
        return {
            "rows_loaded": sum(r.rows_loaded for r in replayed),
            "rows_quarantined": sum(r.rows_quarantined for r in replayed),
        }

    replay()


replay_quarantine()
