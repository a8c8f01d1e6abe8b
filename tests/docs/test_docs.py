"""The operator's handbook is true to the code.

- Every command in a `console` block of docs/runbook.md runs against the demo set-up and exits 0.
- Every `make` target and environment variable named in README.md and docs/*.md exists.
- The methodology version in the code is the newest entry of docs/methodology.md's changelog, and the
  worked example there is what the ranking query computes.
- Each DAG has its section in the runbook, and its doc_md links to it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from tests.conftest import ROOT

DOCS = ROOT / "docs"
RUNBOOK = DOCS / "runbook.md"
METHODOLOGY = DOCS / "methodology.md"
NAMED_IN = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
DEMO_WEEK = "2024-W48"

# --- Markdown helpers ---------------------------------------------------------------------------------------
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)[ \t]*(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
    re.S | re.M,
)


def fenced_blocks(markdown: str) -> list[tuple[str, str]]:
    """(language tag, body) of every fenced code block, also one indented inside a list item."""
    blocks = []
    for m in FENCE.finditer(markdown):
        indent = len(m["indent"])
        body = "".join(line[indent:] if line[:indent].isspace() else line for line in m["body"].splitlines(True))
        blocks.append((m["info"].strip().split(" ")[0].lower(), body))
    return blocks


def console_commands(markdown: str) -> list[str]:
    """Each `$ ` line of every `console` block, with `\\` continuation lines joined."""
    commands: list[str] = []
    for language, body in fenced_blocks(markdown):
        if language != "console":
            continue
        lines = body.splitlines()
        i = 0
        while i < len(lines):
            if lines[i].startswith("$ "):
                command = lines[i][2:]
                while command.endswith("\\") and i + 1 < len(lines):  # bash reads backslash-newline as a space
                    i += 1
                    command += "\n" + lines[i]
                commands.append(command)
            i += 1
    return commands


def code_text(markdown: str) -> list[str]:
    """The code of a page: fenced blocks and inline code spans (where commands are written)."""
    without_blocks = FENCE.sub("", markdown)
    return [body for _, body in fenced_blocks(markdown)] + re.findall(r"`([^`\n]+)`", without_blocks)


def section(markdown: str, heading: str) -> str:
    """The text under a `## heading` up to the next heading of level 1 or 2."""
    match = re.search(rf"^## {re.escape(heading)}[ \t]*\n(.*?)(?=^#{{1,2}} |\Z)", markdown, re.S | re.M)
    assert match, f"no section '## {heading}'"
    return match.group(1)


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")


def table_after(markdown: str, marker: str) -> list[dict[str, str]]:
    """The Markdown table that follows `<!-- marker -->`, as dicts of its cells."""
    match = re.search(rf"<!-- {re.escape(marker)} -->\n((?:\|.*\|\n)+)", markdown)
    assert match, f"no table after <!-- {marker} -->"
    lines = match.group(1).splitlines()
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True)) for line in lines[2:]]


# --- make targets and environment variables ------------------------------------------------------------------
MAKE_CALL = re.compile(r"(?<![\w/.-])make\s+((?:[A-Z_]+=\S*\s+)*)([a-z][a-z0-9_-]*)")
ENV_NAME = re.compile(
    r"(?<![A-Za-z0-9_])((?:NETRALITAS|AIRFLOW|GX|WAREHOUSE|METABASE|MB)_[A-Z0-9_]*[A-Z0-9])(?![A-Za-z0-9_])"
)
# Where a variable that the docs name must be read or set: the code and the configuration, not the tests
# (apart from their shared conftest, which reads NETRALITAS_TEST_PG_URL) and not the docs themselves.
CONFIG_FILES = ("Makefile", "docker-compose.yml", ".env.example", "Dockerfile", "tests/conftest.py")
CONFIG_DIRS = ("include", "dags", "tools", "docker", "plugins", ".ci")


def make_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z0-9_-]*)\s*:(?!=)", makefile, re.M))


def make_calls(markdown: str) -> set[str]:
    found = set()
    for code in code_text(markdown):
        code = re.sub(r"(^|\s)#.*$", "", code, flags=re.M)  # shell comments
        found |= {m.group(2) for m in MAKE_CALL.finditer(code)}
    return found


def config_corpus() -> str:
    files = [ROOT / name for name in CONFIG_FILES]
    for folder in CONFIG_DIRS:
        files += [p for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix in ("", ".py", ".sh", ".sql")]
    return "\n".join(p.read_text(errors="replace") for p in files if p.is_file() and "__pycache__" not in p.parts)


def missing_env_names(markdown: str, corpus: str) -> set[str]:
    """Variables the text names that nothing reads or sets. `AIRFLOW_CONN_<ID>` and `AIRFLOW_VAR_<KEY>` are
    Airflow's spelling of a connection or variable: they exist when the code uses that id or key."""
    missing = set()
    for name in set(ENV_NAME.findall(markdown)):
        if re.search(rf"(?<![A-Za-z0-9_]){name}(?![A-Za-z0-9_])", corpus):
            continue
        for prefix in ("AIRFLOW_CONN_", "AIRFLOW_VAR_"):
            if name.startswith(prefix) and re.search(rf"[\"']{name[len(prefix) :].lower()}[\"']", corpus):
                break
        else:
            missing.add(name)
    return missing


