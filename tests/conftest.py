"""Shared fixtures: an isolated Airflow home, and a warehouse on each database (DuckDB and PostgreSQL);
the test lanes (`unit`, `integration`, `e2e`, see `pytest_collection_modifyitems`).

PostgreSQL tests use a server at NETRALITAS_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/test)
and create a fresh database per test. Without a server they skip with the reason, except under CI=true,
where they fail: CI must exercise PostgreSQL.
"""

from __future__ import annotations

import atexit
import os
import queue
import re
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="netralitas-airflow-"))
atexit.register(shutil.rmtree, _AIRFLOW_HOME, ignore_errors=True)
os.environ.update(
    {
        "AIRFLOW_HOME": str(_AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "GX_ANALYTICS_ENABLED": "False",
        "NO_COLOR": "1",
        # tests drop a file and ingest it at once; the settle interval has tests of its own
        "NETRALITAS_SETTLE_SECONDS": "0",
        # the weekly DAG's sign-off approves at once; tests/dags/test_publish_signoff.py answers it by hand
        "NETRALITAS_PUBLISH_APPROVAL": "auto",
    }
)
PG_URL = os.environ.get("NETRALITAS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
PARSE_TIMES: dict[str, float] = {}


def _pg_admin_engine():
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from include.netralitas.warehouse.database import normalise_url

    return create_engine(normalise_url(PG_URL), poolclass=NullPool, isolation_level="AUTOCOMMIT")


def _pg_available() -> str | None:
    from sqlalchemy import text

    try:
        with _pg_admin_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return f"no PostgreSQL server answers at {PG_URL}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


def require_service(service: str, reason: str | None) -> None:
    """A missing service skips the test with the reason, except under CI=true, where the test fails."""
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true requires {service}: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_server() -> str:
    require_service("PostgreSQL", _pg_available())
    return PG_URL


class _PgDatabases:
    """Fresh PostgreSQL databases made one ahead and dropped behind by one background thread, so a test neither
    waits for its database to be created nor for the last one to be dropped (together ~0.3–1 s a test, paid
    by the server while the next test runs). Each database is still used by one test only."""

    def __init__(self) -> None:
        self.jobs: queue.Queue = queue.Queue()
        self.ready: dict[str | None, queue.Queue] = {}
        self.worker = threading.Thread(target=self._work, name="pg-databases", daemon=True)
        self.worker.start()

    def _work(self) -> None:
        while (job := self.jobs.get()) is not None:
            job()

    def _make(self, template: str | None, ready: queue.Queue) -> None:
        from sqlalchemy import text

        name = f"netralitas_test_{uuid.uuid4().hex[:12]}"
        try:
            if template is None:
                with _pg_admin_engine().connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
            else:
                _pg_clone(template, name)
        except Exception as exc:  # handed to the test that waits for it
            ready.put(exc)
        else:
            ready.put(name)

    def take(self, template: str | None = None) -> str:
        """A new database: empty, or a copy of `template` (its role settings included)."""
        ready = self.ready.setdefault(template, queue.Queue())
        if ready.empty():
            self.jobs.put(lambda: self._make(template, ready))
        self.jobs.put(lambda: self._make(template, ready))  # the next test's, made while this one runs
        made = ready.get(timeout=600)
        if isinstance(made, Exception):
            raise made
        return made

    def drop(self, name: str) -> None:
        self.jobs.put(lambda: _pg_drop(name))

    def close(self) -> None:
        """Let every queued make and drop run, then drop what is left (the databases made ahead)."""
        self.jobs.put(None)
        self.worker.join()
        for ready in self.ready.values():
            while not ready.empty():
                made = ready.get()
                if isinstance(made, str):
                    _pg_drop(made)


def _pg_drop(name: str) -> None:
    from sqlalchemy import text

    with _pg_admin_engine().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_databases(pg_server: str, migrated_template):
    """(Asks for the template first, so that its drop comes after the last clone made from it.)"""
    databases = _PgDatabases()
    yield databases
    databases.close()


@pytest.fixture
def pg_url(pg_server: str, pg_databases: _PgDatabases):
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    from sqlalchemy.engine import make_url

    name = pg_databases.take()
    yield make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    pg_databases.drop(name)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """The metadata database of the tests' Airflow home, migrated once per session (for `dag.test()`)."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
    return _AIRFLOW_HOME


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory):
    """`make demo` once per session, in a temporary var/ and Airflow home. The engineer's-seat tests read it as
    the demo left it (tests/e2e/test_engineer_seat.py: they run first, see `pytest_collection_modifyitems`),
    then the runbook's commands run on it (tests/docs); the browser renders its page from a copy taken before
    any command ran. `env` is what the Makefile and the runbook's set-up export; `published` the week's
    files; `log` the demo's log and `output` what `make demo` printed."""
    import subprocess
    import sys
    from types import SimpleNamespace

    from include.netralitas.sample.generator import DEMO_WEEK

    var = tmp_path_factory.mktemp("var")
    venv_bin = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETRALITAS_", "AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
    env.update(
        {
            # what the Makefile exports
            "PYTHONPATH": str(ROOT),
            "NETRALITAS_VAR_DIR": str(var),
            "AIRFLOW_HOME": str(var / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "GX_ANALYTICS_ENABLED": "False",
            "NO_COLOR": "1",
            "NETRALITAS_PUBLISH_APPROVAL": "auto",
            # what the runbook's set-up adds: an activated venv and the operator's own files
            "VIRTUAL_ENV": str(Path(venv_bin).parent),
            "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "NETRALITAS_ALIASES_FILE": str(var / "aliases.csv"),
            "NETRALITAS_OFFICE_ENDPOINTS": str(var / "office-endpoints.csv"),
        }
    )
    # the Makefile's own recipe (`airflow db migrate`, then the chain), log and all
    done = subprocess.run(
        ["make", "--no-print-directory", "demo", f"VAR={var}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    log = (var / "logs" / "demo.log").read_text(errors="replace") if (var / "logs" / "demo.log").exists() else ""
    assert done.returncode == 0, f"make demo failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}\n{log[-3000:]}"
    published = tmp_path_factory.mktemp("demo-published") / DEMO_WEEK
    shutil.copytree(var / "publish" / DEMO_WEEK, published)  # the files themselves, behind the week's link
    shutil.copy(var / "publish" / "index.html", published.parent / "index.html")  # the week index beside it
    yield SimpleNamespace(env=env, var=var, published=published, log=log, output=done.stdout + done.stderr)
    shutil.rmtree(var, ignore_errors=True)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory, request):
    """`migrated_template(dialect)`: a warehouse migrated once per database per session, for the `warehouse`
    fixture to copy (a DuckDB file; a PostgreSQL database to name as `CREATE DATABASE ... TEMPLATE`)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from include.netralitas.warehouse.database import Warehouse

    made: dict[str, str] = {}

    def template(dialect: str) -> str:
        if dialect not in made:
            if dialect == "duckdb":
                made[dialect] = str(tmp_path_factory.mktemp("template") / "warehouse.duckdb")
                url = f"duckdb:///{made[dialect]}"
            else:
                made[dialect] = f"netralitas_template_{os.getpid()}"
                with _pg_admin_engine().connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{made[dialect]}" WITH (FORCE)'))
                    conn.execute(text(f'CREATE DATABASE "{made[dialect]}"'))
                server = make_url(request.getfixturevalue("pg_server"))
                url = server.set(database=made[dialect]).render_as_string(hide_password=False)
            wh = Warehouse(url)
            wh.migrate()
            wh.engine.dispose()  # no connection left: a PostgreSQL template must have none
        return made[dialect]

    yield template
    if "postgresql" in made:
        _pg_drop(made["postgresql"])


@pytest.fixture(scope="session")
def migrated_copy(migrated_template, tmp_path_factory, request):
    """`migrated_copy(dialect)`: the URL of a new copy of the migrated template, for a fixture that outlives one
    test (a module's shared run); the PostgreSQL copies are dropped at the end of the session."""
    from sqlalchemy.engine import make_url

    made: list[str] = []

    def copy(dialect: str) -> str:
        if dialect == "duckdb":
            path = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
            shutil.copyfile(migrated_template("duckdb"), path)
            return f"duckdb:///{path}"
        name = f"netralitas_test_{uuid.uuid4().hex[:12]}"
        _pg_clone(migrated_template("postgresql"), name)
        made.append(name)
        return make_url(request.getfixturevalue("pg_server")).set(database=name).render_as_string(hide_password=False)

    yield copy
    for name in made:
        _pg_drop(name)


def _pg_clone(template: str, name: str) -> None:
    """`CREATE DATABASE name TEMPLATE template`, plus what a template does not carry: the per-database role
    settings (migration 0013's `ALTER ROLE bi_reader IN DATABASE ... SET search_path`)."""
    from sqlalchemy import text

    with _pg_admin_engine().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        settings = conn.execute(
            text(
                "SELECT r.rolname, unnest(s.setconfig) FROM pg_db_role_setting AS s"
                " JOIN pg_database AS d ON d.oid = s.setdatabase JOIN pg_roles AS r ON r.oid = s.setrole"
                " WHERE d.datname = :t"
            ),
            {"t": template},
        ).all()
        for role, setting in settings:
            key, _, value = setting.partition("=")
            conn.execute(text(f'ALTER ROLE "{role}" IN DATABASE "{name}" SET {key} = \'{value}\''))


@pytest.fixture(params=["duckdb", "postgresql"])
def warehouse_url(request, tmp_path: Path) -> str:
    """The same test on the embedded default and on PostgreSQL: an empty database, or, when the test also asks
    for `warehouse`, a copy of the session's migrated template (`migrated_template`)."""
    migrated = "warehouse" in request.fixturenames
    if request.param == "duckdb":
        path = tmp_path / "warehouse.duckdb"
        if migrated:
            shutil.copyfile(request.getfixturevalue("migrated_template")("duckdb"), path)
        return f"duckdb:///{path}"
    if not migrated:
        return request.getfixturevalue("pg_url")
    return request.getfixturevalue("pg_migrated_url")


@pytest.fixture
def pg_migrated_url(pg_server: str, migrated_template, pg_databases: _PgDatabases):
    """A fresh PostgreSQL database cloned from the migrated template for one test, dropped afterwards."""
    from sqlalchemy.engine import make_url

    name = pg_databases.take(migrated_template("postgresql"))
    yield make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    pg_databases.drop(name)


@pytest.fixture
def warehouse(warehouse_url: str):
    """A migrated warehouse (a copy of the session's template; `migrate()` finds nothing left to apply)."""
    from include.netralitas.warehouse.database import Warehouse

    wh = Warehouse(warehouse_url)
    wh.migrate()
    yield wh
    wh.engine.dispose()


@pytest.fixture
def settings(request, tmp_path: Path, warehouse_url: str, monkeypatch):
    """The settings of a test's own var/ and warehouse. Great Expectations runs in an ephemeral context (no
    stored results, no Data Docs: a file context costs about a second a run) unless the test is marked
    `data_docs`; what runs from the environment (a DAG, a tool) keeps the file context under var/gx."""
    from dataclasses import replace

    monkeypatch.setenv("NETRALITAS_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("NETRALITAS_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("NETRALITAS_HMAC_KEY", "test-key-not-secret")
    from include.netralitas.settings import get_settings

    found = get_settings()
    return found if request.node.get_closest_marker("data_docs") else replace(found, gx_dir=None)


def personal_data_pattern(frames, minimum: int) -> re.Pattern[str]:
    """A regex matching every NIP and name of the input frames (at least `minimum` of them, so a search can
    fail); longest first, so no value hides behind a shorter one."""
    values = {v for frame in frames for col in ("nip", "nama_terlapor") for v in frame[col].dropna() if len(v) >= 5}
    assert len(values) > minimum
    return re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))


LANES = ("unit", "integration", "e2e")
# a test that asks for one of these needs a database or a service: integration
INTEGRATION_FIXTURES = {
    "warehouse_url",
    "warehouse",
    "pg_url",
    "pg_migrated_url",
    "pg_server",
    "settings",
    "migrated_copy",
}
# folders whose every test needs a database, a service or a subprocess of the project
INTEGRATION_FOLDERS = {"sql", "reliability", "tools"}
E2E_FOLDERS = {"e2e"}
# an Airflow run: the metadata database of `dag.test()`, or the demo chain that the runbook tests share
E2E_FIXTURES = {"airflow_db", "demo_env", "demo_build"}


def lane(item) -> str:
    """The test's lane: its own marker, else `e2e` for an Airflow run (`airflow_db`: `dag.test()`, the
    Celery stack, the browser), `integration` for one database or service, `unit` for the rest."""
    own = [m.name for m in item.iter_markers() if m.name in LANES]
    if own:
        return own[0]
    folder = Path(str(item.path)).relative_to(ROOT / "tests").parts[0]
    fixtures = set(getattr(item, "fixturenames", ()))
    if folder in E2E_FOLDERS or fixtures & E2E_FIXTURES:
        return "e2e"
    if folder in INTEGRATION_FOLDERS or fixtures & INTEGRATION_FIXTURES:
        return "integration"
    return "unit"


# Tests that read the session's demo build as `make demo` left it: they run before any test that changes it
# (the runbook's commands), so one demo serves both.
READS_THE_DEMO_AS_BUILT = "tests/e2e/test_engineer_seat.py"


def pytest_collection_modifyitems(config, items):
    """Every test gets exactly one lane marker: `make test-fast` is `-m unit`, `make test` runs them all.
    The tests of READS_THE_DEMO_AS_BUILT move before the first other test that uses the demo build."""
    for item in items:
        item.add_marker(getattr(pytest.mark, lane(item)))
    first = [Path(str(item.path)).relative_to(ROOT).as_posix() == READS_THE_DEMO_AS_BUILT for item in items]
    users = [i for i, item in enumerate(items) if "demo_build" in getattr(item, "fixturenames", ()) and not first[i]]
    if users and any(first):
        readers = [item for item, is_reader in zip(items, first, strict=True) if is_reader]
        rest = [item for item, is_reader in zip(items, first, strict=True) if not is_reader]
        at = rest.index(items[users[0]])
        items[:] = [*rest[:at], *readers, *rest[at:]]


def pytest_terminal_summary(terminalreporter):
    if PARSE_TIMES:
        terminalreporter.section("DAG parse time per file")
        for name, seconds in sorted(PARSE_TIMES.items()):
            terminalreporter.write_line(f"{name}: {seconds:.3f} s")


def pytest_unconfigure(config):
    """Silence only what the interpreter prints after pytest has finished: DuckDB's nanobind bindings report
    their module objects as "leaked" at shutdown once Great Expectations has run in the same process (a
    third-party teardown message, no leak of ours), which would bury pytest's closing summary line."""
    import sys

    def silence_teardown() -> None:  # runs at interpreter exit, after pytest has restored the real stderr
        sys.stderr.flush()
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)

    atexit.register(silence_teardown)
