"""Alerts over real loopback servers: an SMTP server and an HTTP webhook started by the tests, the connections
given as `AIRFLOW_CONN_*` environment variables (SMTP in URI form, the webhook in JSON form).

A failing task of a real `dag.test()` run alerts both channels; a missing connection is skipped; a failing
channel never hides the other one; the publication deadline serialises, resolves to Monday 10:00 WIB for the
run the scheduler creates on Monday 07:00, and its callback, run the way the executor runs it, alerts both."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest

from include.netralitas.orchestration import alerts
from tests.include.orchestration.alert_servers import SmtpServer, WebhookServer, serving

WIB = alerts.WIB
TO = ["oncall@pengawas.example", "data@pengawas.example"]
FROM = "airflow@pengawas.example"
SMTP_LOGIN = ("alerts", "smtp-pass-7f3a9")
TOKEN = "webhook-token-5d2c81e0"
NIP = "198501012010011001"
BASE_URL = "https://airflow.pengawas.example"
BUNDLE = "alerts-test"


@pytest.fixture
def smtp_server():
    with serving(SmtpServer()) as server:
        yield server


@pytest.fixture
def webhook_server():
    with serving(WebhookServer()) as server:
        yield server


def smtp_uri(port: int) -> str:
    extra = f"disable_ssl=true&disable_tls=true&timeout=10&to={quote(','.join(TO))}&from_email={quote(FROM)}"
    return f"smtp://{SMTP_LOGIN[0]}:{SMTP_LOGIN[1]}@127.0.0.1:{port}?{extra}"


@pytest.fixture
def channels(monkeypatch, smtp_server, webhook_server):
    """Both connections defined, pointing at the loopback servers."""
    monkeypatch.setenv("AIRFLOW_CONN_NETRALITAS_ALERT_SMTP", smtp_uri(smtp_server.port))
    webhook = {
        "conn_type": "http",
        "host": f"http://127.0.0.1:{webhook_server.port}/hooks/netralitas",
        "password": TOKEN,
    }
    monkeypatch.setenv("AIRFLOW_CONN_NETRALITAS_ALERT_WEBHOOK", json.dumps(webhook))
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", BASE_URL)
    return SimpleNamespace(smtp=smtp_server, webhook=webhook_server)


@pytest.fixture
def bundle(tmp_path, monkeypatch):
    """A DAG bundle of its own (a tmp folder), so `dag.test()` and the metadata database see the test DAGs."""
    folder = tmp_path / "dags"
    folder.mkdir()
    local = "airflow.dag_processing.bundles.local.LocalDagBundle"
    config = [{"name": BUNDLE, "classpath": local, "kwargs": {"path": str(folder)}}]
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps(config))
    return folder


def failure_context(exception: BaseException, *, try_number: int = 2) -> dict:
    """What the task runner passes to on_failure_callback, reduced to the parts an alert reads."""
    logical = datetime(2024, 11, 18, 7, tzinfo=WIB)
    ti = SimpleNamespace(dag_id="build_warehouse", task_id="merge", run_id="scheduled__x", try_number=try_number)
    ti.map_index = -1
    dag_run = SimpleNamespace(dag_id="build_warehouse", run_id="scheduled__x", logical_date=logical)
    return {"ti": ti, "dag_run": dag_run, "logical_date": logical, "exception": exception, "run_id": "scheduled__x"}


def webhook_json(post) -> dict:
    assert post.headers["Content-Type"] == "application/json"
    return json.loads(post.body)


# --- delivery over real servers --------------------------------------------------------------------------


def test_failure_alert_reaches_both_channels(channels):
    alerts.AlertNotifier()(failure_context(KeyError("instansi 'Pemkab X' has no alias")))

    (mail,) = channels.smtp.received
    assert mail.auth == SMTP_LOGIN
    assert mail.mail_from == FROM
    assert mail.rcpt_to == TO
    assert mail.message["Subject"] == "[netralitas] build_warehouse.merge failed"
    assert mail.message["To"] == ", ".join(TO)
    body = mail.html
    for text in ("build_warehouse", "merge", "scheduled__x", "2024-11-18T07:00:00+07:00", "KeyError"):
        assert text in body
    assert "instansi &#x27;Pemkab X&#x27; has no alias" in body  # escaped HTML
    link = f"{BASE_URL}/dags/build_warehouse/runs/scheduled__x/tasks/merge?try_number=2"
    assert link in body

    (post,) = channels.webhook.received
    assert post.path == "/hooks/netralitas"
    assert post.headers["Authorization"] == f"Bearer {TOKEN}"
    payload = webhook_json(post)
    assert payload["event"] == "task_failed"
    assert payload["dag_id"] == "build_warehouse"
    assert payload["task_id"] == "merge"
    assert payload["run_id"] == "scheduled__x"
    assert payload["try_number"] == "2"
    assert payload["logical_date"] == "2024-11-18T07:00:00+07:00"
    assert payload["exception"] == "KeyError: \"instansi 'Pemkab X' has no alias\""
    assert payload["link"] == link
    assert payload["text"].startswith("[netralitas] build_warehouse.merge failed\n")


def test_no_connection_defined_skips_every_channel_without_error(monkeypatch, caplog):
    monkeypatch.delenv("AIRFLOW_CONN_NETRALITAS_ALERT_SMTP", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_NETRALITAS_ALERT_WEBHOOK", raising=False)
    caplog.set_level(logging.INFO, logger=alerts.__name__)

    alerts.AlertNotifier()(failure_context(RuntimeError("boom")))  # does not raise

    outcome = alerts.send_alert(alerts.failure_alert(failure_context(RuntimeError("boom"))))
    assert outcome == {"smtp": "not configured", "webhook": "not configured"}
    assert "connection 'netralitas_alert_webhook' is not defined" in caplog.text


def test_webhook_failing_does_not_stop_the_email_and_is_logged(channels, caplog):
    channels.webhook.status = 500
    notifier = alerts.AlertNotifier(webhook_attempts=3, webhook_backoff_s=0.01)

    with pytest.raises(alerts.AlertDeliveryError, match=r"webhook \(RuntimeError: webhook answered HTTP 500"):
        notifier(failure_context(ValueError("bad batch")))

    assert len(channels.smtp.received) == 1
    assert "ValueError: bad batch" in channels.smtp.received[0].html
    assert len(channels.webhook.received) == 3  # 5xx is retried, then given up
    assert "alert channel webhook (connection 'netralitas_alert_webhook') failed" in caplog.text
    assert "HTTP 500" in caplog.text


def test_webhook_client_error_is_not_retried(channels):
    channels.webhook.status = 401
    with pytest.raises(alerts.AlertDeliveryError, match="HTTP 401"):
        alerts.AlertNotifier(webhook_backoff_s=0.01)(failure_context(ValueError("x")))
    assert len(channels.webhook.received) == 1
    assert len(channels.smtp.received) == 1


def test_smtp_unreachable_does_not_stop_the_webhook(channels, monkeypatch):
    closed = SmtpServer()  # bound, then closed: nothing listens on its port any more
    port = closed.port
    closed.server_close()
    monkeypatch.setenv("AIRFLOW_CONN_NETRALITAS_ALERT_SMTP", smtp_uri(port))

    with pytest.raises(alerts.AlertDeliveryError, match="smtp"):
        alerts.AlertNotifier()(failure_context(ValueError("x")))
    assert len(channels.webhook.received) == 1


def test_smtp_connection_without_recipients_fails_clearly(channels, monkeypatch):
    uri = smtp_uri(channels.smtp.port).replace(f"&to={quote(','.join(TO))}", "")
    monkeypatch.setenv("AIRFLOW_CONN_NETRALITAS_ALERT_SMTP", uri)
    with pytest.raises(alerts.AlertDeliveryError, match="has no recipients"):
        alerts.AlertNotifier()(failure_context(ValueError("x")))
    assert channels.smtp.received == []
    assert len(channels.webhook.received) == 1


def test_message_redacts_nips_and_known_secrets_and_bounds_the_exception():
    from airflow.sdk.log import mask_secret

    mask_secret("db-pass-91c4e7")
    text = alerts.exception_text(
        ValueError(f"login with db-pass-91c4e7 refused; rows for NIP {NIP} and 19850101 201001 1 001")
    )
    assert text == "ValueError: login with *** refused; rows for NIP [redacted] and [redacted]"
    long = alerts.exception_text(RuntimeError("x" * 5000))
    assert len(long) < alerts.MAX_EXCEPTION_CHARS + 100
    assert long.endswith("more characters in the log)")


def test_no_log_link_without_api_base_url(monkeypatch):
    monkeypatch.delenv("AIRFLOW__API__BASE_URL", raising=False)
    assert alerts.failure_alert(failure_context(ValueError("x"))).link is None


# --- a real DAG run ----------------------------------------------------------------------------------------

FAILING_DAG = """
from datetime import datetime
from zoneinfo import ZoneInfo

