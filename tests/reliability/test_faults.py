"""Injected faults (issue: reliability): after each one, nothing is lost and nothing is duplicated.

Each fault strikes round 2 of the shared scenario (tests/reliability/harness.py) after round 1 has loaded
data and published 2024-W47. Afterwards the state (row counts of landing, staging, core, quarantine, audit
and mart tables; the landing zone's files; the drop folder; the published weeks) must equal that of a clean
run of both rounds, and hold no duplicated or orphaned row. A kill -9 is a real SIGKILL of a child process,
sent once the child reports (through a pipe) that it has reached the chosen point: no guessed sleeps.
"""

from __future__ import annotations

import errno
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from include.netralitas.warehouse.database import Warehouse
from tests.reliability import harness
from tests.reliability.harness import WEEK_1, WEEK_2, Child, hook


@dataclass(frozen=True)
class FaultCase:
    description: str
    expected: str


FAULTS = {
    "kill-9-load-landing": FaultCase(
        "kill -9 during a load, a landing file written but not yet renamed into place",
        "no batch recorded, every drop file kept, no landed file half-written; the re-run converges",
    ),
    "kill-9-load-transaction": FaultCase(
        "kill -9 during a load, inside a batch's transaction (its staging rows written, not committed)",
        "the committed batches stay, the interrupted one is rolled back and its drop file kept; the re-run "
        "converges to the clean state",
    ),
    "kill-9-load-after-commit": FaultCase(
        "kill -9 during a load, after a batch committed and before its drop file was removed",
        "the re-run finds that file already loaded and clears it, nothing is loaded twice; converges",
    ),
    "kill-9-build": FaultCase(
        "kill -9 during build_warehouse, inside its transaction (case history written, not committed)",
        "core unchanged (rolled back); the re-run converges to the clean state",
    ),
    "kill-9-publish": FaultCase(
        "kill -9 during publishing, two of the week's five files written",
        "no partial week: the new week absent, latest and the previous week intact; the re-run publishes it whole",
    ),
    "kill-9-gx-suite-write": FaultCase(
        "kill -9 during a load, in the middle of a GX store write: the suite's file opened (truncated), not written",
        "no batch with rows committed (validation comes first); the re-run finds the GX project marked as "
        "interrupted, repairs it (the truncated file set aside, the configuration rebuilt from code) and "
        "converges; every GX file whole",
    ),
    "kill-9-gx-result-write": FaultCase(
        "kill -9 during a load, in the middle of a GX store write: the validation result's file created, not written",
        "no batch with rows committed; the re-run sets the empty result aside, rebuilds the Data Docs site and "
        "converges",
    ),
    "kill-9-gx-data-docs": FaultCase(
        "kill -9 during a load, in the middle of the Data Docs build: the new result's page opened, not written",
        "no batch with rows committed; the re-run rebuilds the whole Data Docs site (no empty page left) and converges",
    ),
    "pg-terminate-load": FaultCase(
        "PostgreSQL connection terminated (pg_terminate_backend) inside a batch's transaction",
        "the load fails with the server's error, that batch rolled back; the retry succeeds and converges",
    ),
    "pg-terminate-build": FaultCase(
        "PostgreSQL connection terminated (pg_terminate_backend) inside build_warehouse's transaction",
        "the build fails, core unchanged; the retry succeeds and converges",
    ),
    "api-bursts": FaultCase(
        "office API bursts: 500 x3, timeout x2, 429 x3 (Retry-After), a repeated page, 503 x6 (beyond 4 attempts)",
        "bursts within the client's 4 attempts are ridden out; the longer one fails that office alone, its "
        "watermark kept; the next pull gets its rows; every served row staged exactly once",
    ),
    "enospc-landing": FaultCase(
        "landing zone full: OSError(ENOSPC) on the third landing write",
        "a clear error naming the file; no half-written landing file, every drop file kept, no batch recorded, "
        "the publications intact; after freeing space the re-run converges",
    ),
    "enospc-publication": FaultCase(
        "publication disk full: OSError(ENOSPC) on the third file of the week",
        "a clear error naming the week and the file; no partial week, the previous week and latest intact; after "
        "freeing space the re-run converges",
    ),
    "concurrent-builds": FaultCase(
        "two build_warehouse processes on the same warehouse at once",
        "the second waits for the first's lock (serialised), both succeed, the final state equals one build's",
    ),
}


