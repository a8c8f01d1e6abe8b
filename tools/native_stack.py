"""Run the distributed Airflow topology natively, without Docker: api-server, scheduler, dag-processor and a
Celery worker as background processes, Redis as the broker and PostgreSQL as metadata database and warehouse.

    python tools/native_stack.py --metadata-url postgresql://postgres@127.0.0.1:5432/airflow \\
        --warehouse-url postgresql://postgres@127.0.0.1:5432/netralitas [--broker-url redis://127.0.0.1:6379/0]

Both databases must exist (`createdb airflow; createdb netralitas`). The command migrates the metadata
database, starts the four processes with their logs in `$AIRFLOW_HOME/logs/native/`, prints the UI address,
and stops them all on Ctrl-C or SIGTERM. This is the same topology as docker-compose.yml, and what
tests/e2e/test_celery.py starts to prove the distributed path.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
AIRFLOW = str(Path(sys.executable).parent / "airflow")
PROCESSES = ("api-server", "scheduler", "dag-processor", "celery-worker")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def airflow_url(url: str) -> str:
    """Airflow's metadata database and Celery result backend want an explicit driver."""
    return url.replace("postgresql://", "postgresql+psycopg2://", 1) if url.startswith("postgresql://") else url


@dataclass
class NativeStack:
    airflow_home: Path
    metadata_url: str
    warehouse_url: str
    broker_url: str = "redis://127.0.0.1:6379/0"
    queue: str = "default"
    port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))  # shared by every process
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_dir(self) -> Path:
        return self.airflow_home / "logs" / "native"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                "AIRFLOW_HOME": str(self.airflow_home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
                "AIRFLOW__API__BASE_URL": self.base_url,
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API_AUTH__JWT_SECRET": self.jwt_secret,
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_url(self.metadata_url),
                "AIRFLOW__CELERY__BROKER_URL": self.broker_url,
                "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + airflow_url(self.metadata_url),
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
                "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
                "NETRALITAS_WAREHOUSE_URL": self.warehouse_url,
                "GX_ANALYTICS_ENABLED": "False",
                "NO_COLOR": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def migrate(self) -> None:
        self.airflow_home.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / "db-migrate.log"
        with log.open("w") as out:
            code = subprocess.run([AIRFLOW, "db", "migrate"], env=self.env(), stdout=out, stderr=subprocess.STDOUT)
        if code.returncode:
            raise RuntimeError(f"airflow db migrate failed ({code.returncode}): see {log}")

    def start(self) -> None:
        commands = {
            "api-server": [AIRFLOW, "api-server", "--port", str(self.port), "--workers", "1"],
            "scheduler": [AIRFLOW, "scheduler"],
            "dag-processor": [AIRFLOW, "dag-processor"],
            "celery-worker": [AIRFLOW, "celery", "worker", "--queues", self.queue, "--concurrency", "2"],
        }
        env = self.env()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name in PROCESSES:
            with (self.log_dir / f"{name}.log").open("w") as out:
                self.processes[name] = subprocess.Popen(
                    commands[name], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )

    def wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                health = requests.get(f"{self.base_url}/api/v2/monitor/health", timeout=5).json()
                if health.get("metadatabase", {}).get("status") == "healthy":
                    return
            except requests.RequestException:
                pass
            time.sleep(1)
        raise TimeoutError(f"the api-server did not answer on {self.base_url} within {timeout:.0f} s")

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")

    def api(self, method: str, path: str, **kwargs) -> dict:
        response = requests.request(method, f"{self.base_url}/api/v2{path}", timeout=30, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else {}

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM every process group, then SIGKILL whatever is left after `timeout` seconds."""
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # the group: task subprocesses included
            process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--metadata-url", required=True, help="PostgreSQL URL of Airflow's metadata database")
    parser.add_argument("--warehouse-url", required=True, help="PostgreSQL URL of the warehouse")
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/0", help="Celery broker")
    parser.add_argument("--port", type=int, default=8080, help="api-server port")
    args = parser.parse_args(argv)
    home = Path(os.environ.get("AIRFLOW_HOME", ROOT / "var" / "airflow-native"))
    stack = NativeStack(home, args.metadata_url, args.warehouse_url, args.broker_url, port=args.port)

    def interrupt(signum: int, _frame) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    # Ctrl-C or a SIGTERM stops everything (a shell that starts this in the background ignores SIGINT)
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    stack.migrate()
    stack.start()
    try:
        stack.wait_healthy()
        print(f"Airflow UI and REST API on {stack.base_url} (logs in {stack.log_dir}); Ctrl-C stops everything")
        while True:
            stack.check_alive()
            time.sleep(2)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
