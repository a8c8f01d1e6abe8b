"""The BI layer on both databases, over the sample data: documented example queries, no personal data,
idempotent builds, and (PostgreSQL) the bi_reader role."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import text

from include.netralitas.ingest.pipeline import ingest_case_reports, ingest_national_releases
from include.netralitas.ingest.readers import read_case_report
from include.netralitas.publish.publication import publish_week
from include.netralitas.sample.generator import DEMO_WEEK, generate_sample
from include.netralitas.settings import get_settings
from include.netralitas.warehouse.build import build_warehouse
from include.netralitas.warehouse.database import Warehouse, view_statements
from include.netralitas.weeks import IsoWeek
from tests.conftest import ROOT, _pg_admin_engine, personal_data_pattern

DOC = ROOT / "docs" / "warehouse.md"
MART_VIEWS = sorted(name for name, _ in view_statements())
KEY = b"test-key-not-secret"


@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def loaded(request, tmp_path_factory):
    """A warehouse holding the sample data (all 552 offices), built and published for the demo week."""
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "duckdb":
        url = f"duckdb:///{folder / 'warehouse.duckdb'}"
    else:
        server = request.getfixturevalue("pg_server")
        name = f"netralitas_test_{uuid.uuid4().hex[:12]}"
        with _pg_admin_engine().connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.rsplit("/", 1)[0] + f"/{name}"
    base = get_settings()
    settings = replace(
        base,
        drop_dir=folder / "drop",
        landing_dir=folder / "landing",
        publish_dir=folder / "publish",
        warehouse_url=url,
        gx_dir=None,  # an ephemeral GX context: nothing here reads stored results or Data Docs
    )
    generate_sample(settings.drop_dir, total_cases=600)
    raw = [read_case_report(p) for p in sorted(settings.case_report_drop.iterdir())]
    wh = Warehouse(url)
    ingest_case_reports(wh, settings, KEY)
    ingest_national_releases(wh, settings)
    build_warehouse(wh)
    publish_week(wh, settings.publish_dir, IsoWeek.parse(DEMO_WEEK))
    yield wh, raw
    wh.engine.dispose()
    if request.param == "postgresql":
        with _pg_admin_engine().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))


def example_queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", DOC.read_text(), flags=re.S)


def test_every_mart_view_is_documented():
    doc = DOC.read_text()
    for view in MART_VIEWS:
        assert f"### `{view}`" in doc
    assert len(example_queries()) == len(MART_VIEWS)


@pytest.mark.parametrize("index", range(len(example_queries())))
def test_documented_example_query_runs(loaded, index):
    wh, _ = loaded
    with wh.session() as conn:
        rows = conn.execute(text(example_queries()[index])).all()
    assert rows, "every example query returns rows on the sample data"


def test_office_freshness_lists_every_office(loaded):
    wh, _ = loaded
    with wh.session() as conn:
        counts = conn.execute(text("SELECT status_laporan, COUNT(*) FROM mart.office_freshness GROUP BY 1")).all()
    assert dict(counts) == {"ada": 552}
    with wh.session() as conn:
        rows = conn.execute(
            text("SELECT CAST(laporan_terakhir AS DATE), hari_sejak_laporan, CURRENT_DATE FROM mart.office_freshness")
        ).all()
    assert len(rows) == 552
    assert all(last + timedelta(days=int(days)) == today for last, days, today in rows)
    assert min(days for _, days, _ in rows) > 300  # the sample's reports are from 2024


def test_reconciliation_matches_the_regional_count_up_to_the_as_of_date(loaded):
    wh, _ = loaded
    with wh.session() as conn:
        row = conn.execute(text("SELECT * FROM mart.reconciliation ORDER BY n_rilis DESC LIMIT 1")).mappings().one()
        regional = conn.execute(
            text(
                "SELECT COUNT(*) FROM core.case_current WHERE instansi_kode = :i AND pemilihan = :e"
                " AND status <> 'dihentikan' AND tanggal_temuan <= :t"
            ),
            {"i": row["instansi_kode"], "e": row["pemilihan"], "t": row["tanggal_data"]},
        ).scalar_one()
    assert row["r_sampai_tanggal_data"] == regional
    assert row["selisih"] == row["n_rilis"] - regional


def _tables(conn) -> list[str]:
    rows = conn.execute(
        text(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema IN ('staging', 'core', 'mart', 'audit')"
        )
    ).all()
    return sorted(f"{schema}.{name}" for schema, name in rows)


def test_no_nip_or_name_of_the_input_is_anywhere_outside_the_landing_zone(loaded):
    wh, raw = loaded
    pattern = personal_data_pattern(raw, minimum=500)
    with wh.session() as conn:
        tables = _tables(conn)
        assert {"core.case_current", "staging.case_report", "mart.national_ranking"} <= set(tables)
        for table in tables:
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                found = pattern.search(" | ".join(str(v) for v in row))
                assert found is None, f"{table} holds personal data of the input"


def _checksums(wh: Warehouse) -> dict[str, str]:
    sums = {}
    with wh.session() as conn:
        for view in MART_VIEWS:
            rows = sorted(repr(tuple(str(v) for v in r)) for r in conn.execute(text(f"SELECT * FROM {view}")))
            sums[view] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return sums


def test_building_twice_leaves_every_mart_view_identical(loaded):
    wh, _ = loaded
    before = _checksums(wh)
    build_warehouse(wh)
    assert _checksums(wh) == before


def test_bi_reader_reads_the_mart_only(loaded):
    wh, _ = loaded
    if wh.dialect != "postgresql":
        pytest.skip("roles exist on PostgreSQL only; the embedded database has no users")
    with wh.engine.connect() as conn:  # migration 0013 (run by a superuser here) set bi_reader's search_path
        settings = conn.execute(
            text(
                "SELECT s.setconfig FROM pg_db_role_setting AS s JOIN pg_database AS d ON d.oid = s.setdatabase"
                " WHERE d.datname = current_database() AND s.setrole = 'bi_reader'::regrole"
            )
        ).scalar_one()
        assert settings == ["search_path=mart"]
        conn.execute(text("SET ROLE bi_reader"))
        for view in MART_VIEWS + ["mart.publication", "mart.publication_row"]:
            conn.execute(text(f"SELECT COUNT(*) FROM {view}")).scalar_one()
        conn.rollback()
        for table in ("staging.case_report", "core.case_current", "audit.quarantine", "landing.batch"):
            conn.execute(text("SET ROLE bi_reader"))
            with pytest.raises(Exception, match="permission denied"):
                conn.execute(text(f"SELECT COUNT(*) FROM {table}"))
            conn.rollback()


def test_mart_week_shows_the_published_week_and_joins_the_publication(loaded):
    wh, _ = loaded
    with wh.session() as conn:
        week = conn.execute(text("SELECT * FROM mart.week WHERE minggu = :w"), {"w": DEMO_WEEK}).mappings().one()
        header = conn.execute(text("SELECT * FROM mart.publication WHERE minggu = :w"), {"w": DEMO_WEEK}).mappings()
        header = header.one()
        published = conn.execute(text("SELECT minggu FROM mart.week WHERE diterbitkan ORDER BY minggu")).scalars()
        published = published.all()
        total, joined = conn.execute(
            text(
                "SELECT COUNT(*), COUNT(w.minggu) FROM mart.published_ranking AS p"
                " LEFT JOIN mart.week AS w ON w.minggu = p.minggu"
            )
        ).one()
    assert published == [DEMO_WEEK]
    assert week["diterbitkan"] is True
    assert week["dibuat_pada"] == header["dibuat_pada"]
    assert week["batas_waktu"] == header["batas_waktu"] == IsoWeek.parse(DEMO_WEEK).cutoff
    assert (week["versi_metodologi"], week["jumlah_baris"]) == (header["versi_metodologi"], header["jumlah_baris"])
    metadata = week["metadata"]  # jsonb: a dict through psycopg; DuckDB's JSON comes back as its text
    assert (json.loads(metadata) if isinstance(metadata, str) else metadata) == json.loads(header["metadata_json"])
    assert joined == total > 0  # every published row finds its week
