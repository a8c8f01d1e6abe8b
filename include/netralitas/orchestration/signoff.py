"""The data steward's sign-off of the weekly publication: Airflow's human-in-the-loop `ApprovalOperator`.

The request shows the body `publish/staging.py` wrote for the staged week (top 10, movement against the last
published week, open quarantine). Approve: the downstream `publish` task publishes exactly the staged files.
Reject: `ApprovalOperator` skips `publish`; this operator also logs the rejection (who, when) in
`audit.publication_log`, removes the staged files and alerts on-call (`alerts.send_alert`).

`NETRALITAS_PUBLISH_APPROVAL=auto` (the demo, `make run`, the tests) approves at once, recorded as `auto`; a
re-render of a frozen week (nothing new goes public) needs no answer either. The setting is read when the
task runs, never at parse time.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow.providers.standard.operators.hitl import ApprovalOperator

from include.netralitas.orchestration.alerts import Alert, send_alert

if TYPE_CHECKING:
    from airflow.sdk.definitions.context import Context

AUTO_USER = {"id": "auto", "name": "auto (NETRALITAS_PUBLISH_APPROVAL=auto)"}
UNCHANGED_USER = {"id": "auto", "name": "auto (re-render of a frozen week, signed off before)"}


class PublicationSignOff(ApprovalOperator):
    """Approve or reject the week staged by the task `stage_task_id` (its XCom: `publish/staging.py`)."""

    def __init__(self, *, stage_task_id: str, **kwargs: Any) -> None:
        pull = f"ti.xcom_pull(task_ids='{stage_task_id}')"
        super().__init__(subject="{{ " + pull + "['subject'] }}", body="{{ " + pull + "['body'] }}", **kwargs)
        self.stage_task_id = stage_task_id

    def _staged(self, context: Context) -> dict[str, Any]:
        return context["ti"].xcom_pull(task_ids=self.stage_task_id)

    def execute(self, context: Context) -> Any:
        from airflow.sdk.timezone import utcnow

        from include.netralitas.settings import get_settings

        staged = self._staged(context)
        user = None
        if not staged["needs_sign_off"]:
            user = UNCHANGED_USER
        elif get_settings().publish_approval == "auto":
            user = AUTO_USER
        if user is None:
            return super().execute(context)  # waits in awaiting_input for the steward's answer
        self.log.info("Week %s approved by %s", staged["week"], user["name"])
        event = {
            "chosen_options": [self.APPROVE], "params_input": {}, "responded_at": utcnow(), "responded_by_user": user,
        }  # fmt: skip
        return self.execute_complete(context, event)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        # before the base class: on Reject it skips `publish` by raising, so nothing after it would run
        if "error" not in event and list(event.get("chosen_options") or []) == [self.REJECT]:
            rejected(context, self._staged(context), decision(event))
        return super().execute_complete(context=context, event=event)


def decision(answer: dict[str, Any]):
    """The `Approval` (who, when) of an ApprovalOperator's answer (its XCom, or the event it completed with)."""
    from include.netralitas.publish.publication import Approval

    user = answer.get("responded_by_user") or {}
    at = answer["responded_at"]
    when = datetime.fromisoformat(at) if isinstance(at, str) else at
    return Approval(by=str(user.get("name") or user.get("id") or "?"), at=when)


def rejected(context: Context, staged: dict[str, Any], who) -> None:
    """Publish nothing, record the rejection, alert."""
    from pathlib import Path

    from include.netralitas.publish.staging import reject_staged
    from include.netralitas.settings import get_settings
    from include.netralitas.warehouse.database import Warehouse

    wh = Warehouse(get_settings().warehouse_url)
    try:
        wh.migrate()
        reject_staged(wh, Path(staged["folder"]), who)
    finally:
        wh.engine.dispose()
    ti = context["ti"]
    send_alert(
        Alert(
            "publication_rejected",
            f"[netralitas] week {staged['week']} rejected at sign-off: nothing was published",
            {
                "dag_id": ti.dag_id,
                "run_id": ti.run_id,
                "week": staged["week"],
                "outcome": staged["outcome"],
                "rejected_by": who.by,
                "rejected_at": who.at.isoformat(),
            },
        )
    )
