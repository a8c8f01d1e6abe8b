"""One-shot set-up of the PostgreSQL warehouse (the compose stack's `warehouse-init`); safe to re-run.

As the server's superuser (`NETRALITAS_WAREHOUSE_ADMIN_URL`):
1. the loader role named in `NETRALITAS_WAREHOUSE_URL` gets `LOGIN` and that URL's password (created when
   missing, as an ordinary role);
2. `bi_reader` is created when missing. With `NETRALITAS_BI_READER_PASSWORD` set it gets `LOGIN` and that
   password (what a BI tool connects as); empty, it is `NOLOGIN` (no BI access);
3. the warehouse database named in the URL is created when missing and owned by the loader; `PUBLIC` loses
   `CONNECT` and `TEMPORARY` on it (migration 0007 grants `CONNECT` to the two roles); in it, bi_reader's
   `search_path` is `mart` (migration 0013 would set it too, but the loader may not alter other roles).

On a server without this script, docs/bi.md's psql steps do the same for bi_reader, or make a login per tool.

Then, as the loader, `Warehouse(url).migrate()` applies the migrations and mart views, exactly as every DAG
task does. The loader owns what the migrations create, so the tasks' own `migrate()` calls keep working; the
roles already exist, so migration 0007 only grants. Passwords come from the environment only.

    PYTHONPATH=. python docker/warehouse_init.py
"""

from __future__ import annotations

import os
import sys
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql

from include.netralitas.warehouse.database import Warehouse

READER_ROLE = "bi_reader"  # the name migration 0007 grants to


def _env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise SystemExit(f"warehouse-init: set {name}")
    return value


def _ensure_role(conn: psycopg.Connection, role: str, *, login: bool, password: str | None) -> None:
    """Create the role when missing; set whether it can log in, and its password when one is given (a role
    that cannot log in loses any password it had)."""
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    parts = [sql.SQL("ALTER ROLE {} WITH" if exists else "CREATE ROLE {}").format(sql.Identifier(role))]
    parts.append(sql.SQL("LOGIN" if login else "NOLOGIN PASSWORD NULL"))
    if login and password:
        parts.append(sql.SQL("PASSWORD {}").format(sql.Literal(password)))
    conn.execute(sql.SQL(" ").join(parts))


def prepare(admin_url: str, warehouse_url: str, reader_password: str | None) -> None:
    """Steps 1-3 of the module docstring."""
    parts = urlsplit(warehouse_url)
    loader, password, database = unquote(parts.username or ""), unquote(parts.password or ""), parts.path[1:]
    if not (loader and database):
        raise SystemExit("warehouse-init: NETRALITAS_WAREHOUSE_URL must name a user and a database")
    if loader == READER_ROLE:
        raise SystemExit(f"warehouse-init: the loader must not be {READER_ROLE}")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        _ensure_role(conn, loader, login=True, password=password)
        _ensure_role(conn, READER_ROLE, login=bool(reader_password), password=reader_password)
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
            conn.execute(
                sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(database), sql.Identifier(loader))
            )
        else:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(loader))
            )
        conn.execute(sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(sql.Identifier(database)))
        conn.execute(
            sql.SQL("ALTER ROLE {} IN DATABASE {} SET search_path = mart").format(
                sql.Identifier(READER_ROLE), sql.Identifier(database)
            )
        )


def main() -> int:
    warehouse_url = _env("NETRALITAS_WAREHOUSE_URL")
    reader_password = os.environ.get("NETRALITAS_BI_READER_PASSWORD") or None
    prepare(_env("NETRALITAS_WAREHOUSE_ADMIN_URL"), warehouse_url, reader_password)
    warehouse = Warehouse(warehouse_url)
    applied = warehouse.migrate()
    print(f"{warehouse}: schema version {warehouse.schema_version()}; applied now: {', '.join(applied) or 'nothing'}")
    print(f"{READER_ROLE}: " + ("may log in (search_path mart)" if reader_password else "NOLOGIN (no password set)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
