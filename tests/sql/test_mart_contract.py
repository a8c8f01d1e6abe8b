"""The mart contract (sql/mart/contract.toml) against the catalogue of both databases, the way dbt model
contracts compare a model's columns and types with its declaration: every relation and column of `mart` has
its comment, the columns and types are the contract's, comments survive a view being re-created, the data
dictionary of docs/warehouse.md is the contract's, a change of columns bumps the contract version, and
`mart.week` is the week arithmetic of include/netralitas/weeks.py."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import text

from include.netralitas.warehouse.database import mart_comments, mart_contract, view_statements
from include.netralitas.weeks import FIRST_WEEK, WIB, IsoWeek
from tests.conftest import ROOT
from tools import mart_dictionary

CONTRACT = mart_contract()
TYPES = {  # logical type of the contract -> (PostgreSQL format_type, DuckDB data_type)
    "integer": ("integer", "INTEGER"),
    "text": ("text", "VARCHAR"),
    "date": ("date", "DATE"),
    "timestamptz": ("timestamp with time zone", "TIMESTAMP WITH TIME ZONE"),
    "numeric(5,4)": ("numeric(5,4)", "DECIMAL(5,4)"),
    "boolean": ("boolean", "BOOLEAN"),
    "jsonb": ("jsonb", "JSON"),
}
NEEDS_UNIT = {"integer", "numeric(5,4)", "date", "timestamptz"}

PG_CATALOGUE = """
SELECT c.relname, CASE c.relkind WHEN 'v' THEN 'view' ELSE 'table' END, obj_description(c.oid, 'pg_class'),
       a.attname, format_type(a.atttypid, a.atttypmod), col_description(c.oid, a.attnum)
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'mart' AND c.relkind IN ('r', 'v')
ORDER BY c.relname, a.attnum
"""
DUCKDB_CATALOGUE = """
SELECT col.table_name, CASE WHEN v.view_name IS NULL THEN 'table' ELSE 'view' END, COALESCE(v.comment, t.comment),
       col.column_name, col.data_type, col.comment
FROM duckdb_columns() AS col
LEFT JOIN duckdb_views() AS v
    ON v.database_name = col.database_name AND v.schema_name = col.schema_name AND v.view_name = col.table_name
LEFT JOIN duckdb_tables() AS t
    ON t.database_name = col.database_name AND t.schema_name = col.schema_name AND t.table_name = col.table_name
