"""The office API client over real HTTP against the sample office API on loopback, one test per fault switch.

Waits are recorded by an injected `sleep` instead of slept; only the `slow` tests take real time (their
client timeouts).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from include.netralitas.contracts import CASE_COLUMNS
from include.netralitas.sample.office_api import Fault, SampleOfficeApi
from include.netralitas.sources.api_client import FetchResult, OfficeApiClient, OfficeApiError, parse_retry_after

TOKEN = "test-token-not-secret"
REGENCY = "82.04"
PROVINCE = "82"
FIRST_RECEIVED = datetime(2024, 11, 25, 2, 0, tzinfo=UTC)
ALWAYS = 1_000


def make_rows(office: str, n: int, *, start: int = 0) -> list[dict[str, str]]:
    """`n` contract rows for `office`, numbered from `start`, received one minute apart from FIRST_RECEIVED."""
    rows = []
    for i in range(start, start + n):
        row = dict.fromkeys(CASE_COLUMNS, "")
        row.update(
            kode_kantor=office,
            nomor_kasus=f"{i:04d}/PL/{office}",
            tanggal_temuan="2024-11-01",
            pemilihan="PILKADA-2024",
            instansi="Pemkab Halmahera Selatan",
            jabatan="pelaksana",
            jenis_pelanggaran="lainnya",
            status="diproses",
            diterima_pada=(FIRST_RECEIVED + timedelta(minutes=i)).isoformat(),
        )
        rows.append(row)
    return rows


def as_served(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows as the API serves them: without `diterima_pada`."""
    return [{key: value for key, value in row.items() if key != "diterima_pada"} for row in rows]


def pages_requested(api: SampleOfficeApi, office: str) -> list[tuple[int, int]]:
    """(page, status) of every request the office received, in order."""
    return [(int(parse_qs(urlsplit(path).query)["page"][0]), status) for _, path, status in api.log_for(office)]


