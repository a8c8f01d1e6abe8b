"""The SQL warehouse: one code path for the embedded default (DuckDB) and PostgreSQL, chosen by URL.

SQL lives in `sql/` (migrations, core transformations, mart queries) and takes values only as bound
parameters. Dialect differences are isolated here: the bulk load (PostgreSQL `COPY`, DuckDB's scan of a
registered DataFrame), the serialisation of writers (an advisory lock on PostgreSQL, a file lock beside
the DuckDB file, which admits one process at a time) and the URL spelling. See docs/decisions/.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
import tomllib
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import TextClause, create_engine, text
from sqlalchemy.pool import NullPool

from include.netralitas.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from sqlalchemy.engine import Connection, Engine

SQL_DIR = PROJECT_ROOT / "sql"
MIGRATIONS_DIR = SQL_DIR / "migrations"
RANKING_SQL = "mart/national_ranking.sql"
VIEW_GLOB = "mart/create_view_*.sql"
RANKING_MARKER = "-- @ranking: sql/mart/national_ranking.sql, :cutoff_date = today in WIB"
TODAY_WIB = "CAST(now() AT TIME ZONE 'Asia/Jakarta' AS DATE)"  # as mart.week: the date in Asia/Jakarta
CONTRACT = "mart/contract.toml"
CORE_VIEWS = "core/create_view_*.sql"
LOCK_TIMEOUT_S = int(os.environ.get("NETRALITAS_LOCK_TIMEOUT_S", "600"))
PG_LOCK_KEY = 7_340_2024  # pg_advisory_xact_lock key of netralitas writers
COPY_CHUNK_ROWS = 16_384  # rows per CSV chunk of a PostgreSQL bulk load


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here (psycopg2 is only Airflow's)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@cache
def read_sql(relative: str) -> str:
    return (SQL_DIR / relative).read_text()


@cache
def sql(relative: str) -> TextClause:
    """The statement of `sql/<relative>`: one statement per file, values only as bound parameters."""
    return text(read_sql(relative))


def split_statements(script: str) -> list[str]:
    """Statements of a migration file: separated by `;` at the end of a line, outside `$$` bodies."""
    statements: list[str] = []
    current: list[str] = []
    in_body = False
    for line in script.splitlines():
        current.append(line)
        in_body ^= line.count("$$") % 2 == 1
        if not in_body and line.rstrip().endswith(";"):
            statements.append("\n".join(current))
            current = []
    statements.append("\n".join(current))
    cleaned = []
    for statement in statements:
        code = [ln for ln in statement.splitlines() if ln.strip() and not ln.strip().startswith("--")]
        if code:
            cleaned.append(statement.strip().rstrip(";").strip())
    return cleaned


def view_statements() -> list[tuple[str, str]]:
    """The mart views as (name, CREATE OR REPLACE VIEW statement), re-applied when their text changes.

    `mart.national_ranking` is the ranking query of the publication with the cut-off set to today, inlined
    at the marker line of sql/mart/create_view_national_ranking.sql, so the methodology is written once
    (sql/mart/national_ranking.sql); it comes first, the other views in file-name order may read it.
    """
    ranking = read_sql(RANKING_SQL).strip().rstrip(";").replace(":cutoff_date", TODAY_WIB)
    views = []
    for path in sorted(SQL_DIR.glob(VIEW_GLOB)):
        statement = _statement(path)
        reads_nothing_of_the_mart = RANKING_MARKER in statement
        if reads_nothing_of_the_mart:
            statement = statement.replace(RANKING_MARKER, ranking)
        views.append((not reads_nothing_of_the_mart, f"mart.{path.stem.removeprefix('create_view_')}", statement))
    # mart.national_ranking first: other mart views (mart.instansi_trend) read it.
    return [(name, statement) for _, name, statement in sorted(views, key=lambda view: view[0])]


def mart_contract() -> dict[str, Any]:
    """sql/mart/contract.toml: the comments, columns and types of every relation of the mart schema."""
    return tomllib.loads(read_sql(CONTRACT))


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"  # COMMENT takes no bind parameter; the text is the repo's own


def mart_comments() -> dict[str, list[str]]:
    """The COMMENT statements of each mart relation (sql/mart/contract.toml): Indonesian, then English, one
    line each; a relation's comment names its grain and the contract version, a column's its unit."""
    contract = mart_contract()
    comments: dict[str, list[str]] = {}
    for name, relation in contract["relations"].items():
        grain = ", ".join(relation["grain"])
        version = contract["version"]
        about = (
            f"{relation['id']} Butir: satu baris per ({grain}). Kontrak mart v{version}.\n"
            f"{relation['en']} Grain: one row per ({grain}). Mart contract v{version}."
        )
        kind = "VIEW" if relation["kind"] == "view" else "TABLE"
        statements = [f"COMMENT ON {kind} {name} IS {_literal(about)}"]
        for column in relation["columns"]:
            unit_id, _, unit_en = column.get("unit", "").partition(" / ")
            text_id = column["id"] + (f" (satuan: {unit_id})" if unit_id else "")
            text_en = column["en"] + (f" (unit: {unit_en})" if unit_en else "")
            statements.append(f"COMMENT ON COLUMN {name}.{column['name']} IS {_literal(text_id + chr(10) + text_en)}")
        comments[name] = statements
    return comments


def all_view_statements() -> list[tuple[str, str]]:
    """Every view in creation order: `core/create_view_*.sql` (`core.counted_case`, the one definition of a
    counted case, read by every query that counts), then the mart views."""
    core = [(f"core.{p.stem.removeprefix('create_view_')}", _statement(p)) for p in sorted(SQL_DIR.glob(CORE_VIEWS))]
    return core + view_statements()


def _statement(path: Path) -> str:
    return path.read_text().strip().rstrip(";")


# DuckDB takes up to 80 % of the machine's RAM by default, inside the Airflow worker's process: the embedded
# warehouse is bounded instead, spilling to `<database>.tmp/` beyond the limit. 300 MB builds the 1M-row
# warehouse with the chain's process under 1 GB (150 MB still built it; an `ON CONFLICT` upsert into a keyed
# table does not spill, so a much smaller limit can fail a large re-sent drop) (docs/performance.md). A
# `?memory_limit=…` or `?temp_directory=…` in the URL wins.
DUCKDB_MEMORY_LIMIT = "300MB"


def duckdb_config(url: str) -> dict[str, str]:
    """The connection settings of an embedded warehouse at `url` (a DuckDB URL) that its query does not set."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    config = {"memory_limit": DUCKDB_MEMORY_LIMIT}
    database = parsed.database
    if database and database != ":memory:":
        config["temp_directory"] = f"{database}.tmp"
    return {k: v for k, v in config.items() if k not in parsed.query}