class Scenario:
    """One fault test's warehouse, settings and record, with the steps and checks they share."""

    def __init__(self, record, wh: Warehouse, settings, sample: Path, round_1, clean_state, only: str = "") -> None:
        self.record, self.wh, self.settings, self.sample, self.only = record, wh, settings, sample, only
        self.round_1 = round_1
        self.clean = lambda: clean_state(wh.dialect)

    def start(self, fault: str) -> Scenario:
        self.record.case(fault, "fault", FAULTS[fault].expected, FAULTS[fault].description, only=self.only)
        self.round_1(self.wh, self.settings)  # harness.round_1's state, run once per session and copied
        self.published = harness.tree(self.settings.publish_dir)
        self.started = time.time_ns()  # round 2 starts: files written from now on are its own
        return self

    def drop_round_2(self) -> list[Path]:
        return harness.drop(self.settings, harness.round_files(self.sample)[1])

    def child(self, operation: str, *hooks: str, rows_per_validation: int = 0) -> Child:
        self.wh.engine.dispose()  # the child must find the DuckDB file free
        return Child(operation, list(hooks), dict(os.environ), rows_per_validation)

    def short(self, message: str) -> str:
        """`message` with this test's temporary folder spelt `var`."""
        return message.replace(str(self.settings.var_dir), "var")

    def left_in_drop(self) -> set[str]:
        return set(harness.tree(self.settings.case_report_drop))

    def previous_publication_intact(self) -> None:
        assert harness.tree(self.settings.publish_dir) == self.published
        assert os.readlink(self.settings.publish_dir / "latest") == WEEK_1
        assert not (self.settings.publish_dir / WEEK_2).exists()

    def converged(self) -> None:
        observed = harness.state(self.wh, self.settings)
        assert observed == self.clean()
        assert not observed["consistency"]
        self.record.observe(f"final state equals the clean run's ({harness.describe(observed)})")


@pytest.fixture
def scenario(reliability, warehouse, settings, sample, round_1, clean_state) -> Scenario:
    return Scenario(reliability, warehouse, settings, sample, round_1, clean_state)


