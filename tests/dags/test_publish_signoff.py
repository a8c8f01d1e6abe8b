"""Sign-off before going public, through `dag.test()` of publish_weekly_ranking with NETRALITAS_PUBLISH_APPROVAL
unset (manual): the week is staged outside the publication root, the approval request shows the top 10, the
movement against the last published week and the open quarantine, and a steward answers it the way the REST
API does (Airflow's own `update_hitl_detail` handler, from another thread while `dag.test()` waits). Approve
publishes exactly the staged bytes and records who and when; reject publishes nothing and alerts."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
import traceback
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from include.netralitas.publish.publication import publish_week
from include.netralitas.publish.staging import md
from include.netralitas.warehouse.build import build_warehouse
from include.netralitas.warehouse.database import Warehouse
from include.netralitas.weeks import IsoWeek
from tests.conftest import ROOT
from tests.include.orchestration.alert_servers import WebhookServer, serving

pytestmark = pytest.mark.parametrize("warehouse_url", ["duckdb"], indirect=True)
WEEK = IsoWeek.parse("2024-W47")
STEWARD = SimpleNamespace(get_id=lambda: "pengelola-data-1", get_name=lambda: "pengelola-data")
GIVE_UP_S = 60  # a safeguard only: if no request ever appears, reject it so that dag.test() ends and the test fails


def _case(conn, nomor: str, instansi: str, day: date) -> None:
    conn.execute(
        text(
            "INSERT INTO core.case_current (kode_kantor, nomor_kasus, batch_id, baris, received_at, tanggal_temuan,"
            " pemilihan, instansi_kode, jabatan, jenis_pelanggaran, status) VALUES ('82.04', :n, 'b', 1, :r, :t,"
            " 'PILKADA-2024', :i, 'pelaksana', 'lainnya', 'diproses')"
        ),
        {"n": nomor, "r": datetime(2024, 11, 1, tzinfo=UTC), "t": day, "i": instansi},
    )


def _quarantine(conn, batch: str, baris: int, released: bool = False) -> None:
    conn.execute(
        text(
            "INSERT INTO audit.quarantine (batch_id, baris, kolom, aturan, alasan, tingkat, run_id, dilepas_pada)"
            " VALUES (:b, :n, 'nip', 'regex', 'bentuk NIP salah', 'critical', 'r', :d)"
        ),
        {"b": batch, "n": baris, "d": datetime(2024, 11, 20, tzinfo=UTC) if released else None},
    )


@pytest.fixture
def seeded(settings, monkeypatch):
    """Week 2024-W46 published; 2024-W47 has new cases; three quarantined rows of two batches are open."""
    monkeypatch.delenv("NETRALITAS_PUBLISH_APPROVAL")  # manual: the default
    wh = Warehouse(settings.warehouse_url)
    wh.migrate()
    build_warehouse(wh)
    with wh.begin() as conn:
        _case(conn, "1", "82.04", date(2024, 11, 13))
    publish_week(wh, settings.publish_dir, IsoWeek.parse("2024-W46"))
    with wh.begin() as conn:
        for n in ("2", "3"):
            _case(conn, n, "82.01", date(2024, 11, 20))
        _case(conn, "4", "82.02", date(2024, 11, 21))
        _quarantine(conn, "batch-a", 3)
        _quarantine(conn, "batch-a", 7)
        _quarantine(conn, "batch-b", 2)
        _quarantine(conn, "batch-b", 9, released=True)
    wh.engine.dispose()
    return settings


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _respond(option: str, settings, seen: dict) -> None:
    """Wait for the sign-off request, note what it shows and what is staged or public, then answer it. Should
    anything go wrong here, the run is marked failed so that `dag.test()` stops waiting and the test fails."""
    from airflow.api_fastapi.core_api.datamodels.hitl import UpdateHITLDetailPayload
    from airflow.api_fastapi.core_api.routes.public.hitl import update_hitl_detail
    from airflow.models.dagrun import DagRun
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState, TaskInstanceState
    from sqlalchemy import select

    started = time.monotonic()
    try:
        while True:
            with create_session() as session:
                ti = session.scalars(
                    select(TaskInstance).where(
                        TaskInstance.dag_id == "publish_weekly_ranking",
                        TaskInstance.task_id == "sign_off",
                        TaskInstance.state == TaskInstanceState.AWAITING_INPUT,
                    )
                ).first()
                detail = ti and session.scalars(select(HITLDetail).where(HITLDetail.ti_id == ti.id)).first()
                if detail is not None:
                    seen.update(
                        subject=detail.subject,
                        body=detail.body,
                        options=list(detail.options),
                        public=(settings.publish_dir / str(WEEK)).exists(),
                        feed=(settings.publish_dir / "feed.xml").read_text(),
                        staged=_tree(settings.publish_staging_dir / str(WEEK) / "files"),
                    )
                    run_id = ti.run_id
            if detail is not None:
                break
            if time.monotonic() - started > GIVE_UP_S:
                raise TimeoutError("no sign-off request appeared")
            time.sleep(0.5)
        with create_session() as session:
            update_hitl_detail(
                dag_id="publish_weekly_ranking",
                dag_run_id=run_id,
                task_id="sign_off",
                update_hitl_detail_payload=UpdateHITLDetailPayload(chosen_options=[option]),
                user=STEWARD,
                session=session,
            )
    except BaseException:
        seen["error"] = traceback.format_exc()
        with create_session() as session:
            for run in session.scalars(select(DagRun).where(DagRun.state == DagRunState.RUNNING)):
                run.state = DagRunState.FAILED


def _run_with_answer(option: str, settings) -> tuple[dict, dict[str, str], object]:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    bag = DagBag(dag_folder=str(ROOT / "dags" / "publish_weekly_ranking.py"))
    assert not bag.import_errors
    dag = bag.dags["publish_weekly_ranking"]
    for task in dag.tasks:
        task.retries = 0
    seen: dict = {}
    # The responder's Airflow API modules are imported, and SQLAlchemy's mappers configured, here, before the
    # thread starts: importing them in the thread while dag.test() configured the mappers in this one deadlocked
    # (the thread held the import lock and waited for SQLAlchemy's configure lock, this thread the other way).
    import airflow.api_fastapi.core_api.datamodels.hitl  # noqa: F401
    import airflow.api_fastapi.core_api.routes.public.hitl  # noqa: F401
    from sqlalchemy.orm import configure_mappers

    configure_mappers()
    responder = threading.Thread(target=_respond, args=(option, settings, seen), daemon=True)
    responder.start()
    run = dag.test(logical_date=WEEK.publication_time, run_conf={"week": str(WEEK)})
    responder.join()
    assert "error" not in seen, seen.get("error")
    with create_session() as session:
        tis = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == dag.dag_id, TaskInstance.run_id == run.run_id)
        ).all()
        states = {ti.task_id: str(ti.state).rsplit(".", 1)[-1].lower() for ti in tis}
        sign_off = next(ti for ti in tis if ti.task_id == "sign_off")
        detail = session.scalars(select(HITLDetail).where(HITLDetail.ti_id == sign_off.id)).one()
        seen["responded_at"] = detail.responded_at
    return seen, states, run


def _ranking(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def _log(settings) -> list[tuple]:
    wh = Warehouse(settings.warehouse_url)
    try:
        with wh.session() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    text(
                        "SELECT tindakan, disetujui_oleh, disetujui_pada FROM audit.publication_log"
                        " WHERE minggu = :w ORDER BY dicatat_pada"
                    ),
                    {"w": str(WEEK)},
                )
            ]
    finally:
        wh.engine.dispose()


def test_approve_publishes_exactly_what_was_staged_and_records_who_and_when(airflow_db, seeded):
    settings = seeded
    seen, states, _run = _run_with_answer("Approve", settings)
    assert states == {"stage": "success", "sign_off": "success", "publish": "success"}
    assert seen["options"] == ["Approve", "Reject"]
    # while the steward decided, the week was staged and nothing of it was public
    assert seen["public"] is False
    assert str(WEEK) not in seen["feed"]
    assert not str(settings.publish_staging_dir).startswith(str(settings.publish_dir) + "/")
    published = _tree(settings.publish_dir / str(WEEK))
    assert published == seen["staged"]  # byte for byte
    assert not (settings.publish_staging_dir / str(WEEK)).exists()
    assert str(WEEK) in (settings.publish_dir / "feed.xml").read_text()

    # the request showed the top 10 with movement, the movement against 2024-W46 and the open quarantine
    body = seen["body"]
    assert str(WEEK) in seen["subject"]
    top = [r for r in _ranking(published["ranking.csv"]) if r["pemilihan"] == "SEMUA"]
    assert len(top) >= 2
    for r in top:
        assert f"| {r['peringkat']} | {md(r['instansi'])} | {r['jumlah_pelanggaran']} | {md(r['perubahan'])} |" in body
    moves = [r["perubahan"].split(" ", 1)[0] for r in top]
    assert {"baru", "naik"} <= set(moves) or {"baru", "turun"} <= set(moves)  # the seed moves someone
    counted = ", ".join(f"{moves.count(k)} {k}" for k in ("naik", "turun", "tetap", "baru"))
    assert f"(minggu 2024-W46): {counted}." in body
    assert "**Karantina:** 3 baris dari 2 batch belum dilepas" in body

    # who approved and when, with the publication
    [(action, by, at)] = _log(settings)
    assert (action, by) == ("terbit", "pengelola-data")
    assert at.astimezone(UTC).replace(microsecond=0) == seen["responded_at"].astimezone(UTC).replace(microsecond=0)


def test_reject_publishes_nothing_records_it_and_alerts(airflow_db, seeded, monkeypatch):
    settings = seeded
    with serving(WebhookServer()) as webhook:
        hook = {"conn_type": "http", "host": f"http://127.0.0.1:{webhook.port}/hooks/netralitas"}
        monkeypatch.setenv("AIRFLOW_CONN_NETRALITAS_ALERT_WEBHOOK", json.dumps(hook))
        seen, states, run = _run_with_answer("Reject", settings)
    assert states == {"stage": "success", "sign_off": "success", "publish": "skipped"}
    assert seen["staged"]["index.html"]  # there was something to publish
    assert not (settings.publish_dir / str(WEEK)).exists()
    assert not (settings.publish_staging_dir / str(WEEK)).exists()
    assert str(WEEK) not in (settings.publish_dir / "feed.xml").read_text()
    wh = Warehouse(settings.warehouse_url)
    with wh.session() as conn:
        frozen = conn.execute(text("SELECT COUNT(*) FROM mart.publication WHERE minggu = :w"), {"w": str(WEEK)})
        assert frozen.scalar_one() == 0
    wh.engine.dispose()
    [(action, by, _at)] = _log(settings)
    assert (action, by) == ("ditolak", "pengelola-data")
    [post] = webhook.received
    alert = json.loads(post.body)
    assert alert["event"] == "publication_rejected"
    assert (alert["week"], alert["rejected_by"], alert["run_id"]) == (str(WEEK), "pengelola-data", run.run_id)