def test_every_make_target_named_in_the_docs_exists():
    targets = make_targets()
    assert {"help", "demo", "run", "test"} <= targets
    assert "PY" not in targets  # an assignment is not a target
    assert "export" not in targets
    unknown = {str(p.relative_to(ROOT)): sorted(make_calls(p.read_text()) - targets) for p in NAMED_IN}
    assert not {k: v for k, v in unknown.items() if v}, (
        f"make targets named in the docs but not in the Makefile: {unknown}"
    )
    named = set().union(*(make_calls(p.read_text()) for p in NAMED_IN))
    assert {"demo", "run", "help"} <= named  # the check reads what it should


def test_the_make_target_check_catches_a_made_up_target():
    page = "Run `make demo`, then `make run WEEK=2024-W48`, then:\n```console\n$ make frobnicate-all  # no\n```\n"
    page += "Prose may say make sure, and `make PYTHON=/opt/py3.11 demo` names demo.\n"
    assert make_calls(page) == {"demo", "run", "frobnicate-all"}
    assert make_calls(page) - make_targets() == {"frobnicate-all"}


def test_every_environment_variable_named_in_the_docs_exists():
    corpus = config_corpus()
    missing = {str(p.relative_to(ROOT)): sorted(missing_env_names(p.read_text(), corpus)) for p in NAMED_IN}
    assert not {k: v for k, v in missing.items() if v}, f"variables named in the docs that nothing reads: {missing}"
    named = set().union(*(ENV_NAME.findall(p.read_text()) for p in NAMED_IN))
    assert {"NETRALITAS_WAREHOUSE_URL", "NETRALITAS_OFFICE_ENDPOINTS", "NETRALITAS_HMAC_KEY"} <= named


def test_the_environment_variable_check_catches_a_made_up_name():
    corpus = config_corpus()
    page = (
        "Set `NETRALITAS_WAREHOUSE_URL` and NETRALITAS_RANKING_DEPTH=20; AIRFLOW__CORE__NOT_AN_OPTION too;\n"
        "AIRFLOW_CONN_NETRALITAS_OFFICE_API, AIRFLOW_CONN_NETRALITAS_NO_SUCH_API, AIRFLOW_VAR_NETRALITAS_HMAC_KEY.\n"
    )
    assert missing_env_names(page, corpus) == {
        "NETRALITAS_RANKING_DEPTH",
        "AIRFLOW__CORE__NOT_AN_OPTION",
        "AIRFLOW_CONN_NETRALITAS_NO_SUCH_API",
    }


# --- methodology -----------------------------------------------------------------------------------------------
def changelog_versions() -> list[str]:
    return re.findall(r"^### v(\S+)", section(METHODOLOGY.read_text(), "Changelog / Riwayat perubahan"), re.M)