@pytest.fixture
def pg_scenario(reliability, pg_url, tmp_path, monkeypatch, sample, round_1, clean_state) -> Scenario:
    """PostgreSQL only (the fault does not exist on the embedded database)."""
    monkeypatch.setenv("NETRALITAS_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("NETRALITAS_WAREHOUSE_URL", pg_url)
    monkeypatch.setenv("NETRALITAS_HMAC_KEY", harness.KEY.decode())
    wh = Warehouse(pg_url)
    wh.migrate()
    settings = harness.settings_for(tmp_path / "var", pg_url)
    yield Scenario(reliability, wh, settings, sample, round_1, clean_state, only="postgresql")
    wh.engine.dispose()


def batch_ids(files: list[Path]) -> dict[str, str]:
    """The batch id each dropped case report gets (office named by the file + content)."""
    from include.netralitas.ingest.pipeline import office_from_name
    from include.netralitas.landing.zone import content_hash

    return {p.name: content_hash(office_from_name(p.name).encode(), p.read_bytes()) for p in files}


def recorded_batches(wh: Warehouse) -> set[str]:
    with wh.session() as conn:
        return set(conn.execute(text("SELECT batch_id FROM landing.batch")).scalars())


# -- kill -9 --------------------------------------------------------------------------------------------------

LOAD_KILL_POINTS = {
    # the third file's bytes are in the landing zone's temporary file, fsynced, not yet renamed
    "kill-9-load-landing": hook("os:fsync", "after", 3),
    # the second chunk of batches (three batches) has its staging rows inserted, its transaction still open; the
    # first chunk (two batches) is committed
    "kill-9-load-transaction": hook(
        "include.netralitas.warehouse.database:Warehouse.bulk_insert", "after", 2, contains="staging.case_report"
    ),
    # the first chunk (two batches) is committed, its first drop file removed, its second not yet
    "kill-9-load-after-commit": hook("include.netralitas.ingest.pipeline:_finish", "before", 2),
}


@pytest.mark.parametrize("fault", list(LOAD_KILL_POINTS))
def test_kill_9_during_a_load(scenario, fault):
    s = scenario.start(fault)
    before = recorded_batches(s.wh)
    dropped = batch_ids(s.drop_round_2())
    child = s.child("ingest", LOAD_KILL_POINTS[fault], rows_per_validation=harness.ROUND_2_ROWS_PER_VALIDATION)
    assert child.reached_hook(), child.wait()
    assert child.kill() == -9

    committed = recorded_batches(s.wh) - before
    left = s.left_in_drop()
    uncommitted = {name for name, batch in dropped.items() if batch not in committed}
    assert committed <= set(dropped.values())
    assert not harness.consistency(s.wh)  # no staged row of an uncommitted batch, no batch counted twice
    assert not harness.landing_intact(s.settings)  # every landed file whole under its name
    if fault == "kill-9-load-landing":
        assert not committed
        assert left == set(dropped)
    elif fault == "kill-9-load-transaction":
        assert committed
        assert uncommitted
        assert left == uncommitted  # a committed batch's file is gone, every other one is kept
    else:
        assert len(left - uncommitted) == 1  # one committed file still in the drop folder
        assert uncommitted <= left
    s.previous_publication_intact()
    temporary = sorted(s.settings.landing_dir.glob("*/*/.landing-*"))
    assert len(temporary) == (1 if fault == "kill-9-load-landing" else 0)
    s.record.observe(
        f"killed (exit -9): {len(committed)} of {len(dropped)} batches committed, {len(left)} drop files kept"
        + (f", {len(temporary)} hidden temporary landing file(s) left (never read)" if temporary else "")
    )
    for path in temporary:  # an hour later, its writer is certainly gone: the next ingestion sweeps it away
        an_hour_ago = time.time() - 3601
        os.utime(path, (an_hour_ago, an_hour_ago))

    results = harness.finish_round_2(s.wh, s.settings)
    statuses = sorted(r.status for r in results if r.contract.startswith("case"))
    assert statuses.count("already_loaded") == (1 if fault == "kill-9-load-after-commit" else 0)
    assert not list(s.settings.landing_dir.glob("*/*/.landing-*"))
    s.record.observe(
        f"re-run: {len(results)} file(s), {statuses.count('already_loaded')} already loaded"
        + (", the stale temporary file swept" if temporary else "")
    )
    s.converged()


def test_kill_9_during_build(scenario):
    s = scenario.start("kill-9-build")
    s.drop_round_2()
    harness.ingest(s.wh, s.settings)
    before = harness.counts(s.wh)
    step = hook(
        "include.netralitas.warehouse.database:Warehouse.execute_file", "after", 1, "core/insert_case_history.sql"
    )
    child = s.child("build", step)
    assert child.reached_hook(), child.wait()
    assert child.kill() == -9
    assert harness.counts(s.wh) == before
    s.record.observe("killed (exit -9) inside the build: every table as before it")
    harness.finish_round_2(s.wh, s.settings)
    s.converged()


def test_kill_9_during_publishing(scenario):
    s = scenario.start("kill-9-publish")
    s.drop_round_2()
    harness.ingest(s.wh, s.settings)
    harness.build(s.wh)
    child = s.child("publish", hook("pathlib:Path.write_bytes", "before", 3))
    assert child.reached_hook(), child.wait()
    assert child.kill() == -9
    s.previous_publication_intact()
    s.record.observe(f"killed (exit -9) after 2 of 5 files: {WEEK_2} absent, latest still {WEEK_1}")
    published = harness.publish(s.wh, s.settings, WEEK_2)
    assert published.reused_snapshot  # the snapshot frozen before the kill, rendered whole now
    assert not [p for p in harness.tree(s.settings.publish_dir, hidden=True) if "/.tmp-" in p]
    s.converged()


GX_STORE = "great_expectations.data_context.store.tuple_store_backend:open"  # every GX store writes through it
GX_KILL_POINTS = {  # "after" open(path, "wb"): the file is there under its name, truncated, nothing written yet
    "kill-9-gx-suite-write": hook(GX_STORE, "after", 1, contains="gx/expectations/case_report_v1.json&=wb"),
    "kill-9-gx-result-write": hook(GX_STORE, "after", 1, contains="gx/uncommitted/validations/case_report_v1/&=wb"),
    "kill-9-gx-data-docs": hook(GX_STORE, "after", 1, contains="local_site/validations/case_report_v1/&=wb"),
}


@pytest.mark.data_docs  # the GX project's files are under test
@pytest.mark.parametrize("fault", list(GX_KILL_POINTS))
def test_kill_9_in_the_middle_of_a_gx_write(scenario, fault):
    s = scenario.start(fault)
    before = harness.counts(s.wh)
    s.drop_round_2()
    child = s.child("ingest", GX_KILL_POINTS[fault])
    assert child.reached_hook(), child.wait()
    assert child.kill() == -9

    gx = s.settings.gx_dir
    contains = GX_KILL_POINTS[fault].split("|")[4].split("&")[0]
    new = [p for p in (gx / "gx").rglob("*") if p.is_file() and p.stat().st_mtime_ns >= s.started]
    [written] = [p for p in new if contains in str(p)]
    assert written.stat().st_size == 0  # killed with the file half written: opened, truncated, empty
    assert (gx / ".run-in-progress").exists()
    staged = "staging.case_report"
    assert harness.counts(s.wh)[staged] == before[staged]  # validation precedes every batch's commit
    assert not harness.consistency(s.wh)
    s.previous_publication_intact()
    damaged = harness.gx_problems(s.settings)
    assert damaged, "the kill left the GX project as it was"
    what = {"kill-9-gx-suite-write": "the suite's file", "kill-9-gx-result-write": "the new validation result",
            "kill-9-gx-data-docs": "the new result's Data Docs page"}[fault]  # fmt: skip
    s.record.observe(f"killed (exit -9) with {what} ({written.name}) empty: {len(damaged)} GX problem(s)")

    harness.finish_round_2(s.wh, s.settings)
    assert not harness.gx_problems(s.settings)
    set_aside = sorted(str(p.relative_to(gx / "set-aside")) for p in (gx / "set-aside").rglob("*") if p.is_file())
    assert any(p.endswith("/great_expectations.yml") for p in set_aside)
    if fault != "kill-9-gx-data-docs":
        assert any(p.endswith(str(written.relative_to(gx / "gx"))) for p in set_aside)
    s.record.observe(
        f"re-run repaired the GX project ({len(set_aside)} file(s) set aside, Data Docs rebuilt whole), "
        "every GX file whole"
    )
    s.converged()


# -- PostgreSQL connection terminated -------------------------------------------------------------------------


def _terminate_own_backend(conn) -> None:
    from tests.conftest import _pg_admin_engine

    pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    engine = _pg_admin_engine()
    with engine.connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:pid, 30000)"), {"pid": pid}).scalar_one()
    engine.dispose()


