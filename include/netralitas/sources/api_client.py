"""The client of the offices' case-report API (protocol: `sample.office_api`): `OfficeApiClient.fetch_cases`
pulls one office's pages after a watermark, `fetch_many` many offices independently. Timeouts on every
request, TLS verification on, no retry on other 4xx. 429 and 5xx are retried by urllib3's `Retry` mounted on
the session (exponential backoff, the server's `Retry-After`); what `Retry` cannot see is retried here with
the same backoff: timeouts and connection errors, unreadable bodies, and a repeated page (retried once, then
refused; product.md §7). The token never leaves the Authorization header.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Self
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, *range(500, 600)})

_RETRYABLE_TRANSPORT = (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)


class OfficeApiError(Exception):
    """One office could not be fetched.

    `status` is the HTTP error status that caused the failure (None for transport errors, bad or repeating
    bodies);
    `retryable` says whether trying again later may help (5xx, 429, timeouts, bad bodies) or not (401, 404,
    repeating pages, ...); `retry_after_s` is the server's requested wait for a 429, when it gave one.
    """

    def __init__(
        self,
        message: str,
        *,
        office: str = "",
        status: int | None = None,
        retryable: bool = False,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.office = office
        self.status = status
        self.retryable = retryable
        self.retry_after_s = retry_after_s


@dataclass
class FetchResult:
    """One office's pull: its rows in the server's order, the new watermark, and every page's raw body."""

    office: str
    rows: list[dict[str, str]]
    watermark: str | None
    pages: list[bytes] = field(default_factory=list)


@dataclass
class _SeenPages:
    """The pages accepted so far in one pull, to recognise a page that repeats an earlier one."""

    last_page: int = 0
    digests: set[str] = field(default_factory=set)

    def repeats(self, body: bytes, payload: dict[str, Any]) -> bool:
        number = payload.get("page")
        if isinstance(number, int) and number <= self.last_page:
            return True
        return hashlib.sha256(body).hexdigest() in self.digests

    def accept(self, body: bytes, payload: dict[str, Any], requested: int) -> None:
        number = payload.get("page")
        self.last_page = number if isinstance(number, int) else requested
        self.digests.add(hashlib.sha256(body).hexdigest())


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delay-seconds or an HTTP date); None when unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(seconds, 0.0) if seconds == seconds else None  # NaN is unusable


