"""Docker does not run on the development machine: the compose file is checked by parsing it."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
AIRFLOW_SERVICES = {
    "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker", "airflow-triggerer",
}  # fmt: skip


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_official_topology_and_a_warehouse(compose):
    services = set(compose["services"])
    assert AIRFLOW_SERVICES | {"airflow-init", "postgres", "redis", "warehouse"} <= services


@pytest.mark.parametrize("service", sorted(AIRFLOW_SERVICES | {"postgres", "redis", "warehouse"}))
def test_every_long_running_service_has_a_healthcheck(compose, service):
    assert compose["services"][service]["healthcheck"]["test"]


@pytest.mark.parametrize("service", sorted(AIRFLOW_SERVICES))
def test_airflow_services_use_celery_the_project_mounts_and_the_warehouse(compose, service):
    spec = compose["services"][service]
    env = spec["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert "@warehouse:5432/" in env["NETRALITAS_WAREHOUSE_URL"]
    mounts = {volume.split(":")[1] for volume in spec["volumes"]}
    assert {"/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/project/include",
            "/opt/airflow/project/sql"} <= mounts  # fmt: skip
    assert env["PYTHONPATH"] == "/opt/airflow/project"
    assert spec["build"] == "."
    assert "_PIP_ADDITIONAL_REQUIREMENTS" not in env


def test_the_image_installs_the_lock():
    assert "requirements.lock" in (ROOT / "Dockerfile").read_text()