class Warehouse:
    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        connect_args = {"config": duckdb_config(self.url)} if self.url.startswith("duckdb") else {}
        self.engine: Engine = create_engine(self.url, poolclass=NullPool, connect_args=connect_args)
        self.dialect = self.engine.dialect.name  # "duckdb" or "postgresql"
        self._migrated = False
        if self.dialect not in ("duckdb", "postgresql"):
            raise ValueError(f"unsupported warehouse {self.dialect!r}: use duckdb:/// or postgresql:// URLs")
        if self.dialect == "duckdb":
            database = self.engine.url.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"Warehouse({self.engine.url.render_as_string(hide_password=True)})"

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        database = self.engine.url.database
        if self.dialect != "duckdb" or not database or database == ":memory:":
            yield
            return
        with open(f"{database}.lock", "a+") as handle:
            deadline = time.monotonic() + LOCK_TIMEOUT_S
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{database} is locked by another writer") from None
                    time.sleep(0.2)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def session(self) -> Iterator[Connection]:
        """One connection for a unit of work (DuckDB admits one process at a time: the file lock)."""
        with self._file_lock(), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def transaction(self, conn: Connection) -> Iterator[Connection]:
        """One transaction on `conn`, serialised against every other netralitas writer."""
        if conn.in_transaction():  # SQLAlchemy began one implicitly for an earlier read: end it
            conn.commit()
        with conn.begin():
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
            yield conn

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A session with one transaction."""
        with self.session() as conn, self.transaction(conn):
            yield conn

    # -- migrations ---------------------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply pending migrations and changed views; return the applied names.

        Once per `Warehouse` (each task entry point makes one): the helpers that call it again find it done.
        """
        if self._migrated:
            return []
        applied_now: list[str] = []
        with self.begin() as conn:
            conn.execute(sql("audit/create_schema_audit.sql"))
            conn.execute(sql("audit/create_table_schema_migration.sql"))
            done = {row.version: row for row in conn.execute(sql("audit/select_schema_migrations.sql"))}
            for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
                version, _, rest = path.name.partition("_")
                only = rest.removesuffix(".sql").rpartition(".")[2] if rest.count(".") > 1 else None
                if only and only != self.dialect:
                    continue
                script = path.read_text()
                digest = hashlib.sha256(script.encode()).hexdigest()
                if int(version) in done:
                    if done[int(version)].sha256 != digest:
                        raise RuntimeError(
                            f"migration {path.name} changed after it was applied; add a new migration instead"
                        )
                    continue
                for statement in split_statements(script):
                    conn.execute(text(statement))
                conn.execute(
                    sql("audit/insert_schema_migration.sql"),
                    {"v": int(version), "n": path.name, "s": digest, "t": datetime.now(UTC)},
                )
                applied_now.append(path.name)
            applied_now += self._apply_views(conn)
        self._migrated = True
        return applied_now

    def _apply_views(self, conn: Connection) -> list[str]:
        """Repeatable migrations: the core and mart views are (re)created, and the mart relations commented,
        when a definition or its comments changed. Views read views (the mart reads core.counted_case): when one
        changes, all are dropped in reverse order and re-created, each followed by its comments (a re-created
        view has lost them); a mart table is re-commented when its comments changed. Definitions and comments:
        sql/core/create_view_*.sql, sql/mart/create_view_*.sql, sql/mart/contract.toml."""
        conn.execute(sql("audit/create_table_schema_view.sql"))
        known = dict(conn.execute(sql("audit/select_schema_views.sql")).all())
        comments = mart_comments()
        statements = all_view_statements()
        names = {name for name, _ in statements}
        scripts = [(name, [sql_, *comments.get(name, [])], True) for name, sql_ in statements]
        scripts += [(name, lines, False) for name, lines in comments.items() if name not in names]  # tables
        digests = {name: hashlib.sha256("\n;\n".join(script).encode()).hexdigest() for name, script, _ in scripts}
        changed = [name for name, _, _ in scripts if known.get(name) != digests[name]]
        if not changed:
            return []
        views_changed = any(is_view for name, _, is_view in scripts if name in changed)
        if views_changed:  # columns may have changed: drop every view, dependants first
            for name, _ in reversed(statements):
                conn.execute(text(f"DROP VIEW IF EXISTS {name} CASCADE"))  # names come from sql/ file names
        for name, script, is_view in scripts:
            if not (is_view and views_changed) and name not in changed:
                continue
            for step in script:
                conn.execute(text(step))
            conn.execute(sql("audit/delete_schema_view.sql"), {"n": name})
            conn.execute(sql("audit/insert_schema_view.sql"), {"n": name, "s": digests[name], "t": datetime.now(UTC)})
        return changed

    def schema_version(self) -> int:
        with self.session() as conn:
            return conn.execute(sql("audit/select_schema_version.sql")).scalar_one() or 0

    # -- loads --------------------------------------------------------------------------------------------
    def bulk_insert(self, conn: Connection, table: str, frame: pd.DataFrame) -> int:
        """Append `frame` to `table` (schema.name, a constant of the code) by the database's bulk path.

        A frame of text, integer, boolean, date and timestamp columns goes through Arrow: on DuckDB the Arrow
        table is registered and inserted with `INSERT ... SELECT` (no type sniffing of object columns), on
        PostgreSQL Arrow's C++ writer serialises it as CSV for one `COPY` (nulls unquoted-empty, text always
        quoted), streamed in chunks of COPY_CHUNK_ROWS rows. Any other frame takes the row-by-row `COPY`
        (PostgreSQL) or the DataFrame scan (DuckDB)."""
        if frame.empty:
            return 0
        columns = list(frame.columns)
        column_list = ", ".join(columns)
        arrow = _arrow_table(frame)
        raw = conn.connection.dbapi_connection
        if self.dialect == "postgresql":
            if arrow is not None:
                import pyarrow as pa
                import pyarrow.csv

                options = pyarrow.csv.WriteOptions(include_header=False)
                with (
                    raw.cursor() as cursor,
                    cursor.copy(f"COPY {table} ({column_list}) FROM STDIN (FORMAT csv)") as copy,
                ):  # streamed: the server parses one chunk while Arrow writes the next, no copy of the whole CSV
                    for chunk in arrow.to_batches(max_chunksize=COPY_CHUNK_ROWS):
                        sink = pa.BufferOutputStream()
                        pyarrow.csv.write_csv(chunk, sink, options)
                        copy.write(memoryview(sink.getvalue()))
            else:
                with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                    for row in frame.itertuples(index=False, name=None):
                        copy.write_row(tuple(None if _missing(v) else v for v in row))
        else:
            view = f"_bulk_{table.replace('.', '_')}"
            raw.register(view, arrow if arrow is not None else frame)
            try:
                raw.execute(f"INSERT INTO {table} ({column_list}) SELECT {column_list} FROM {view}")
            finally:
                raw.unregister(view)
        return len(frame)

    def bulk_upsert(self, conn: Connection, table: str, frame: pd.DataFrame, relative: str) -> int:
        """Load `frame` in bulk into a temporary table shaped like `table` (schema.name, a constant of the code),
        named `incoming_<name>`, then run `sql/<relative>`, the one statement that merges it into `table`."""
        incoming = f"incoming_{table.partition('.')[2]}"
        conn.execute(text(f"CREATE TEMPORARY TABLE {incoming} AS SELECT * FROM {table} WHERE FALSE"))
        try:
            self.bulk_insert(conn, incoming, frame)
            return self.execute_file(conn, relative).rowcount
        finally:
            conn.execute(text(f"DROP TABLE {incoming}"))

    def execute_file(self, conn: Connection, relative: str, params: Mapping[str, Any] | list | None = None):
        return conn.execute(text(read_sql(relative)), params or {})

    def query_file(self, relative: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        with self.session() as conn:
            result = conn.execute(text(read_sql(relative)), params or {})
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _arrow_table(frame: pd.DataFrame):
    """The frame as an Arrow table when every column is text, integer, boolean, date, timestamp or all
    missing (types whose CSV and Arrow forms both databases read back exactly); else None."""
    import pyarrow as pa

    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):  # mixed or unknown objects
        return None
    simple = (pa.types.is_string, pa.types.is_large_string, pa.types.is_integer, pa.types.is_boolean,
              pa.types.is_date32, pa.types.is_timestamp, pa.types.is_null)  # fmt: skip
    if not all(any(check(field.type) for check in simple) for field in table.schema):
        return None
    return table.replace_schema_metadata(None)


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)