from airflow.sdk import dag, task

from include.netralitas.orchestration import alerts


@dag(
    dag_id="alerts_failing_probe",
    schedule=None,
    start_date=datetime(2024, 11, 4, tzinfo=ZoneInfo("Asia/Jakarta")),
    catchup=False,
    default_args={"owner": "netralitas-data", "retries": 0, "on_failure_callback": alerts.on_failure()},
)
def alerts_failing_probe():
    @task
    def extract() -> str:
        return "RETURN-VALUE-MARKER"

    @task
    def load(value: str) -> None:
        from airflow.sdk.log import mask_secret

        mask_secret("warehouse-pass-3e8d1c")
        raise ValueError(f"load of {len(value)} characters refused (password warehouse-pass-3e8d1c, NIP __NIP__)")

    load(extract())


alerts_failing_probe()
"""


def test_failing_task_of_a_dag_run_alerts_both_channels(airflow_db, bundle, channels):
    from airflow.dag_processing.dagbag import DagBag

    (bundle / "alerts_failing_probe.py").write_text(FAILING_DAG.replace("__NIP__", NIP))
    bag = DagBag(dag_folder=str(bundle))
    assert not bag.import_errors
    dag = bag.dags["alerts_failing_probe"]

    run = dag.test(logical_date=datetime(2024, 11, 25, 7, tzinfo=WIB))

    assert str(run.state).rsplit(".", 1)[-1].lower() == "failed"
    (mail,) = channels.smtp.received  # load failed; extract succeeded and sends nothing
    (post,) = channels.webhook.received
    payload = webhook_json(post)
    assert mail.message["Subject"] == "[netralitas] alerts_failing_probe.load failed"
    assert payload["dag_id"] == "alerts_failing_probe"
    assert payload["task_id"] == "load"
    assert payload["run_id"] == run.run_id
    assert payload["try_number"] == "1"
    assert payload["logical_date"] == "2024-11-25T07:00:00+07:00"
    expected = "ValueError: load of 19 characters refused (password ***, NIP [redacted])"
    assert payload["exception"] == expected
    assert expected in mail.html
    link = f"{BASE_URL}/dags/alerts_failing_probe/runs/{quote(run.run_id)}/tasks/load?try_number=1"
    assert payload["link"] == link
    for delivered in (mail.data.decode("utf-8") + mail.html, post.body.decode("utf-8")):
        for private in ("RETURN-VALUE-MARKER", NIP, "warehouse-pass-3e8d1c"):
            assert private not in delivered


# --- the publication deadline -----------------------------------------------------------------------------

DEADLINE_DAG = """
from datetime import datetime
from zoneinfo import ZoneInfo

