"""Alerts for on-call: a task failed (`on_failure()`), or the weekly publication is late
(`publication_deadline()`, callback `deadline_missed`), through the optional connections
`netralitas_alert_smtp` and `netralitas_alert_webhook`: README.md#alerts-freshness-and-lineage and
docs/runbook.md. A channel without a connection is skipped, a failing channel never stops the others; a
message never carries return values, params, run conf, NIPs or known secrets.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from airflow.sdk import DAG, BaseNotifier, DeadlineAlert, SyncCallback

from include.netralitas.weeks import DEADLINE_AFTER_LOGICAL_DATE

if TYPE_CHECKING:
    from airflow.sdk import Connection
    from airflow.sdk.definitions.context import Context
    from airflow.sdk.definitions.deadline import BaseDeadlineReference

log = logging.getLogger(__name__)

SMTP_CONN_ID = "netralitas_alert_smtp"
WEBHOOK_CONN_ID = "netralitas_alert_webhook"
WIB = ZoneInfo("Asia/Jakarta")
MAX_EXCEPTION_CHARS = 2000
WEBHOOK_TIMEOUT_S = (5.0, 15.0)  # connect, read
WEBHOOK_RETRY_STATUSES = frozenset({429, *range(500, 600)})
WEBHOOK_RETRY_AFTER_MAX_S = 60  # a server asking for longer is not waited for beyond this
# Scheduled run of the weekly publication: logical date Monday 00:00 WIB of the week, run the Monday after.
PUBLICATION_DEADLINE = DEADLINE_AFTER_LOGICAL_DATE  # 7 days 10 hours -> Monday 10:00 WIB after the week

# An 18-digit NIP, written plain or grouped 8-6-1-3 (19850101 201001 1 001).
_NIP = re.compile(r"(?<!\d)\d{8}[ .-]?\d{6}[ .-]?\d[ .-]?\d{3}(?!\d)")


class AlertDeliveryError(RuntimeError):
    """At least one configured channel could not deliver the alert (the others were still tried)."""


@dataclass(frozen=True)
class Alert:
    """One alert, rendered the same way for every channel."""

    event: str  # task_failed | deadline_missed
    subject: str
    fields: dict[str, str] = field(default_factory=dict)  # label -> value, in display order
    link: str | None = None

    def text(self) -> str:
        lines = [self.subject, ""] + [f"{k}: {v}" for k, v in self.fields.items()]
        if self.link:
            lines.append(f"log: {self.link}")
        return "\n".join(lines)

    def html(self) -> str:
        rows = "".join(
            f"<tr><th align='left'>{html.escape(k)}</th><td><pre>{html.escape(v)}</pre></td></tr>"
            for k, v in self.fields.items()
        )
        link = f"<p><a href='{html.escape(self.link, quote=True)}'>Open in Airflow</a></p>" if self.link else ""
        return f"<h3>{html.escape(self.subject)}</h3><table>{rows}</table>{link}"

    def payload(self) -> dict[str, Any]:
        return {"event": self.event, "text": self.text(), "subject": self.subject, **self.fields, "link": self.link}


def on_failure() -> AlertNotifier:
    """The failure callback for `default_args` or a task: alerts through every configured channel."""
    return AlertNotifier()


def publication_deadline(reference: BaseDeadlineReference) -> DeadlineAlert:
    """The weekly publication must have finished by Monday 10:00 WIB, 3 hours after its scheduled run.

    `reference`: the plugin's `ScheduledRunLogicalDate()` (only scheduled runs get the deadline).
    """
    return DeadlineAlert(
        reference=reference,
        interval=PUBLICATION_DEADLINE,
        callback=SyncCallback(deadline_missed),
        name="publication finished by Monday 10:00 WIB",
    )


def deadline_missed(context: Mapping[str, Any] | None = None, **_: Any) -> None:
    """Deadline callback (importable, so the executor can load it): the run has not finished in time.

    Airflow passes `context={"dag_run": <the run as the REST API shows it>, "deadline": {"id", "deadline_time"}}`.
    """
    send_alert(deadline_alert(context or {}))


class DeadlineDag(DAG):
    """A DAG whose deadline alerts are left out of `dag.test()`; scheduled runs keep them.

    In Airflow 3.3.2 `dag.test()` of a DAG with a deadline fails after its tasks succeeded (`'dict' object has
    no attribute 'hex'`: the in-memory copy `test()` schedules with keeps the encoded alerts where
    `DagRun.update_state` expects stored alert ids). tests/include/orchestration/test_alerts.py notices an
    upstream fix.
    """

    def test(self, *args: Any, **kwargs: Any) -> Any:
        deadline, self.deadline = self.deadline, None
        try:
            return super().test(*args, **kwargs)
        finally:
            self.deadline = deadline


class AlertNotifier(BaseNotifier):
    """Failure alert through the SMTP and webhook connections; a missing connection is skipped."""

    def __init__(
        self,
        *,
        smtp_conn_id: str = SMTP_CONN_ID,
        webhook_conn_id: str = WEBHOOK_CONN_ID,
        webhook_attempts: int = 3,
        webhook_backoff_s: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.smtp_conn_id = smtp_conn_id
        self.webhook_conn_id = webhook_conn_id
        self.webhook_attempts = webhook_attempts
        self.webhook_backoff_s = webhook_backoff_s

    def notify(self, context: Context) -> None:
        send_alert(
            failure_alert(context),
            smtp_conn_id=self.smtp_conn_id,
            webhook_conn_id=self.webhook_conn_id,
            webhook_attempts=self.webhook_attempts,
            webhook_backoff_s=self.webhook_backoff_s,
        )


def send_alert(
    alert: Alert,
    *,
    smtp_conn_id: str = SMTP_CONN_ID,
    webhook_conn_id: str = WEBHOOK_CONN_ID,
    webhook_attempts: int = 3,
    webhook_backoff_s: float = 1.0,
) -> dict[str, str]:
    """Send through each configured channel; return each channel's outcome (sent / not configured / failed).

    Raises `AlertDeliveryError` after all channels were tried when a configured one failed.
    """
    outcome: dict[str, str] = {}
    failed: list[str] = []
    channels = (
        ("smtp", smtp_conn_id, _send_email),
        ("webhook", webhook_conn_id, lambda a, c: _post_webhook(a, c, webhook_attempts, webhook_backoff_s)),
    )
    for name, conn_id, send in channels:
        conn = _connection(conn_id)
        if conn is None:
            log.info("alert channel %s skipped: connection %r is not defined", name, conn_id)
            outcome[name] = "not configured"
            continue
        try:
            send(alert, conn)
        except Exception as exc:
            log.exception("alert channel %s (connection %r) failed", name, conn_id)
            outcome[name] = f"failed: {type(exc).__name__}: {exc}"
            failed.append(f"{name} ({type(exc).__name__}: {exc})")
        else:
            log.info("alert %r sent through %s", alert.subject, name)
            outcome[name] = "sent"
    if failed:
        raise AlertDeliveryError(f"alert {alert.subject!r} not delivered through: {'; '.join(failed)}")
    return outcome


def failure_alert(context: Mapping[str, Any]) -> Alert:
    """The message of a failed task, from the context Airflow passes to `on_failure_callback`."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    dag_id = _first(getattr(ti, "dag_id", None), getattr(dag_run, "dag_id", None), _dag_id(context))
    task_id = _first(getattr(ti, "task_id", None), getattr(context.get("task"), "task_id", None))
    run_id = _first(getattr(ti, "run_id", None), context.get("run_id"), getattr(dag_run, "run_id", None))
    map_index = getattr(ti, "map_index", None)
    try_number = getattr(ti, "try_number", None)
    logical_date = _first(context.get("logical_date"), getattr(dag_run, "logical_date", None))
    fields = {
        "dag_id": dag_id or "?",
        "task_id": (task_id or "?") + (f" [{map_index}]" if isinstance(map_index, int) and map_index >= 0 else ""),
        "run_id": run_id or "?",
        "logical_date": _when(logical_date),
        "try_number": str(try_number) if try_number is not None else "?",
        "exception": exception_text(context.get("exception")),
    }
    link = _log_url(dag_id, run_id, task_id, map_index, try_number)
    return Alert("task_failed", f"[netralitas] {dag_id}.{task_id} failed", fields, link)