def test_the_code_carries_the_newest_methodology_version_of_the_changelog():
    from include.netralitas import METHODOLOGY_VERSION

    versions = changelog_versions()
    assert versions, "docs/methodology.md has no changelog entry"
    assert len(set(versions)) == len(versions), f"a version is listed twice: {versions}"
    assert versions[0] == METHODOLOGY_VERSION, (
        f"include/netralitas/__init__.py says METHODOLOGY_VERSION = {METHODOLOGY_VERSION!r}, the newest changelog "
        f"entry of docs/methodology.md is v{versions[0]}: a rule change must bump both"
    )
    anchor = github_anchor("Changelog / Riwayat perubahan")
    assert f"(#{anchor})" in METHODOLOGY.read_text()  # the page's own link to its changelog resolves


def test_mentions_of_the_methodology_version_are_the_current_one():
    from include.netralitas import METHODOLOGY_VERSION

    files = [ROOT / "README.md", *DOCS.glob("*.md"), *(ROOT / "dags").glob("*.py")]
    files += [*(ROOT / "sql").rglob("*.sql"), *(ROOT / "include").rglob("*.py")]
    stale = {}
    for path in files:
        found = set(re.findall(r"(?i)\bmetodolog(?:y|i) v(\d+)\b", path.read_text()))
        if found - {METHODOLOGY_VERSION}:
            stale[str(path.relative_to(ROOT))] = sorted(found)
    assert not stale, f"methodology version {METHODOLOGY_VERSION} is current; these name another: {stale}"


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value) or str(value) in ("<NA>", "NaT", "nan"):
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def load_worked_example(warehouse) -> None:
    """The cases and releases of docs/methodology.md's worked example, in core (after the dimensions)."""
    from include.netralitas.warehouse.build import build_warehouse

    page = METHODOLOGY.read_text()
    cases, releases = table_after(page, "example:cases"), table_after(page, "example:releases")
    build_warehouse(warehouse)  # the dimensions: regions, instansi, elections
    received = datetime(2024, 12, 2, tzinfo=UTC)
    with warehouse.begin() as conn:
        rows, n = [], 0
        for case in cases:
            for _ in range(int(case["kasus"])):
                n += 1
                rows.append({"nomor": f"{n}/PL", "n": n, "received": received, "instansi": case["instansi_kode"],
                             "tanggal": date.fromisoformat(case["tanggal_temuan"]), "pemilihan": case["pemilihan"],
                             "status": case["status"]})  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO core.case_current (kode_kantor, nomor_kasus, batch_id, baris, received_at,"
                " tanggal_temuan, pemilihan, instansi_kode, jabatan, jenis_pelanggaran, status) VALUES ('82.04',"
                " :nomor, 'contoh', :n, :received, :tanggal, :pemilihan, :instansi, 'pelaksana', 'lainnya', :status)"
            ),
            rows,
        )
        for key in dict.fromkeys((r["penerbit"], r["tanggal_data"], r["pemilihan"]) for r in releases):
            batch = "-".join(key)
            conn.execute(
                text("INSERT INTO core.national_release VALUES (:b, :p, 'rilis', :t, :e, :r)"),
                {"b": batch, "p": key[0], "t": date.fromisoformat(key[1]), "e": key[2], "r": received},
            )
            facts = [r for r in releases if (r["penerbit"], r["tanggal_data"], r["pemilihan"]) == key]
            conn.execute(
                text("INSERT INTO core.national_release_fact VALUES (:b, :i, :j, NULL)"),
                [{"b": batch, "i": f["instansi_kode"], "j": int(f["jumlah"])} for f in facts],
            )


@pytest.mark.integration
def test_the_worked_example_is_what_the_ranking_query_computes(warehouse):
    from include.netralitas.publish.publication import compute_ranking
    from include.netralitas.weeks import IsoWeek

    load_worked_example(warehouse)
    with warehouse.session() as conn:
        ranking = compute_ranking(warehouse, conn, IsoWeek.parse(DEMO_WEEK))
    expected = table_after(METHODOLOGY.read_text(), "example:result")
    columns = list(expected[0])
    computed = [{c: _cell(row[c]) for c in columns} for row in ranking.to_dict("records")]
    assert computed == expected


def psql_blocks(markdown: str) -> list[str]:
    """The psql scripts of a page (```psql blocks: SQL with psql's meta-commands)."""
    return [body for language, body in fenced_blocks(markdown) if language == "psql"]


