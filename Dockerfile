# The image of the compose stack: the official Airflow 3.3 image plus the project's pinned set.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root requirements.lock /opt/netralitas/requirements.lock
RUN pip install --no-cache-dir -r /opt/netralitas/requirements.lock
ENV PYTHONPATH=/opt/airflow/project