def deadline_alert(context: Mapping[str, Any]) -> Alert:
    """The message of a missed deadline, from the context Airflow passes to a deadline callback."""
    dag_run = context.get("dag_run") or {}
    deadline = context.get("deadline") or {}
    dag_id = dag_run.get("dag_id") or "?"
    run_id = dag_run.get("dag_run_id") or dag_run.get("run_id") or "?"
    deadline_time = _when(deadline.get("deadline_time"))
    fields = {
        "dag_id": dag_id,
        "run_id": run_id,
        "logical_date": _when(dag_run.get("logical_date")),
        "data_interval": f"{_when(dag_run.get('data_interval_start'))} - {_when(dag_run.get('data_interval_end'))}",
        "deadline": deadline_time,
        "state": str(dag_run.get("state") or "?"),
    }
    link = f"{base}/dags/{quote(dag_id)}/runs/{quote(run_id)}" if (base := _base_url()) else None
    return Alert("deadline_missed", f"[netralitas] {dag_id} has not finished by {deadline_time}", fields, link)


def exception_text(exception: object) -> str:
    """`Type: message` of the task's exception, secrets and NIP-shaped numbers redacted, length bounded."""
    if exception is None:
        return "(none)"
    text = f"{type(exception).__name__}: {exception}" if isinstance(exception, BaseException) else str(exception)
    text = _NIP.sub("[redacted]", _redact_secrets(text))
    if len(text) > MAX_EXCEPTION_CHARS:
        text = text[:MAX_EXCEPTION_CHARS] + f"... ({len(text) - MAX_EXCEPTION_CHARS} more characters in the log)"
    return text


