"""Asset URIs of what the DAGs produce; DAGs depend on each other through these, never through sensors."""

STAGING_CASE_REPORTS = "netralitas://warehouse/staging/case_report"
STAGING_NATIONAL_RELEASES = "netralitas://warehouse/staging/national_release"
CORE = "netralitas://warehouse/core"
PUBLICATION = "netralitas://publication/weekly_ranking"