class RecordingSleep:
    """A `sleep` that records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def serve() -> Iterator[Callable[..., SampleOfficeApi]]:
    """Start a SampleOfficeApi on loopback (stopped after the test): `serve(rows_by_office, **kwargs)`."""
    started: list[SampleOfficeApi] = []

    def start(rows_by_office: dict[str, list[dict[str, str]]], **kwargs) -> SampleOfficeApi:
        api = SampleOfficeApi(rows_by_office, TOKEN, **kwargs)
        api.start()
        started.append(api)
        return api

    yield start
    for api in started:
        api.stop()


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


def client_for(api: SampleOfficeApi, sleep: RecordingSleep, **kwargs) -> OfficeApiClient:
    kwargs.setdefault("timeout", 5.0)
    return OfficeApiClient(str(api.base_url), kwargs.pop("token", TOKEN), sleep=sleep, **kwargs)


def assert_loaded(result: FetchResult, rows: list[dict[str, str]]) -> None:
    assert result.rows == as_served(rows)
    assert result.watermark == rows[-1]["diterima_pada"]


# -- the happy paths ---------------------------------------------------------------------------------------


def test_pagination_follows_next_page_and_keeps_order(serve, sleep):
    rows = make_rows(REGENCY, 120)
    api = serve({REGENCY: list(reversed(rows))}, page_size=50)  # stored out of order: the API sorts

    result = client_for(api, sleep).fetch_cases(REGENCY, None)

    assert_loaded(result, rows)
    assert [len(json.loads(body)["rows"]) for body in result.pages] == [50, 50, 20]
    # Every page carries the watermark of all matching rows, not only its own.
    assert {json.loads(body)["watermark"] for body in result.pages} == {rows[-1]["diterima_pada"]}
    assert "diterima_pada" not in result.rows[0]
    assert pages_requested(api, REGENCY) == [(1, 200), (2, 200), (3, 200)]
    assert sleep.waits == []


def test_incremental_pull_returns_only_rows_added_after_the_watermark(serve, sleep):
    first = make_rows(REGENCY, 30)
    api = serve({REGENCY: first}, page_size=50)
    client = client_for(api, sleep)
    pulled = client.fetch_cases(REGENCY, None)
    assert_loaded(pulled, first)

    later = make_rows(REGENCY, 7, start=30)
    api.add_rows(REGENCY, later)
    again = client.fetch_cases(REGENCY, pulled.watermark)

    assert_loaded(again, later)
    assert parse_qs(urlsplit(api.log_for(REGENCY)[-1][1]).query)["since"] == [pulled.watermark]
    # Nothing new: no rows, and the watermark stays where it was.
    unchanged = client.fetch_cases(REGENCY, again.watermark)
    assert (unchanged.rows, unchanged.watermark, len(unchanged.pages)) == ([], again.watermark, 1)


def test_rows_without_received_time_count_as_received_at_the_default(serve, sleep):
    rows = as_served(make_rows(REGENCY, 3))
    api = serve({REGENCY: rows})

    result = client_for(api, sleep).fetch_cases(REGENCY, None)

    assert result.rows == rows
    assert result.watermark == "2024-11-25T02:00:00+00:00"
    assert client_for(api, sleep).fetch_cases(REGENCY, result.watermark).rows == []


# -- fault switches: transient faults are retried --------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_once_is_retried_and_all_rows_load(serve, sleep, status):
    rows = make_rows(REGENCY, 60)
    api = serve({REGENCY: rows}, faults={REGENCY: Fault("status", status=status)})

    result = client_for(api, sleep, backoff_s=0.25).fetch_cases(REGENCY, None)

    assert_loaded(result, rows)
    assert len(result.pages) == 2
    assert pages_requested(api, REGENCY) == [(1, status), (1, 200), (2, 200)]
    assert sleep.waits == [0.25]


def test_server_error_always_fails_that_office_while_another_loads(serve, sleep):
    healthy = make_rows(PROVINCE, 10)
    api = serve(
        {REGENCY: make_rows(REGENCY, 10), PROVINCE: healthy},
        faults={REGENCY: Fault("status", status=503, times=ALWAYS)},
    )
    client = client_for(api, sleep, max_attempts=4, backoff_s=0.5, max_backoff_s=1.5)

    results, failures = client.fetch_many([REGENCY, PROVINCE], {REGENCY: None, PROVINCE: None})

    assert list(results) == [PROVINCE]
    assert_loaded(results[PROVINCE], healthy)
    error = failures[REGENCY]
    assert (error.office, error.status, error.retryable) == (REGENCY, 503, True)
    assert "after 4 attempts" in str(error)
    assert [status for _, _, status in api.log_for(REGENCY)] == [503] * 4
    assert sleep.waits == [0.5, 1.0, 1.5]  # exponential, capped at max_backoff_s


def test_rate_limit_waits_retry_after_then_loads(serve, sleep):
    rows = make_rows(REGENCY, 5)
    api = serve({REGENCY: rows}, faults={REGENCY: Fault("rate_limit", retry_after_s=1)})

    result = client_for(api, sleep, backoff_s=0.1).fetch_cases(REGENCY, None)

    assert_loaded(result, rows)
    assert pages_requested(api, REGENCY) == [(1, 429), (1, 200)]
    assert sleep.waits == [1.0]


def test_rate_limit_retry_after_is_capped(serve, sleep):
    rows = make_rows(REGENCY, 5)
    api = serve({REGENCY: rows}, faults={REGENCY: Fault("rate_limit", retry_after_s=3600)})

    result = client_for(api, sleep, max_backoff_s=5.0).fetch_cases(REGENCY, None)

    assert_loaded(result, rows)
    assert sleep.waits == [5.0]


def test_slow_once_times_out_then_loads(serve, sleep):
    rows = make_rows(REGENCY, 5)
    api = serve({REGENCY: rows}, faults={REGENCY: Fault("slow", delay_s=2.0, times=1)})

    result = client_for(api, sleep, timeout=0.5).fetch_cases(REGENCY, None)

    assert_loaded(result, rows)
    assert len(api.log_for(REGENCY)) == 2
    assert sleep.waits == [0.5]


def test_slow_always_fails_with_a_retryable_timeout(serve, sleep):
    api = serve({REGENCY: make_rows(REGENCY, 5)}, faults={REGENCY: Fault("slow", delay_s=2.0, times=ALWAYS)})

    with pytest.raises(OfficeApiError, match="ReadTimeout") as caught:
        client_for(api, sleep, timeout=0.5, max_attempts=2).fetch_cases(REGENCY, None)

    assert (caught.value.status, caught.value.retryable) == (None, True)
    assert isinstance(caught.value.__cause__.__cause__, requests.Timeout)
    assert len(api.log_for(REGENCY)) == 2


@pytest.mark.parametrize("kind", ["malformed", "truncated"])
def test_bad_body_once_is_retried_and_loads(serve, sleep, kind):
    rows = make_rows(REGENCY, 60)
    api = serve({REGENCY: rows}, faults={REGENCY: Fault(kind)})

    result = client_for(api, sleep).fetch_cases(REGENCY, None)

    assert_loaded(result, rows)
    assert pages_requested(api, REGENCY) == [(1, 200), (1, 200), (2, 200)]
    assert all(json.loads(body) for body in result.pages)  # only complete bodies reach the landing zone
    assert sleep.waits == [0.5]


def test_truncated_body_is_half_a_page_with_a_matching_content_length(serve):
    api = serve({REGENCY: make_rows(REGENCY, 10)}, faults={REGENCY: Fault("truncated")})
    url = f"{api.base_url}/kantor/{REGENCY}/kasus"
    headers = {"Authorization": f"Bearer {TOKEN}"}

    cut = requests.get(url, headers=headers, timeout=5)
    whole = requests.get(url, headers=headers, timeout=5)

    assert cut.status_code == 200
    assert int(cut.headers["Content-Length"]) == len(cut.content) == len(whole.content) // 2
    assert whole.content.startswith(cut.content)


def test_malformed_always_fails_with_a_clear_error(serve, sleep):
    api = serve({REGENCY: make_rows(REGENCY, 5)}, faults={REGENCY: Fault("malformed", times=ALWAYS)})

    with pytest.raises(OfficeApiError, match="not valid JSON") as caught:
        client_for(api, sleep, max_attempts=3).fetch_cases(REGENCY, None)

    assert caught.value.retryable is True
    assert str(caught.value).startswith(f"{REGENCY}: gave up on page 1 after 3 attempts")
    assert len(api.log_for(REGENCY)) == 3


# -- fault switches: repeating pages ----------------------------------------------------------------------


def test_repeat_page_once_recovers_without_duplicate_rows(serve, sleep):
    rows = make_rows(REGENCY, 120)
    api = serve({REGENCY: rows}, page_size=50, faults={REGENCY: Fault("repeat_page")})

    result = client_for(api, sleep).fetch_cases(REGENCY, None)

    assert_loaded(result, rows)
    assert len({row["nomor_kasus"] for row in result.rows}) == 120
    assert [json.loads(body)["page"] for body in result.pages] == [1, 2, 3]
    assert pages_requested(api, REGENCY) == [(1, 200), (2, 200), (2, 200), (3, 200)]


def test_repeat_page_always_fails_without_returning_duplicates(serve, sleep):
    healthy = make_rows(PROVINCE, 3)
    api = serve(
        {REGENCY: make_rows(REGENCY, 120), PROVINCE: healthy},
        page_size=50,
        faults={REGENCY: Fault("repeat_page", times=ALWAYS)},
    )

    results, failures = client_for(api, sleep).fetch_many([REGENCY, PROVINCE], {})

    assert REGENCY not in results
    assert_loaded(results[PROVINCE], healthy)
    error = failures[REGENCY]
    assert str(error).startswith("page repeats")
    assert error.retryable is False
    assert pages_requested(api, REGENCY) == [(1, 200), (2, 200), (2, 200)]  # one retry, then stop


# -- permanent failures are not retried --------------------------------------------------------------------


def test_wrong_token_is_not_retried(serve, sleep):
    api = serve({REGENCY: make_rows(REGENCY, 5)})

    with pytest.raises(OfficeApiError) as caught:
        client_for(api, sleep, token="wrong-token").fetch_cases(REGENCY, None)

    assert (caught.value.status, caught.value.retryable) == (401, False)
    assert api.log_for(REGENCY) == [(REGENCY, f"/kantor/{REGENCY}/kasus?page=1", 401)]
    assert sleep.waits == []


def test_unknown_office_is_not_retried(serve, sleep):
    api = serve({REGENCY: make_rows(REGENCY, 5)})

    with pytest.raises(OfficeApiError) as caught:
        client_for(api, sleep).fetch_cases("99.99", None)

    assert (caught.value.office, caught.value.status, caught.value.retryable) == ("99.99", 404, False)
    assert len(api.log_for("99.99")) == 1
    assert sleep.waits == []


# -- transport hygiene -------------------------------------------------------------------------------------


class RecordingSession(requests.Session):
    """A real session that also records the keyword arguments of every request."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[dict] = []

    def request(self, method, url, **kwargs):
        self.calls.append(kwargs)
        return super().request(method, url, **kwargs)


def test_every_request_has_timeout_tls_verification_and_the_token_is_never_logged(serve, sleep, caplog):
    caplog.set_level(logging.DEBUG)
    rows = make_rows(REGENCY, 60)
    api = serve({REGENCY: rows}, faults={REGENCY: Fault("status", status=502)})
    session = RecordingSession()
    client = OfficeApiClient(str(api.base_url), TOKEN, timeout=3.0, session=session, sleep=sleep)

    assert_loaded(client.fetch_cases(REGENCY, None), rows)

    # one call per page: the 502 is retried below the session, by urllib3's Retry, with the call's arguments
    assert len(session.calls) == 2
    assert [status for _, _, status in api.log_for(REGENCY)] == [502, 200, 200]
    for call in session.calls:
        assert (call["timeout"], call["verify"]) == (3.0, True)
        assert call["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert "attempt 1 of 4 failed" in caplog.text
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(client)


def test_retry_after_accepts_seconds_and_http_dates():
    now = datetime(2024, 11, 25, 2, 0, tzinfo=UTC)
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after("Mon, 25 Nov 2024 02:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Mon, 25 Nov 2024 01:00:00 GMT", now=now) == 0.0  # already past
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None
