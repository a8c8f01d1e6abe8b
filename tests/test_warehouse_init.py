"""docker/warehouse_init.py (the compose stack's `warehouse-init`) against a real PostgreSQL server: the loader
logs in as an ordinary role, owns the migrated warehouse and can run the pipeline; bi_reader logs in only with
a password, lands in the mart schema and reads nothing else; a second run changes nothing.

Roles are global to the server: the test gives netralitas_loader and bi_reader back the login attributes and
password hashes they had before.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import replace

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from tests.conftest import ROOT

ROLES = ("netralitas_loader", "bi_reader")


def _run(admin_url: str, warehouse_url: str, reader_password: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "NETRALITAS_WAREHOUSE_ADMIN_URL": admin_url,
        "NETRALITAS_WAREHOUSE_URL": warehouse_url,
        "NETRALITAS_BI_READER_PASSWORD": reader_password,
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "docker" / "warehouse_init.py")], env=env, capture_output=True, text=True
    )


@pytest.fixture
def server(pg_server):
    """(admin URL, URL maker for a role and database); the roles restored and the databases dropped after."""
    admin = make_url(pg_server)
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        before = dict(
            (name, (login, password))
            for name, login, password in conn.execute(
                "SELECT rolname, rolcanlogin, rolpassword FROM pg_authid WHERE rolname = ANY(%s)", (list(ROLES),)
            )
        )
    created: list[str] = []

    def url(user: str, password: str, database: str) -> str:
        created.append(database)
        return admin.set(username=user, password=password, database=database).render_as_string(hide_password=False)

    yield conninfo, url
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for database in set(created):
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        for name in ROLES:
            login, password = before.get(name, (False, None))
            conn.execute(
                sql.SQL("ALTER ROLE {} WITH {} PASSWORD {}").format(
                    sql.Identifier(name),
                    sql.SQL("LOGIN" if login else "NOLOGIN"),
                    sql.Literal(password),
                )
            )


def test_prepares_roles_database_and_migrations_and_is_idempotent(server, tmp_path, monkeypatch):
    admin, url = server
    database = f"netralitas_init_{uuid.uuid4().hex[:10]}"
    loader_url = url("netralitas_loader", "loader-test-pw", database)

    first = _run(admin, loader_url, "reader-test-pw")
    assert first.returncode == 0, first.stderr
    assert "applied now: 0001_create_schemas.sql" in first.stdout
    for secret in ("loader-test-pw", "reader-test-pw"):
        assert secret not in first.stdout + first.stderr

    with psycopg.connect(admin, autocommit=True) as conn:
        roles = dict(
            (name, (login, superuser))
            for name, login, superuser in conn.execute(
                "SELECT rolname, rolcanlogin, rolsuper FROM pg_roles WHERE rolname = ANY(%s)", (list(ROLES),)
            )
        )
        assert roles == {"netralitas_loader": (True, False), "bi_reader": (True, False)}
        owner = conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        assert owner == ("netralitas_loader",)
    with psycopg.connect(url("netralitas_loader", "", database)) as conn:
        owners = dict(conn.execute("SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace").fetchall())
        assert {owners[s] for s in ("landing", "staging", "core", "mart", "audit")} == {"netralitas_loader"}

    # The loader runs the pipeline as an ordinary role; bi_reader then reads the result in the mart.
    from include.netralitas.ingest.pipeline import ingest_case_reports, ingest_national_releases
    from include.netralitas.sample.generator import generate_sample
    from include.netralitas.settings import get_settings
    from include.netralitas.warehouse.build import build_warehouse
    from include.netralitas.warehouse.database import Warehouse

    monkeypatch.setenv("NETRALITAS_VAR_DIR", str(tmp_path / "var"))
    settings = replace(get_settings(), warehouse_url=loader_url)
    generate_sample(settings.drop_dir, total_cases=300)
    for extra in sorted(settings.case_report_drop.iterdir())[30:]:  # 30 offices' reports are enough here
        extra.unlink()
    wh = Warehouse(loader_url)
    ingest_case_reports(wh, settings, b"test-key-not-secret")
    ingest_national_releases(wh, settings)
    build_warehouse(wh)
    wh.engine.dispose()
    with psycopg.connect(url("bi_reader", "reader-test-pw", database)) as conn:
        assert conn.execute("SHOW search_path").fetchone() == ("mart",)
        assert conn.execute("SELECT COUNT(*) FROM national_ranking").fetchone()[0] > 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT COUNT(*) FROM core.case_current")

    again = _run(admin, loader_url, "reader-test-pw")
    assert again.returncode == 0, again.stderr
    assert "applied now: nothing" in again.stdout


def test_without_a_reader_password_bi_reader_cannot_log_in(server):
    admin, url = server
    database = f"netralitas_init_{uuid.uuid4().hex[:10]}"
    result = _run(admin, url("netralitas_loader", "loader-test-pw", database), "")
    assert result.returncode == 0, result.stderr
    assert "bi_reader: NOLOGIN" in result.stdout
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        psycopg.connect(url("bi_reader", "", database)).close()


def test_refuses_a_url_without_a_database(server):
    admin, _ = server
    result = _run(admin, "postgresql://netralitas_loader:pw@127.0.0.1:5432", "")
    assert result.returncode != 0
    assert "must name a user and a database" in result.stderr