@pytest.fixture
def bi_logins(warehouse):
    """On PostgreSQL: runs docs/bi.md's psql blocks verbatim, as the superuser of the tests, in the warehouse
    database; yields {role: SQLAlchemy URL} of the logins they made. Roles are global to the server: bi_reader
    gets back its login attribute and password hash afterwards, the tool's login is dropped."""
    import psycopg
    from psycopg import sql

    if warehouse.dialect != "postgresql":
        yield {}
        return
    if not shutil.which("psql"):
        from tests.conftest import require_service

        require_service("psql", "no psql client on PATH: docs/bi.md's steps are psql scripts")
    url = warehouse.engine.url
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    passwords = {"NETRALITAS_BI_READER_PASSWORD": "bi-reader-test-pw", "TOOL_PASSWORD": "tool-test-pw"}
    with psycopg.connect(admin, autocommit=True) as conn:
        before = conn.execute("SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = 'bi_reader'").fetchone()
        assert not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'metabase'").fetchone(), (
            "a role metabase exists on the test server: the test of docs/bi.md's steps would change it"
        )
    blocks = psql_blocks((DOCS / "bi.md").read_text())

    def run_psql(block: str, env: dict[str, str]) -> subprocess.CompletedProcess:
        command = ["psql", admin, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"]
        return subprocess.run(command, input=block, env=env, capture_output=True, text=True, timeout=60)

    try:
        env = {k: v for k, v in os.environ.items() if k not in passwords}
        refused = run_psql(blocks[0], env)  # without the password in the environment nothing changes
        assert refused.returncode != 0
        for block in blocks:
            done = run_psql(block, {**env, **passwords})
            assert done.returncode == 0, f"{block}\n{done.stdout}\n{done.stderr}"
        with psycopg.connect(admin, autocommit=True) as conn:
            logins = dict(
                conn.execute(
                    "SELECT rolname, rolcanlogin AND rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid"
                    " WHERE rolname IN ('bi_reader', 'metabase')"
                ).fetchall()
            )
            member = conn.execute("SELECT pg_has_role('metabase', 'bi_reader', 'MEMBER')").fetchone()[0]
        assert logins == {"bi_reader": True, "metabase": True}, "both log in, with a (hashed) password"
        assert member
        yield {
            "bi_reader": url.set(username="bi_reader", password=passwords["NETRALITAS_BI_READER_PASSWORD"]),
            "metabase": url.set(username="metabase", password=passwords["TOOL_PASSWORD"]),
        }
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("ALTER ROLE bi_reader WITH {} PASSWORD {}").format(
                    sql.SQL("LOGIN" if before[0] else "NOLOGIN"), sql.Literal(before[1])
                )
            )
            conn.execute("DROP ROLE IF EXISTS metabase")