from airflow.sdk import dag, task
from netralitas_schedule import IsoWeekTimetable, ScheduledRunLogicalDate

from include.netralitas.orchestration import alerts


@dag(
    dag_id="alerts_deadline_probe",
    schedule=IsoWeekTimetable("2024-W45"),
    start_date=datetime(2024, 11, 4, tzinfo=ZoneInfo("Asia/Jakarta")),
    catchup=True,
    max_active_runs=1,
    deadline=alerts.publication_deadline(ScheduledRunLogicalDate()),
)
def alerts_deadline_probe():
    @task
    def publish() -> None:
        pass

    publish()


alerts_deadline_probe()
"""


def test_publication_deadline_serialises_with_an_importable_callback():
    from airflow.sdk import DAG
    from airflow.serialization.serialized_objects import DagSerialization
    from netralitas_schedule import ScheduledRunLogicalDate

    deadline = alerts.publication_deadline(ScheduledRunLogicalDate())
    with DAG("deadline_serialisation", schedule=None, deadline=deadline) as dag:
        pass
    (encoded,) = DagSerialization.to_dict(dag)["dag"]["deadline"]

    assert encoded["reference"]["reference_type"] == "ScheduledRunLogicalDate"
    # logical date Monday 00:00 WIB of the week -> Monday 10:00 WIB after it
    assert encoded["interval"]["__data__"] == timedelta(days=7, hours=10).total_seconds()
    callback = encoded["callback"]
    assert callback["__classname__"] == "airflow.sdk.definitions.callback.SyncCallback"
    assert callback["__data__"]["path"] == "include.netralitas.orchestration.alerts.deadline_missed"
    decoded = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    assert decoded.deadline  # read back by the scheduler side


def test_scheduled_run_gets_a_deadline_at_monday_10_wib_and_its_callback_alerts(airflow_db, bundle, channels):
    """The scheduler's own steps: the DAG is synced to the metadata database, the timetable gives the next run,
    `create_dagrun` (as the scheduler calls it) records the deadline, `handle_miss` queues the callback with its
    context, and the executor's `execute_callback` runs it."""
    import structlog
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.models.callback import Callback
    from airflow.models.dagbag import DBDagBag
    from airflow.models.deadline import Deadline
    from airflow.sdk.execution_time.callback_supervisor import execute_callback
    from airflow.timetables.base import DataInterval, TimeRestriction
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType
    from sqlalchemy import select

    (bundle / "alerts_deadline_probe.py").write_text(DEADLINE_DAG)
    DagBundlesManager().sync_bundles_to_db(deactivate_missing=False)
    bag = BundleDagBag(dag_folder=str(bundle), bundle_path=Path(bundle), bundle_name=BUNDLE)
    assert not bag.import_errors
    sync_bag_to_db(bag, BUNDLE, None)

    with create_session() as session:
        serdag = DBDagBag().get_latest_version_of_dag("alerts_deadline_probe", session=session)
        previous = DataInterval(datetime(2024, 11, 11, tzinfo=WIB), datetime(2024, 11, 18, tzinfo=WIB))
        info = serdag.timetable.next_dagrun_info(
            last_automated_data_interval=previous, restriction=TimeRestriction(None, None, catchup=True)
        )
        assert info.run_after == datetime(2024, 11, 25, 7, tzinfo=WIB)  # created Monday 07:00 WIB ...
        assert info.logical_date == datetime(2024, 11, 18, tzinfo=WIB)  # ... for the ISO week before
        run = serdag.create_dagrun(
            run_id=serdag.timetable.generate_run_id(
                run_type=DagRunType.SCHEDULED, run_after=info.run_after, data_interval=info.data_interval
            ),
            logical_date=info.logical_date,
            data_interval=info.data_interval,
            run_after=info.run_after,
            run_type=DagRunType.SCHEDULED,
            triggered_by=DagRunTriggeredByType.TIMETABLE,
            state=DagRunState.QUEUED,
            session=session,
        )
        session.flush()
        (deadline,) = session.scalars(select(Deadline).where(Deadline.dagrun_id == run.id))
        assert deadline.deadline_time == datetime(2024, 11, 25, 10, tzinfo=WIB)
        run_id = run.run_id

        deadline.handle_miss(session)  # what the scheduler does once the deadline has passed
        session.commit()
        callback_id = deadline.callback_id

    with create_session() as session:  # read back as stored, the way the executor receives it
        data = session.get(Callback, callback_id).data
    assert data["path"] == "include.netralitas.orchestration.alerts.deadline_missed"
    ok, error = execute_callback(
        data["path"],
        data["kwargs"],
        dag_rel_path=Path("alerts_deadline_probe.py"),
        bundle_path=bundle,
        log=structlog.get_logger(),
    )
    assert (ok, error) == (True, None)

    (mail,) = channels.smtp.received
    (post,) = channels.webhook.received
    subject = "[netralitas] alerts_deadline_probe has not finished by 2024-11-25T10:00:00+07:00"
    assert mail.message["Subject"] == subject
    payload = webhook_json(post)
    assert payload["event"] == "deadline_missed"
    assert payload["run_id"] == run_id
    assert payload["logical_date"] == "2024-11-18T00:00:00+07:00"
    assert payload["data_interval"] == "2024-11-18T00:00:00+07:00 - 2024-11-25T00:00:00+07:00"
    assert payload["deadline"] == "2024-11-25T10:00:00+07:00"
    assert payload["state"] == "queued"
    assert payload["link"] == f"{BASE_URL}/dags/alerts_deadline_probe/runs/{quote(run_id)}"
    assert run_id in mail.html


