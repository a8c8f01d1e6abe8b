"""What every DAG shares: owner, retries, timezone, start date, failure callback (style.md §8)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from include.netralitas.orchestration import alerts, tags
from include.netralitas.weeks import EARLIEST_START

TIMEZONE = "Asia/Jakarta"  # the timetables' timezone (weeks.WIB as a name)
START_DATE = EARLIEST_START  # 2018-W01 Monday 00:00 WIB: every publishable week has task instances
RETRIES = 2
RETRY_DELAY = timedelta(minutes=5)


def default_args() -> dict[str, Any]:
    """`default_args` of every DAG; the failure callback mails and posts when its connections exist."""
    return {
        "owner": tags.OWNER,
        "retries": RETRIES,
        "retry_delay": RETRY_DELAY,
        "on_failure_callback": alerts.on_failure(),
    }