@pytest.mark.integration
def test_the_sql_of_the_bi_pages_runs_as_bi_reader(warehouse, bi_logins, tmp_path):
    """Every `sql` example of bi.md and warehouse.md runs; on PostgreSQL after bi.md's psql steps (run
    verbatim), as the logins they make: bi_reader itself and a tool's login granted bi_reader, each landing in
    the mart schema and unable to read anything else. bi.md's questions have answers on the worked example."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from include.netralitas.publish.publication import publish_week
    from include.netralitas.weeks import IsoWeek

    load_worked_example(warehouse)
    publish_week(warehouse, tmp_path / "publish", IsoWeek.parse(DEMO_WEEK))
    pages = {name: [b for lang, b in fenced_blocks((DOCS / name).read_text()) if lang == "sql"]
             for name in ("bi.md", "warehouse.md")}  # fmt: skip
    queries = [q for blocks in pages.values() for q in blocks if q.lstrip().upper().startswith(("SELECT", "WITH"))]
    assert len([q for q in pages["bi.md"] if q.lstrip().upper().startswith(("SELECT", "WITH"))]) == 2
    assert len(queries) >= 8
    if warehouse.dialect == "duckdb":
        with warehouse.session() as conn:
            answers = {q: conn.execute(text(q.strip().rstrip(";"))).all() for q in queries}
    else:
        assert len(psql_blocks((DOCS / "bi.md").read_text())) == 2
        answers = {}
        for role, url in bi_logins.items():
            engine = create_engine(url.set(drivername="postgresql+psycopg"), poolclass=NullPool)
            try:
                with engine.connect() as conn:
                    assert conn.execute(text("SELECT current_user")).scalar_one() == role
                    assert conn.execute(text("SHOW search_path")).scalar_one() == "mart"
                    assert conn.execute(text("SELECT COUNT(*) FROM published_ranking")).scalar_one() > 0
                    for query in queries:
                        answers[query] = conn.execute(text(query.strip().rstrip(";"))).all()
                    conn.rollback()
                    with pytest.raises(Exception, match="permission denied"):  # the check is real: core is closed
                        conn.execute(text("SELECT COUNT(*) FROM core.case_current"))
            finally:
                engine.dispose()
    for query in pages["bi.md"]:
        if query in answers:
            assert answers[query], f"no answer on the example data:\n{query}"


# --- the runbook ----------------------------------------------------------------------------------------------
DAG_IDS = sorted(p.stem for p in (ROOT / "dags").glob("*.py") if not p.name.startswith("_"))


def test_every_dag_has_a_runbook_section():
    headings = re.findall(r"^## (\S+)\s*$", RUNBOOK.read_text(), re.M)
    assert set(DAG_IDS) <= set(headings), f"DAGs without a '## <dag_id>' section: {set(DAG_IDS) - set(headings)}"


def test_every_dag_doc_links_to_its_runbook_section():
    unlinked = [d for d in DAG_IDS if f"runbook.md#{d}" not in (ROOT / "dags" / f"{d}.py").read_text()]
    assert not unlinked, f"these DAGs' doc_md do not link to docs/runbook.md#<dag_id>: {unlinked}"


def test_runbook_commands_are_found():
    commands = console_commands(RUNBOOK.read_text())
    assert len(commands) >= 10
    assert "make help" in commands
    sample = "```console\n$ echo one \\\n  two\nprinted output\n$ true\n```\n```bash\n$ false\n```\n"
    sample += "1. In a list:\n\n   ```console\n   $ echo indented\n   ```\n"
    assert console_commands(sample) == ["echo one \\\n  two", "true", "echo indented"]


def test_links_between_the_docs_resolve():
    """Relative links point at files that exist, and `#anchors` at headings of their page."""
    broken = []
    for page in NAMED_IN:
        for target in re.findall(r"\]\(([^)\s]+)\)", FENCE.sub("", page.read_text())):
            if re.match(r"[a-z]+:", target):
                continue  # an external address
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif anchor and linked.suffix == ".md":
                headings = re.findall(r"^#{1,6} (.+?)\s*$", FENCE.sub("", linked.read_text()), re.M)
                if anchor not in {github_anchor(h) for h in headings}:
                    broken.append(f"{page.name}: {target} (no such heading)")
    assert not broken, broken


def setup_exports() -> set[str]:
    """The variables the runbook's set-up block exports (the test gives each command the same ones)."""
    setup = section(RUNBOOK.read_text(), "Before you start")
    names: set[str] = set()
    for language, body in fenced_blocks(setup):
        if language in ("bash", "sh"):
            for line in re.findall(r"^export (.+)$", body, re.M):
                names |= set(re.findall(r"([A-Z][A-Z0-9_]*)=", line))
    return names


@pytest.fixture(scope="module")
def demo_env(demo_build) -> dict[str, str]:
    """The demo set-up, as `make demo` builds it (once per session, tests/conftest.py `demo_build`)."""
    return demo_build.env


def test_the_setup_block_exports_what_the_commands_are_given(demo_env):
    exported = setup_exports()
    assert {"NETRALITAS_VAR_DIR", "NETRALITAS_ALIASES_FILE", "NETRALITAS_OFFICE_ENDPOINTS"} <= exported
    assert exported <= set(demo_env), (
        f"exported in the runbook but not given to the commands: {exported - set(demo_env)}"
    )


def test_every_runnable_runbook_command_exits_0_on_the_demo(demo_env):
    """In order, as an operator follows the page: later commands see what earlier ones did."""
    for command in console_commands(RUNBOOK.read_text()):
        done = subprocess.run(
            ["bash", "-c", command], cwd=ROOT, env=demo_env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, (
            f"`{command}` exited {done.returncode}\n"
            f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
        )
