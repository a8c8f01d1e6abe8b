"""netralitas: the national ranking of instansi whose ASN most violated political neutrality.

One sub-package per stage of the data path (docs/architecture.md#stages); only `orchestration/` imports
Airflow, and the DAGs in `dags/` are thin wrappers.
"""

METHODOLOGY_VERSION = "2"