@pytest.mark.parametrize("fault", ["pg-terminate-load", "pg-terminate-build"])
def test_postgresql_connection_terminated_mid_transaction(pg_scenario, fault):
    s = pg_scenario.start(fault)
    dropped = batch_ids(s.drop_round_2())
    if fault == "pg-terminate-build":
        harness.ingest(s.wh, s.settings)
    before, batches = harness.counts(s.wh), recorded_batches(s.wh)
    staged_batches = []

    with pytest.MonkeyPatch.context() as patch:
        if fault == "pg-terminate-load":
            original = Warehouse.bulk_insert

            def bulk_insert(self, conn, table, frame):
                inserted = original(self, conn, table, frame)
                if table == "staging.case_report":
                    staged_batches.append(frame)
                    if len(staged_batches) == 2:  # the second chunk's rows are written, not committed
                        _terminate_own_backend(conn)
                return inserted

            patch.setattr(Warehouse, "bulk_insert", bulk_insert)
            from include.netralitas.ingest import pipeline

            patch.setattr(pipeline, "ROWS_PER_VALIDATION", harness.ROUND_2_ROWS_PER_VALIDATION)  # chunks of batches
            with pytest.raises(DBAPIError) as failure:
                harness.ingest(s.wh, s.settings)
        else:
            original = Warehouse.execute_file

            def execute_file(self, conn, relative, params=None):
                result = original(self, conn, relative, params)
                if relative == "core/insert_case_history.sql":
                    _terminate_own_backend(conn)
                return result

            patch.setattr(Warehouse, "execute_file", execute_file)
            with pytest.raises(DBAPIError) as failure:
                harness.build(s.wh)
    message = str(failure.value.orig).strip().splitlines()[0]
    assert failure.value.connection_invalidated, message
    assert not harness.consistency(s.wh)
    if fault == "pg-terminate-load":
        committed = recorded_batches(s.wh) - batches
        assert committed  # stopped half-way through the batches
        assert set(dropped.values()) - committed
        assert s.left_in_drop() == {n for n, b in dropped.items() if b not in committed}
        where = f"{len(committed)} of {len(dropped)} batches committed"
    else:
        assert harness.counts(s.wh) == before
        where = "every table as before the build"
    s.record.observe(f"failed: {message}; {where}")

    harness.finish_round_2(s.wh, s.settings)  # what the task's retry runs
    s.record.observe("the retry succeeded")
    s.converged()