WHERE col.schema_name = 'mart' AND col.database_name = current_database()
ORDER BY col.table_name, col.column_index
"""


def catalogue(wh) -> dict[str, dict]:
    """mart.<name> -> {kind, comment, columns: [(name, type)], column_comments: {name: comment}}."""
    found: dict[str, dict] = {}
    with wh.session() as conn:
        rows = conn.execute(text(PG_CATALOGUE if wh.dialect == "postgresql" else DUCKDB_CATALOGUE)).all()
    for relation, kind, comment, column, type_, column_comment in rows:
        entry = found.setdefault(
            f"mart.{relation}", {"kind": kind, "comment": comment, "columns": [], "column_comments": {}}
        )
        entry["columns"].append((column, type_))
        entry["column_comments"][column] = column_comment
    return found


def expected_comments() -> dict[str, tuple[str, dict[str, str]]]:
    """The comment texts the migrations apply: mart.<name> -> (relation comment, {column: comment})."""
    parsed: dict[str, tuple[str, dict[str, str]]] = {}
    pattern = re.compile(r"^COMMENT ON (?:VIEW|TABLE|COLUMN) (mart\.\w+)(?:\.(\w+))? IS '(.*)'$", re.S)
    for name, statements in mart_comments().items():
        columns: dict[str, str] = {}
        about = ""
        for statement in statements:
            match = pattern.match(statement)
            assert match, statement
            value = match.group(3).replace("''", "'")
            if match.group(2):
                columns[match.group(2)] = value
            else:
                about = value
        parsed[name] = (about, columns)
    return parsed


# --- the contract itself ------------------------------------------------------------------------------------
def test_the_contract_describes_every_relation_and_column_in_both_languages():
    views = {name for name, _ in view_statements()}
    relations = CONTRACT["relations"]
    assert views <= set(relations), f"views without a contract: {views - set(relations)}"
    assert {n for n, r in relations.items() if r["kind"] == "view"} == views
    for name, relation in relations.items():
        names = [c["name"] for c in relation["columns"]]
        assert len(names) == len(set(names)), f"{name}: a column is listed twice"
        assert set(relation["grain"]) <= set(names), f"{name}: the grain names a column it does not have"
        for text_ in (relation["id"], relation["en"]):
            assert text_.strip(), f"{name}: a description in each language"
            assert "\n" not in text_, f"{name}: one line per language"
        for column in relation["columns"]:
            where = f"{name}.{column['name']}"
            assert column["type"] in TYPES, f"{where}: type {column['type']!r} is not one of the contract's"
            for text_ in (column["id"], column["en"]):
                assert text_.strip(), where
                assert "\n" not in text_, where
            if column["type"] in NEEDS_UNIT:
                unit = column.get("unit", "")
                assert re.fullmatch(r"[^/]+ / [^/]+", unit), f"{where}: needs a unit 'satuan / unit', not {unit!r}"


def test_a_change_of_columns_bumps_the_contract_version_and_its_changelog():
    version = CONTRACT["version"]
    fingerprints = CONTRACT["fingerprints"]
    assert sorted(int(v) for v in fingerprints) == list(range(1, version + 1)), (
        "sql/mart/contract.toml [fingerprints] must list every version from 1 to `version`, one each"
    )
    now = mart_dictionary.fingerprint(CONTRACT)
    assert fingerprints[str(version)] == now, (
        f"the mart's columns or types changed without a new contract version: set version = {version + 1}, add "
        f'{version + 1} = "{now}" under [fingerprints] (keep the older ones) and "### Contract v{version + 1}" '
        "to the changelog of docs/warehouse.md, saying what changed for BI users"
    )
    assert len(set(fingerprints.values())) == len(fingerprints), "two versions with the same columns"
    changelog = (ROOT / "docs" / "warehouse.md").read_text().split("## Mart contract changelog", 1)[1]
    entries = [int(v) for v in re.findall(r"^### Contract v(\d+)", changelog, re.M)]
    assert entries == list(range(version, 0, -1)), f"changelog entries {entries}, newest first, up to v{version}"


def test_the_fingerprint_sees_a_type_change():
    changed = mart_contract()
    changed["relations"]["mart.national_ranking"]["columns"][2]["type"] = "text"
    assert mart_dictionary.fingerprint(changed) != mart_dictionary.fingerprint(CONTRACT)


def test_the_data_dictionary_of_the_docs_is_generated_from_the_contract():
    page = (ROOT / "docs" / "warehouse.md").read_text()
    assert mart_dictionary.current(page) == mart_dictionary.render(CONTRACT), (
        "docs/warehouse.md's data dictionary differs from sql/mart/contract.toml:"
        " python tools/mart_dictionary.py --write"
    )
    for name in CONTRACT["relations"]:
        assert f"#### `{name}`" in page


# --- the catalogue of both databases ---------------------------------------------------------------------------
@pytest.mark.integration
def test_the_catalogue_has_the_contracts_relations_columns_types_and_comments(warehouse):
    found = catalogue(warehouse)
    assert set(found) == set(CONTRACT["relations"]), "every relation of the mart schema is in the contract"
    column = 1 if warehouse.dialect == "duckdb" else 0
    comments = expected_comments()
    for name, relation in CONTRACT["relations"].items():
        expected = [(c["name"], TYPES[c["type"]][column]) for c in relation["columns"]]
        assert found[name]["kind"] == relation["kind"], name
        assert found[name]["columns"] == expected, f"{name}: the catalogue's columns and types are not the contract's"
        about, column_comments = comments[name]
        assert found[name]["comment"] == about, f"{name}: comment"
        assert found[name]["column_comments"] == column_comments, f"{name}: column comments"
        # what a BI tool shows: Indonesian, then English, one line each; grain and units named
        assert about.count("\n") == 1
        assert "Grain: one row per (" in about
        for c in relation["columns"]:
            shown = found[name]["column_comments"][c["name"]]
            assert shown, f"{name}.{c['name']}"
            assert shown.count("\n") == 1, f"{name}.{c['name']}"
            if c["type"] in NEEDS_UNIT:
                assert "(satuan: " in shown, f"{name}.{c['name']}"
                assert "(unit: " in shown, f"{name}.{c['name']}"


@pytest.mark.integration
def test_comments_survive_a_view_being_recreated(warehouse):
    with warehouse.begin() as conn:  # as if every view's definition had changed
        conn.execute(text("UPDATE audit.schema_view SET sha256 = 'changed'"))
    from include.netralitas.warehouse.database import Warehouse

    # a Warehouse migrates once (per task entry point): the next entry point is a new one
    applied = Warehouse(warehouse.url).migrate()
    assert set(applied) == set(CONTRACT["relations"]) | {"core.counted_case"}
    assert Warehouse(warehouse.url).migrate() == []  # and nothing when nothing changed
    found = catalogue(warehouse)
    for name, (about, column_comments) in expected_comments().items():
        assert found[name]["comment"] == about
        assert found[name]["column_comments"] == column_comments


# --- mart.week ------------------------------------------------------------------------------------------------
@pytest.mark.integration
def test_mart_week_is_the_week_arithmetic_of_weeks_py(warehouse):
    before = IsoWeek.containing(datetime.now(WIB))
    with warehouse.session() as conn:
        rows = conn.execute(text("SELECT * FROM mart.week ORDER BY senin")).mappings().all()
    after = IsoWeek.containing(datetime.now(WIB))
    weeks = [IsoWeek.parse(r["minggu"]) for r in rows]
    assert weeks[0] == FIRST_WEEK
    assert weeks[-1] in {before, after}, "up to the current week in WIB"
    expected, week = [], FIRST_WEEK
    while week <= weeks[-1]:
        expected.append(week)
        week = week.next()
    assert weeks == expected, "every ISO week once, in order, none missing"
    by_name = {r["minggu"]: r for r in rows}
    assert "2020-W53" in by_name
    assert "2021-W53" not in by_name
    for name in ("2018-W01", "2020-W53", "2021-W01", "2024-W48"):
        row, week = by_name[name], IsoWeek.parse(name)
        assert (row["tahun_iso"], row["minggu_ke"]) == (week.year, week.week)
        assert (row["senin"], row["ahad"]) == (week.monday, week.sunday)
        assert row["batas_waktu"] == week.cutoff
        assert row["jadwal_terbit"] == week.publication_time
        assert row["sudah_berakhir"] is True
        assert row["diterbitkan"] is False
        assert row["dibuat_pada"] is None
        assert row["metadata"] is None
    assert by_name[str(weeks[-1])]["sudah_berakhir"] is False
    assert by_name["2024-W48"]["batas_waktu"].isoformat().startswith("2024-12-01T16:59:59")  # 23:59:59 WIB