DEADLINE_DAG_CLASS = """
from datetime import datetime
from zoneinfo import ZoneInfo

from airflow.sdk import task
from netralitas_schedule import IsoWeekTimetable, ScheduledRunLogicalDate

from include.netralitas.orchestration import alerts

with alerts.DeadlineDag(
    dag_id="alerts_deadline_class_probe",
    schedule=IsoWeekTimetable("2024-W45"),
    start_date=datetime(2024, 11, 4, tzinfo=ZoneInfo("Asia/Jakarta")),
    catchup=True,
    deadline=alerts.publication_deadline(ScheduledRunLogicalDate()),
):

    @task
    def publish() -> None:
        pass

    publish()
"""


def test_dag_test_of_a_dag_with_a_deadline_fails_unless_it_is_a_deadline_dag(airflow_db, bundle):
    """Airflow 3.3.2: `dag.test()` round-trips the DAG through serialisation in memory, where `dag.deadline` stays
    a list of encoded alerts instead of the alert ids the metadata database holds, so when the run succeeds
    `DagRun.update_state` looks the alerts up with a dict as id and fails (and `airflow dags test` exits 1).
    `alerts.DeadlineDag` (the class of publish_weekly_ranking) runs `test()` without its deadline and keeps it
    for the scheduler. When this test starts failing at the first `raises`, Airflow has fixed it and
    `DeadlineDag` can go."""
    from airflow import settings
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.deadline import Deadline
    from airflow.utils.session import create_session
    from sqlalchemy import select
    from sqlalchemy.exc import StatementError

    (bundle / "alerts_deadline_probe.py").write_text(DEADLINE_DAG)
    (bundle / "alerts_deadline_class_probe.py").write_text(DEADLINE_DAG_CLASS)
    bag = DagBag(dag_folder=str(bundle))
    assert not bag.import_errors

    with pytest.raises(StatementError, match="'dict' object has no attribute 'hex'"):
        bag.dags["alerts_deadline_probe"].test(logical_date=datetime(2024, 12, 2, 7, tzinfo=WIB))
    settings.Session.remove()

    dag = bag.dags["alerts_deadline_class_probe"]
    assert isinstance(dag, alerts.DeadlineDag)
    run = dag.test(logical_date=datetime(2024, 12, 9, 7, tzinfo=WIB))
    assert str(run.state).rsplit(".", 1)[-1].lower() == "success"
    assert dag.deadline  # kept for the scheduler
    with create_session() as session:  # a test run is not scheduled: the reference gave it no deadline
        assert session.scalars(select(Deadline).where(Deadline.dagrun_id == run.id)).all() == []
