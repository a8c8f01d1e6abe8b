"""netralitas: the national ranking of instansi whose ASN most violated political neutrality.

The package holds the business logic (contracts, catalogue, readers, validation, warehouse, ranking,
publication) as plain functions that never import Airflow; the DAGs in `dags/` are thin wrappers.
"""

METHODOLOGY_VERSION = "1"