# -- office API bursts ----------------------------------------------------------------------------------------


def _api_rows(kode: str, hour: int, n: int = 25) -> list[dict[str, str]]:
    return [
        {"kode_kantor": kode, "nomor_kasus": f"{i}/PL/API/2024", "tanggal_temuan": f"2024-11-{1 + i % 20:02d}",
         "pemilihan": "PILKADA-2024", "instansi": "Kemenag", "nip": "", "nama_terlapor": "", "jabatan": "pelaksana",
         "jenis_pelanggaran": "lainnya", "status": "diproses", "diterima_pada": f"2024-11-20T{hour:02d}:00:00+00:00"}
        for i in range(1, n + 1)
    ]  # fmt: skip


def test_office_api_bursts(reliability, warehouse, settings):
    from include.netralitas.ingest.pipeline import ingest_case_reports
    from include.netralitas.sample.office_api import Fault, SampleOfficeApi
    from include.netralitas.sources.api_client import OfficeApiClient
    from include.netralitas.sources.office_pull import OfficeEndpoint, pull_offices, watermarks
    from include.netralitas.warehouse.build import build_warehouse

    reliability.case("api-bursts", "fault", FAULTS["api-bursts"].expected, FAULTS["api-bursts"].description)
    faults = {
        "82.01": Fault("status", 500, times=3),
        "82.02": Fault("slow", times=2, delay_s=3.0),  # longer than the client's timeout
        "82.03": Fault("rate_limit", times=3, retry_after_s=1),
        "82.04": Fault("repeat_page", times=1),
        "82.05": Fault("status", 503, times=6),  # 4 attempts in the first pull, 2 in the second
    }
    offices = [*faults, "82.06"]
    served = {kode: _api_rows(kode, hour) for hour, kode in enumerate(offices, start=1)}
    waits: list[float] = []
    with SampleOfficeApi(served, token="t0ken", page_size=10, faults=faults) as api:
        endpoints = [OfficeEndpoint(kode, api.base_url, "netralitas_office_api") for kode in offices]

        def client_for(endpoint: OfficeEndpoint) -> OfficeApiClient:
            return OfficeApiClient(
                endpoint.base_url, "t0ken", timeout=1.0, max_attempts=4, backoff_s=0.05, sleep=waits.append
            )

        first = {r.kode_kantor: r for r in pull_offices(warehouse, settings, endpoints, client_for)}
        marks = watermarks(warehouse)
        ingest_case_reports(warehouse, settings, harness.KEY)
        second = {r.kode_kantor: r for r in pull_offices(warehouse, settings, endpoints, client_for)}
        statuses = {kode: status for kode, _, status in api.request_log}
        log = [status for _, _, status in api.request_log]
    ingest_case_reports(warehouse, settings, harness.KEY)
    build_warehouse(warehouse)

    assert {k: r.status for k, r in first.items()} == {**dict.fromkeys(offices, "ok"), "82.05": "failed"}
    assert "503" in first["82.05"].error
    assert "82.05" not in marks  # the failed office's watermark did not move
    assert {k: r.status for k, r in second.items()} == {**dict.fromkeys(offices, "no_change"), "82.05": "ok"}
    assert waits.count(1.0) >= 3  # the 429s' Retry-After was honoured
    assert {500, 503, 429} <= set(log)
    assert set(statuses.values()) == {200}  # every office's last answer was a success
    with warehouse.session() as conn:
        staged = conn.execute(text("SELECT kode_kantor, nomor_kasus FROM staging.case_report")).all()
        batches = conn.execute(text("SELECT source, status, COUNT(*) FROM landing.batch GROUP BY 1, 2")).all()
        core = conn.execute(text("SELECT COUNT(*) FROM core.case_current")).scalar_one()
    expected = sorted((r["kode_kantor"], r["nomor_kasus"]) for rows in served.values() for r in rows)
    assert sorted(tuple(r) for r in staged) == expected  # nothing lost, nothing twice
    assert [tuple(r) for r in batches] == [("api", "loaded", len(offices))]
    assert core == len(expected)
    reliability.observe(
        f"{len(log)} requests ({log.count(500)}x500, {log.count(429)}x429, {log.count(503)}x503); "
        f"first pull {sum(r.status == 'ok' for r in first.values())} ok, 82.05 failed; second pull got 82.05; "
        f"staged {len(staged)} of {len(expected)} served rows, each once"
    )