def _parse_page(body: bytes) -> dict[str, Any]:
    """The page's JSON object; ValueError when the body is not JSON or breaks the page shape."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"body is not valid JSON ({len(body)} bytes): {exc}") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("rows"), list):
        raise ValueError("body is JSON but has no 'rows' list")
    if not all(isinstance(row, dict) for row in payload["rows"]):
        raise ValueError("'rows' holds something that is not a JSON object")
    next_page = payload.get("next_page")
    if next_page is not None and (not isinstance(next_page, int) or isinstance(next_page, bool)):
        raise ValueError(f"'next_page' is neither an integer nor null: {next_page!r}")
    watermark = payload.get("watermark")
    if watermark is not None and not isinstance(watermark, str):
        raise ValueError(f"'watermark' is neither a string nor null: {watermark!r}")
    return payload


class _Retry(Retry):
    """urllib3's `Retry` for 429 and 5xx, waiting `backoff_factor * 2**n` from the first retry on (capped at
    `backoff_max`) or the server's `Retry-After` (capped at `retry_after_max`), through the client's `sleep`
    (tests record the waits), and logging each retry."""

    def __init__(self, *args: Any, sleep: Callable[[float], None] = time.sleep, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sleep = sleep

    def new(self, **kwargs: Any) -> Self:
        retry = super().new(**kwargs)
        retry._sleep = self._sleep
        return retry

    def get_backoff_time(self) -> float:
        return min(self.backoff_factor * 2 ** (len(self.history) - 1), self.backoff_max) if self.history else 0.0

    def get_retry_after(self, response: Any) -> float | None:
        seconds = parse_retry_after(response.headers.get("Retry-After"))
        return None if seconds is None else min(seconds, self.retry_after_max)

    def sleep(self, response: Any = None) -> None:
        retry_after = self.get_retry_after(response) if response is not None else None
        wait = self.get_backoff_time() if retry_after is None else retry_after
        failed = self.history[-1]
        attempts = len(self.history) + (self.total or 0) + 1
        log.warning(
            "%s: attempt %d of %d failed (HTTP %s); retrying in %.2f s",
            failed.url, len(self.history), attempts, failed.status, wait,
        )  # fmt: skip
        self._sleep(wait)


class OfficeApiClient:
    """Pulls case rows from the offices' API; see the module docstring for the retry policy.

    `verify` is passed to every request: True (the default) checks TLS against the system CAs, a path uses that
    CA bundle, False disables the check (logged as a warning; never do that in production). `session` lets the
    caller share connection pools; the client mounts its retrying adapter on it for the API's origin only, and
    closes only a session it created. `sleep` is called
    with every wait in seconds, so tests can record waits instead of sleeping.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        max_attempts: int = 4,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        verify: bool | str = True,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if timeout <= 0:
            raise ValueError("timeout must be positive: every request needs one")
        if backoff_s < 0 or max_backoff_s < 0:
            raise ValueError("backoff_s and max_backoff_s must not be negative")
        if verify is False:
            log.warning("TLS certificate verification is disabled for %s", base_url)
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.verify = verify
        self._own_session = session is None
        self._session = session if session is not None else requests.Session()
        self._sleep = sleep
        retry = _Retry(
            total=max_attempts - 1,
            connect=0,  # timeouts and connection errors: retried by `_fetch_page`, which reports them as such
            read=False,
            other=0,
            redirect=False,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET"}),
            backoff_factor=backoff_s,
            backoff_max=max_backoff_s,
            respect_retry_after_header=True,
            retry_after_max=max_backoff_s,
            raise_on_status=False,  # the last answer comes back and is reported by `_get_page`
            sleep=sleep,
        )
        origin = urlsplit(self.base_url)
        self._session.mount(f"{origin.scheme}://{origin.netloc}/", HTTPAdapter(max_retries=retry))  # this API only

    def __repr__(self) -> str:
        return f"OfficeApiClient(base_url={self.base_url!r}, timeout={self.timeout}, max_attempts={self.max_attempts})"

    def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._own_session:
            self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- public --------------------------------------------------------------------------------------------

    def fetch_cases(self, office: str, since: str | None) -> FetchResult:
        """All rows of `office` received after `since` (all rows when None), following `next_page` to the end.

        Returns the rows of every page concatenated, the watermark of the last page (pass it as `since` next
        time), and every page's raw body. Raises `OfficeApiError` as described in the module docstring.
        """
        seen = _SeenPages()
        rows: list[dict[str, str]] = []
        pages: list[bytes] = []
        page: int | None = 1
        watermark: str | None = None
        while page is not None:
            body, payload = self._fetch_page(office, since, page, seen)
            seen.accept(body, payload, page)
            pages.append(body)
            rows.extend(payload["rows"])
            watermark = payload.get("watermark")
            next_page: int | None = payload.get("next_page")
            if next_page is not None and next_page <= page:
                raise OfficeApiError(
                    f"{office}: page {page} points back to page {next_page}", office=office, retryable=False
                )
            page = next_page
        log.info(
            "office %s: %d rows in %d pages since %s, watermark %s", office, len(rows), len(pages), since, watermark
        )
        return FetchResult(office=office, rows=rows, watermark=watermark, pages=pages)

    def fetch_many(
        self, offices: list[str], watermarks: dict[str, str | None]
    ) -> tuple[dict[str, FetchResult], dict[str, OfficeApiError]]:
        """`fetch_cases` for each office from its watermark (None when absent): (results, failures) by office.

        Offices are fetched one after another and independently: a failure is recorded and the next office is
        fetched. An unexpected exception is recorded too, as a non-retryable `OfficeApiError`, and logged.
        """
        results: dict[str, FetchResult] = {}
        failures: dict[str, OfficeApiError] = {}
        for office in offices:
            try:
                results[office] = self.fetch_cases(office, watermarks.get(office))
            except OfficeApiError as exc:
                log.warning("office %s failed (retryable=%s): %s", office, exc.retryable, exc)
                failures[office] = exc
            except Exception as exc:
                log.exception("office %s failed unexpectedly", office)
                error = OfficeApiError(f"{office}: unexpected {type(exc).__name__}: {exc}", office=office)
                error.__cause__ = exc
                failures[office] = error
        return results, failures

    # -- one page, with retries ----------------------------------------------------------------------------

    def _fetch_page(self, office: str, since: str | None, page: int, seen: _SeenPages) -> tuple[bytes, dict[str, Any]]:
        """One page's (raw body, parsed JSON). 429 and 5xx were already retried below (`_Retry`); a timeout,
        a connection error, an unreadable body or a repeated page is retried here, up to `max_attempts`."""
        repeated = False
        last: OfficeApiError | None = None
        for attempt in range(self.max_attempts):
            if last is not None:
                wait = self._wait_after(attempt - 1)
                log.warning(
                    "office %s page %d: attempt %d of %d failed (%s); retrying in %.2f s",
                    office,
                    page,
                    attempt,
                    self.max_attempts,
                    last,
                    wait,
                )
                self._sleep(wait)
            try:
                body, payload = self._get_page(office, since, page)
            except _RetryHere as exc:
                last = exc.error
                continue
            if not seen.repeats(body, payload):
                return body, payload
            if repeated:
                raise OfficeApiError(
                    f"page repeats: {office} page {page} repeated an earlier page twice", office=office
                )
            repeated = True
            last = OfficeApiError(
                f"page repeats: {office} page {page} repeated an earlier page",
                office=office,
                retryable=True,
            )
        assert last is not None  # the loop ran at least once and did not return
        raise OfficeApiError(
            f"{office}: gave up on page {page} after {self.max_attempts} attempts: {last}",
            office=office,
            status=last.status,
            retryable=True,
        ) from last

    def _wait_after(self, failure_index: int) -> float:
        """Seconds to wait after the `failure_index`-th (0-based) failure: the same backoff as `_Retry`'s."""
        return min(self.backoff_s * 2**failure_index, self.max_backoff_s)

    def _get_page(self, office: str, since: str | None, page: int) -> tuple[bytes, dict[str, Any]]:
        """One request; raises OfficeApiError, `retryable` according to the module's policy."""
        url = f"{self.base_url}/kantor/{quote(office, safe='')}/kasus"
        params: dict[str, str | int] = {"page": page}
        if since is not None:
            params["since"] = since
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        try:
            response = self._session.get(url, params=params, headers=headers, timeout=self.timeout, verify=self.verify)
        except requests.exceptions.SSLError as exc:
            raise OfficeApiError(f"{office}: TLS error: {exc}", office=office) from exc
        except _RETRYABLE_TRANSPORT as exc:
            error = OfficeApiError(f"{office}: {type(exc).__name__}: {exc}", office=office, retryable=True)
            error.__cause__ = exc
            raise _RetryHere(error) from None
        except requests.RequestException as exc:
            raise OfficeApiError(f"{office}: request failed: {type(exc).__name__}: {exc}", office=office) from exc

        status = response.status_code
        if status in RETRY_STATUSES:  # still failing after `_Retry`'s attempts: try this office again later
            attempts = len(response.raw.retries.history) + 1 if response.raw.retries else 1
            raise OfficeApiError(
                f"{office}: gave up on page {page} after {attempts} attempts: HTTP {status}: "
                f"{_snippet(response.content)}",
                office=office,
                status=status,
                retryable=True,
                retry_after_s=parse_retry_after(response.headers.get("Retry-After")) if status == 429 else None,
            )
        if not 200 <= status < 300:
            raise OfficeApiError(f"{office}: HTTP {status}: {_snippet(response.content)}", office=office, status=status)
        body = response.content
        try:
            return body, _parse_page(body)
        except ValueError as exc:
            error = OfficeApiError(f"{office}: page {page}: {exc}", office=office, retryable=True)
            error.__cause__ = exc
            raise _RetryHere(error) from None


class _RetryHere(Exception):
    """A failure `_fetch_page` retries itself (one urllib3's `Retry` cannot see)."""

    def __init__(self, error: OfficeApiError) -> None:
        super().__init__(str(error))
        self.error = error


def _snippet(body: bytes, limit: int = 200) -> str:
    """The start of an error body, for messages."""
    text = body[:limit].decode("utf-8", errors="replace")
    return text + ("..." if len(body) > limit else "")
