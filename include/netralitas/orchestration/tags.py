"""The closed vocabulary of DAG tags (a test checks every DAG against it)."""

INGESTION = "ingestion"
WAREHOUSE = "warehouse"
PUBLICATION = "publication"
CASE_REPORTS = "case-reports"
NATIONAL_RELEASES = "national-releases"
WEEKLY = "weekly"
REPLAY = "replay"

ALL_TAGS = frozenset({INGESTION, WAREHOUSE, PUBLICATION, CASE_REPORTS, NATIONAL_RELEASES, WEEKLY, REPLAY})
OWNER = "netralitas-data"
