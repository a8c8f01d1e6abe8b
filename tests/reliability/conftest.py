"""The reliability catalogue's recorder, and the fixtures the fault tests share.

Every reliability case (a bad input or a fault) asks for the `reliability` fixture and declares itself:
its id, its kind (`input` or `fault`), a one-line description and the expected behaviour; it may add what
it observed (counts, the reason it got). At the end of a session that ran any of them, the cases and their
outcome on each database are written to `var/reliability/results.json`; `tools/reliability_report.py`
renders `docs/reliability.md` from it (`make reliability`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import ROOT

RESULTS = ROOT / "var" / "reliability" / "results.json"
KINDS = ("input", "fault")


@dataclass
class Record:
    """One run of one reliability case on one database."""

    database: str
    id: str = ""
    kind: str = ""
    description: str = ""
    expected: str = ""
    observed: list[str] = field(default_factory=list)
    outcome: str = "not run"  # passed | failed | skipped
    failure: str = ""
    test: str = ""
    only: str = ""  # the one database the case exists on (a PostgreSQL fault), else both

    def case(self, id: str, kind: str, expected: str, description: str = "", *, only: str = "") -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        self.id, self.kind, self.expected, self.description = id, kind, expected, description or id
        if only:
            self.database = self.only = only

    def observe(self, text: str) -> None:
        self.observed.append(text)


RECORD = pytest.StashKey[Record]()
PHASES = pytest.StashKey[list]()
FINISHED = pytest.StashKey[list]()


def _database(item: pytest.Item) -> str:
    """The database of the test's parameters: `warehouse_url` (the fixture), or `database` (a shared run's)."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return ""
    return str(callspec.params.get("warehouse_url") or callspec.params.get("database", ""))


@pytest.fixture
def reliability(request) -> Record:
    """Declare the running test a reliability case: `reliability.case(...)`, then `reliability.observe(...)`."""
    record = Record(database=_database(request.node), test=request.node.nodeid)
    request.node.stash[RECORD] = record
    return record


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    report = yield
    record = item.stash.get(RECORD, None)
    if record is None:
        return report
    phases = item.stash.setdefault(PHASES, [])
    message = ""
    if report.failed or report.skipped:
        crash = getattr(report.longrepr, "reprcrash", None)
        message = crash.message if crash is not None else str(report.longrepr)
        if report.skipped and isinstance(report.longrepr, tuple):
            message = report.longrepr[2]
    phases.append((report.outcome, message))
    if report.when == "teardown":
        failed = [m for outcome, m in phases if outcome == "failed"]
        skipped = [m for outcome, m in phases if outcome == "skipped"]
        record.outcome = "failed" if failed else "skipped" if skipped else "passed"
        record.failure = " ".join((failed or skipped or [""])[0].split())[:400]
        if record.id:
            item.session.stash.setdefault(FINISHED, []).append(asdict(record))
    return report


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def pytest_sessionfinish(session: pytest.Session) -> None:
    records = session.stash.get(FINISHED, [])
    if not records:
        return
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "HEAD"),
        "uncommitted_changes": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "command": " ".join(["python -m pytest", *session.config.invocation_params.args]),
        "ci": os.environ.get("CI", ""),
        "records": records,
    }
    tmp = RESULTS.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    os.replace(tmp, RESULTS)


# -- the fault tests' shared scenario -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sample(tmp_path_factory) -> Path:
    from tests.reliability import harness

    return harness.sample_source(tmp_path_factory.mktemp("reliability-sample"))


@pytest.fixture(scope="session")
def round_1(sample, tmp_path_factory, request):
    """`round_1(wh, settings)`: the state after round 1 of the scenario (harness.round_1) put into the test's
    warehouse and var folder. The round runs once per database (and per kind of GX context) per session; each
    test gets a copy: the DuckDB file copied, the PostgreSQL database re-created with `TEMPLATE`, the var
    folder copied with its files' times and relative symlinks."""
    from dataclasses import fields, replace

    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from include.netralitas.warehouse.database import Warehouse
    from tests.conftest import _pg_admin_engine, _pg_clone, _pg_drop
    from tests.reliability import harness

    made: dict[tuple[str, bool], tuple[str, Path]] = {}  # (dialect, GX file context) -> (database, var folder)

    def snapshot(dialect: str, settings) -> tuple[str, Path]:
        key = (dialect, settings.gx_dir is not None)
        if key not in made:
            base = tmp_path_factory.mktemp(f"round-1-{dialect}")
            var = base / "var"
            if dialect == "duckdb":
                database = str(base / "warehouse.duckdb")
                url = f"duckdb:///{database}"
            else:
                database = f"netralitas_round_1_{os.getpid()}_{int(key[1])}"
                with _pg_admin_engine().connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
                    conn.execute(text(f'CREATE DATABASE "{database}"'))
                url = make_url(request.getfixturevalue("pg_server")).set(database=database)
                url = url.render_as_string(hide_password=False)
            paths = {f.name: getattr(settings, f.name) for f in fields(settings)}
            moved = {  # the test's var folder and every folder under it, re-rooted under the snapshot's
                name: var / path.relative_to(settings.var_dir)
                for name, path in paths.items()
                if isinstance(path, Path) and path.is_relative_to(settings.var_dir)
            }
            wh = Warehouse(url)
            try:
                harness.round_1(wh, replace(settings, **moved, warehouse_url=url), sample)
            finally:
                wh.engine.dispose()
            made[key] = (database, var)
        return made[key]

    def restore(wh: Warehouse, settings) -> None:
        database, var = snapshot(wh.dialect, settings)
        wh.engine.dispose()
        if wh.dialect == "duckdb":
            shutil.copyfile(database, wh.engine.url.database)
        else:
            _pg_drop(wh.engine.url.database)
            _pg_clone(database, wh.engine.url.database)
        shutil.copytree(var, settings.var_dir, symlinks=True, dirs_exist_ok=True)

    yield restore
    for (dialect, _), (database, _) in made.items():
        if dialect == "postgresql":
            _pg_drop(database)


@pytest.fixture(scope="session")
def clean_state(sample, round_1, tmp_path_factory, request):
    """`clean_state(dialect)`: the state after a run of both rounds without any fault, once per database (round 1
    from its snapshot, `round_1`)."""
    from sqlalchemy import text

    from include.netralitas.warehouse.database import Warehouse
    from tests.conftest import _pg_admin_engine, _pg_drop
    from tests.reliability import harness

    cache: dict[str, dict] = {}
    databases: list[str] = []

    def compute(dialect: str) -> dict:
        if dialect in cache:
            return cache[dialect]
        base = tmp_path_factory.mktemp(f"clean-{dialect}")
        if dialect == "duckdb":
            url = f"duckdb:///{base / 'warehouse.duckdb'}"
        else:
            from sqlalchemy.engine import make_url

            server = request.getfixturevalue("pg_server")
            name = f"netralitas_clean_{os.getpid()}"
            with _pg_admin_engine().connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            databases.append(name)
            url = make_url(server).set(database=name).render_as_string(hide_password=False)
        settings = harness.settings_for(base / "var", url)
        wh = Warehouse(url)
        try:
            round_1(wh, settings)
            harness.drop(settings, harness.round_files(sample)[1])
            harness.finish_round_2(wh, settings)
            cache[dialect] = harness.state(wh, settings)
        finally:
            wh.engine.dispose()
        return cache[dialect]

    yield compute
    for name in databases:
        _pg_drop(name)