# -- disk full ------------------------------------------------------------------------------------------------


def _disk_full_on(call: int, real):
    calls = []

    def full(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args, **kwargs)

    return full


def test_landing_zone_disk_full(scenario):
    s = scenario.start("enospc-landing")
    before = harness.counts(s.wh)
    dropped = s.drop_round_2()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "fsync", _disk_full_on(3, os.fsync))  # the third landing write fails
        with pytest.raises(OSError, match="No space left on device") as failure:
            harness.ingest(s.wh, s.settings)
    message = str(failure.value)
    assert failure.value.errno == errno.ENOSPC
    named = [p.name for p in dropped if p.name in message]
    assert len(named) == 1, message  # the error names the file it could not land
    assert str(s.settings.landing_dir) in message
    assert not [p for p in harness.tree(s.settings.landing_dir, hidden=True) if "/.landing-" in p]
    assert not harness.landing_intact(s.settings)
    assert s.left_in_drop() == {p.name for p in dropped}
    assert harness.counts(s.wh) == before
    s.previous_publication_intact()
    s.record.observe(
        f"failed: {s.short(message)}; nothing half-written, {len(dropped)} drop files kept, no batch recorded"
    )
    harness.finish_round_2(s.wh, s.settings)  # space freed
    s.converged()


def test_publication_disk_full(scenario):
    s = scenario.start("enospc-publication")
    s.drop_round_2()
    harness.ingest(s.wh, s.settings)
    harness.build(s.wh)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "write_bytes", _disk_full_on(3, Path.write_bytes))  # the week's third file
        with pytest.raises(OSError, match="No space left on device") as failure:
            harness.publish(s.wh, s.settings, WEEK_2)
    message = str(failure.value)
    assert failure.value.errno == errno.ENOSPC
    assert WEEK_2 in message
    assert any(name in message for name in ("ranking.csv", "ranking.json", "index.html", "chart.png")), message
    assert not [p for p in harness.tree(s.settings.publish_dir, hidden=True) if "/.tmp-" in p]
    s.previous_publication_intact()
    s.record.observe(f"failed: {s.short(message)}; no partial week, {WEEK_1} and latest intact")
    harness.publish(s.wh, s.settings, WEEK_2)  # space freed
    s.converged()


# -- concurrent builds ----------------------------------------------------------------------------------------


def _waiting_for_advisory_lock(url: str) -> bool:
    from sqlalchemy.engine import make_url

    from tests.conftest import _pg_admin_engine

    engine = _pg_admin_engine()
    with engine.connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT COUNT(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
                " WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = :db"
            ),
            {"db": make_url(url).database},
        ).scalar_one()
    engine.dispose()
    return waiting > 0


def test_two_concurrent_builds(scenario):
    s = scenario.start("concurrent-builds")
    s.drop_round_2()
    harness.ingest(s.wh, s.settings)
    # The first build stops inside its transaction, holding the warehouse's lock ...
    first = s.child("build", hook("include.netralitas.warehouse.database:Warehouse.execute_file", "before", 1,
                                  "core/insert_case_history.sql"))  # fmt: skip
    assert first.reached_hook(), first.wait()
    # ... the second one starts and is seen waiting for that lock ...
    if s.wh.dialect == "duckdb":
        second = s.child("build", hook("fcntl:flock", "raise", 1, action="signal"))
        assert second.reached_hook(), second.wait()  # its first try found the file lock taken
    else:
        second = s.child("build")
        deadline = time.monotonic() + 300
        while not _waiting_for_advisory_lock(s.settings.warehouse_url):
            assert second.process.poll() is None, second.wait()
            assert time.monotonic() < deadline, "the second build never queued on the advisory lock"
            time.sleep(0.1)
    # ... then the first one goes on.
    first.release()
    (code_1, out_1, err_1), (code_2, out_2, err_2) = first.wait(), second.wait()
    assert code_1 == 0, err_1
    assert code_2 == 0, err_2
    built_1, built_2 = json.loads(out_1.splitlines()[-1]), json.loads(out_2.splitlines()[-1])
    clean = s.clean()["counts"]
    assert built_1 == built_2 == {t: clean[t] for t in built_1}
    s.record.observe(f"the second build waited for the first's lock; both exited 0 with the same counts {built_2}")
    harness.publish(s.wh, s.settings, WEEK_2)
    s.converged()