def _send_email(alert: Alert, conn: Connection) -> None:
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    extra = conn.extra_dejson
    to = extra.get("to")
    if not to:
        raise ValueError(f"connection {conn.conn_id!r} has no recipients: set 'to' in its extra")
    notifier = SmtpNotifier(
        to=to if isinstance(to, str) else list(to),
        from_email=extra.get("from_email") or extra.get("from"),
        subject=alert.subject,
        html_content=alert.html(),
        smtp_conn_id=conn.conn_id,
    )
    # notify() directly: the message is final text, never a Jinja template (an exception may contain "{{").
    notifier.notify({})


def _post_webhook(alert: Alert, conn: Connection, attempts: int, backoff_s: float) -> None:
    """POST the alert through the HTTP provider's hook, retried by urllib3's `Retry` (timeouts, connection
    errors, 429 and 5xx, with exponential backoff and the server's `Retry-After`); another 4xx is final."""
    from airflow.providers.http.hooks.http import HttpHook
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(
        total=attempts - 1,
        status_forcelist=WEBHOOK_RETRY_STATUSES,
        allowed_methods=None,  # POST too: an alert sent twice beats an alert lost
        backoff_factor=backoff_s,
        respect_retry_after_header=True,
        retry_after_max=WEBHOOK_RETRY_AFTER_MAX_S,
        raise_on_status=False,  # the last answer is returned, and reported below
    )
    hook = HttpHook(method="POST", http_conn_id=conn.conn_id, adapter=HTTPAdapter(max_retries=retry))
    headers = {"Content-Type": "application/json"}
    if conn.password and not conn.login:
        headers["Authorization"] = f"Bearer {conn.password}"
    body = json.dumps(alert.payload(), ensure_ascii=False).encode("utf-8")
    response = hook.run(
        data=body, headers=headers, extra_options={"timeout": WEBHOOK_TIMEOUT_S, "check_response": False}
    )  # a timeout or connection error still failing after the retries raises here
    if response.status_code >= 300:
        raise RuntimeError(f"webhook answered HTTP {response.status_code} {response.reason}")


def _connection(conn_id: str) -> Connection | None:
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None


def _redact_secrets(text: str) -> str:
    """Values Airflow's secrets masker knows (connection passwords, masked variables) become ***."""
    try:
        from airflow.sdk._shared.secrets_masker import redact
    except ImportError:  # pragma: no cover - the masker moved; the NIP redaction still applies
        return text
    return str(redact(text))


def _base_url() -> str | None:
    from airflow.sdk.configuration import conf

    base = conf.get("api", "base_url", fallback=None)
    return base.rstrip("/") if base else None


def _log_url(
    dag_id: str | None, run_id: str | None, task_id: str | None, map_index: object, try_number: object
) -> str | None:
    base = _base_url()
    if not (base and dag_id and run_id and task_id):
        return None
    mapped = f"/mapped/{map_index}" if isinstance(map_index, int) and map_index >= 0 else ""
    attempt = f"?try_number={try_number}" if isinstance(try_number, int) and try_number > 0 else ""
    return f"{base}/dags/{quote(dag_id)}/runs/{quote(run_id)}/tasks/{quote(task_id)}{mapped}{attempt}"


def _dag_id(context: Mapping[str, Any]) -> str | None:
    dag = context.get("dag")
    return getattr(dag, "dag_id", None)


def _first(*values: Any) -> Any:
    return next((v for v in values if v not in (None, "")), None)


def _when(value: object) -> str:
    """A date-time as ISO 8601 in Asia/Jakarta (the context gives datetimes or ISO strings)."""
    if value in (None, ""):
        return "(none)"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.astimezone(WIB).isoformat() if value.tzinfo else value.isoformat()
    return str(value)
