"""The Assets of the pipeline: one per warehouse table and per published file, with the task that writes it.

DAGs depend on each other through these, never through sensors: `build_warehouse` runs when a staging table
was updated. Every other Asset is lineage: the Airflow UI's Assets view shows which task wrote which table
or file, and when. A URI is `netralitas://warehouse/<schema>/<table>` or
`netralitas://publication/<file>`, independent of where the warehouse or the publication folder lives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow.sdk import Asset

WAREHOUSE = "netralitas://warehouse"
PUBLICATION_ROOT = "netralitas://publication"

STAGING_CASE_REPORTS = f"{WAREHOUSE}/staging/case_report"
STAGING_NATIONAL_RELEASES = f"{WAREHOUSE}/staging/national_release"
PUBLICATION = f"{PUBLICATION_ROOT}/ranking.csv"

# what each task writes (its outlets); the names are the tables' and files' own
PRODUCED = {
    "pull_office_apis": ("landing.api_pull",),
    "ingest_case_reports": (
        "landing.batch", "staging.case_report", "audit.quarantine", "audit.validation_result",
    ),
    "ingest_national_releases": (
        "landing.batch", "staging.national_release", "staging.national_release_row", "audit.quarantine",
        "audit.validation_result",
    ),
    "replay_quarantine": (
        "landing.batch", "staging.case_report", "staging.national_release", "staging.national_release_row",
        "audit.quarantine", "audit.validation_result", "audit.replay",
    ),
    "build_warehouse": (
        "core.region", "core.instansi", "core.pemilihan", "core.case_history", "core.case_current",
        "core.national_release", "core.national_release_fact", "core.merged_batch", "audit.validation_result",
        "audit.reference_load",
    ),
    "publish_weekly_ranking": (
        "mart.publication", "mart.publication_row", "audit.publication_log", "audit.publication_correction",
        "ranking.csv", "ranking.json", "index.html", "chart.png", "datapackage.json", "feed.xml", "corrections.json",
    ),
}  # fmt: skip


def uri(name: str) -> str:
    """`staging.case_report` -> netralitas://warehouse/staging/case_report; `ranking.csv` -> a publication file."""
    schema, _, table = name.partition(".")
    if schema in ("landing", "staging", "core", "mart", "audit"):
        return f"{WAREHOUSE}/{schema}/{table}"
    return f"{PUBLICATION_ROOT}/{name}"


def asset(name: str) -> Asset:
    from airflow.sdk import Asset

    return Asset(uri=uri(name), name=name, group="publication" if uri(name).startswith(PUBLICATION_ROOT) else "table")


def outlets(producer: str) -> list[Asset]:
    """The Assets a task updates: every table and file it writes."""
    return [asset(name) for name in PRODUCED[producer]]
