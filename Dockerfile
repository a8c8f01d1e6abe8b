# The image of every Python service of the compose stack (Airflow, warehouse-init, office-api): the official
# Airflow image of the pinned version plus the project's pinned set, installed at build time from our own lock
# (never at start-up: no _PIP_ADDITIONAL_REQUIREMENTS). The project's code (dags/, plugins/, include/, sql/)
# is mounted by docker-compose.yml, not copied; PYTHONPATH makes `include.netralitas` importable.
FROM apache/airflow:3.3.2-python3.11
USER airflow
COPY --chown=airflow:root requirements.lock /opt/netralitas/requirements.lock
RUN pip install --no-cache-dir -r /opt/netralitas/requirements.lock \
    && python -c "import airflow; assert airflow.__version__ == '3.3.2', airflow.__version__" \
    && python -c "import great_expectations, duckdb, psycopg, celery, redis, airflow.providers.openlineage"
ENV PYTHONPATH=/opt/airflow/project
