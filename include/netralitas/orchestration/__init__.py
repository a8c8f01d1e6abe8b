"""Everything that knows Airflow: DAG defaults, failure and deadline alerts, Assets, tags.

The only sub-package that imports `airflow` (tests/include/test_layout.py checks it).
"""
