"""A runnable sample of the offices' case-report API (`GET /kantor/{kode}/kasus?since=&page=`, bearer
token), for `make demo`, the tests and the compose stack's `office-api`; `Fault`s inject slow responses,
5xx, 429, malformed or truncated JSON and repeated pages. The protocol: `SampleOfficeApi`; the service:
`python -m include.netralitas.sample.office_api --help` (token from `NETRALITAS_OFFICE_API_TOKEN`).
Standard library only.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import signal
import sys
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal, Self, cast
from urllib.parse import parse_qs, unquote, urlsplit

RECEIVED_KEY = "diterima_pada"
DEFAULT_RECEIVED_AT = "2024-11-25T02:00:00+00:00"

FaultKind = Literal["slow", "status", "rate_limit", "malformed", "truncated", "repeat_page"]
FAULT_KINDS: tuple[str, ...] = ("slow", "status", "rate_limit", "malformed", "truncated", "repeat_page")
MALFORMED_BODY = b'{"rows": [oops'
HEALTH_PATH = "/health"
TOKEN_ENV = "NETRALITAS_OFFICE_API_TOKEN"


@dataclass(frozen=True)
class Fault:
    """How one office misbehaves, for its next `times` requests (a large number means always).

    - `slow`: waits `delay_s` seconds, then answers normally.
    - `status`: answers `status` (500, 502 or 503; any 4xx/5xx is accepted) with a JSON error body.
    - `rate_limit`: answers 429 with `Retry-After: <retry_after_s>`.
    - `malformed`: answers 200 with a body that is not JSON.
    - `truncated`: answers 200 with the first half of the valid JSON body (Content-Length matches what is sent).
    - `repeat_page`: page 2 answers exactly the body of page 1. Only page-2 requests use up `times`.
    """

    kind: FaultKind
    status: int = 500
    times: int = 1
    delay_s: float = 2.0
    retry_after_s: int = 1

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.kind == "status" and not 400 <= self.status <= 599:
            raise ValueError(f"a status fault needs an error status (4xx or 5xx), not {self.status}")
        if self.times < 0 or self.delay_s < 0 or self.retry_after_s < 0:
            raise ValueError("times, delay_s and retry_after_s must not be negative")


@dataclass(frozen=True)
class _StoredRow:
    received_at: datetime
    row: dict[str, str]

    @property
    def sort_key(self) -> tuple[datetime, str]:
        return self.received_at, self.row.get("nomor_kasus", "")


@dataclass(frozen=True)
class _Reply:
    """What the handler sends: decided under the lock, sent outside it (after `delay_s`)."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    delay_s: float = 0.0


def parse_timestamp(value: str) -> datetime:
    """An ISO-8601 timestamp as an aware UTC datetime; a naive one is taken as UTC. Raises ValueError."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _json_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def _error(status: int, message: str) -> _Reply:
    return _Reply(status, _json_body({"error": HTTPStatus(status).phrase, "detail": message}))


def _store(row: dict[str, str]) -> _StoredRow:
    served = dict(row)
    received = served.pop(RECEIVED_KEY, DEFAULT_RECEIVED_AT)
    return _StoredRow(parse_timestamp(received), served)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: SampleOfficeApi

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout, closed socket) is normal in fault tests: stay quiet about it."""
        # Anything else is a bug in this module: let the base class print it.
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        reply = self.server.api._reply(self.path, self.headers.get("Authorization"))
        if reply.delay_s and self.server.api._stopping.wait(reply.delay_s):
            return  # the server is stopping: drop the request instead of answering late
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: `SampleOfficeApi.request_log` records every request instead."""


class SampleOfficeApi:
    """An in-memory office API on 127.0.0.1 with per-office fault switches; see the module docstring.

    `rows_by_office` maps an office code ("82.04", "82") to its case rows; a row may carry `diterima_pada`
    (ISO-8601, UTC when naive), otherwise it counts as received at `DEFAULT_RECEIVED_AT`. The rows are copied.
    `request_log` lists `(office, path_and_query, status)` for every request, in arrival order (an office of
    "" means the path was not `/kantor/{kode}/kasus`). `health=True` also answers `GET /health` without a
    token. All methods are thread-safe.
    """

    def __init__(
        self,
        rows_by_office: dict[str, list[dict[str, str]]],
        token: str,
        page_size: int = 50,
        faults: dict[str, Fault] | None = None,
        *,
        health: bool = False,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        if not token:
            raise ValueError("token must not be empty")
        self._token = token
        self.page_size = page_size
        self.health = health
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._rows: dict[str, list[_StoredRow]] = {
            office: [_store(row) for row in rows] for office, rows in rows_by_office.items()
        }
        self._faults: dict[str, Fault] = {}
        self._remaining: dict[str, int] = {}
        for office, fault in (faults or {}).items():
            self.set_fault(office, fault)
        self.request_log: list[tuple[str, str, int]] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"SampleOfficeApi(offices={len(self._rows)}, url={self.base_url!r})"

    # -- lifecycle -----------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str | None:
        """`http://HOST:PORT` while running (127.0.0.1 when bound to every interface), else None."""
        if self._server is None:
            return None
        host, port = self._server.server_address[:2]
        return f"http://{'127.0.0.1' if host in ('', '0.0.0.0') else host}:{port}"

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Bind `host:port` (loopback on a free port by default), serve in a background thread, and return the
        base URL."""
        if self._server is not None:
            raise RuntimeError("the sample office API is already running")
        self._stopping.clear()
        server = _Server((host, port), _Handler)
        server.api = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="sample-office-api", daemon=True
        )
        self._thread.start()
        return cast(str, self.base_url)

    def stop(self) -> None:
        """Stop serving and free the port; requests still waiting on a `slow` fault are dropped. Idempotent."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- data and faults -----------------------------------------------------------------------------------

    def add_rows(self, office: str, rows: list[dict[str, str]]) -> None:
        """Append rows to an office (creating it when unknown), as if the office recorded new cases."""
        stored = [_store(row) for row in rows]
        with self._lock:
            self._rows.setdefault(office, []).extend(stored)

    def set_fault(self, office: str, fault: Fault | None) -> None:
        """Arm `fault` for an office (its `times` counter starts afresh), or disarm it with None."""
        with self._lock:
            if fault is None:
                self._faults.pop(office, None)
                self._remaining.pop(office, None)
            else:
                self._faults[office] = fault
                self._remaining[office] = fault.times

    def log_for(self, office: str) -> list[tuple[str, str, int]]:
        """A snapshot of `request_log` for one office."""
        with self._lock:
            return [entry for entry in self.request_log if entry[0] == office]

    # -- request handling ----------------------------------------------------------------------------------

    def _reply(self, target: str, authorization: str | None) -> _Reply:
        """Decide the reply to `GET target` and log it; runs under the lock, so it never sleeps."""
        parts = urlsplit(target)
        segments = parts.path.strip("/").split("/")
        office = unquote(segments[1]) if len(segments) == 3 and segments[::2] == ["kantor", "kasus"] else ""
        with self._lock:
            if self.health and parts.path == HEALTH_PATH:
                reply = _Reply(200, _json_body({"status": "ok", "offices": len(self._rows)}))
            else:
                reply = self._decide(office, parts.query, authorization)
            self.request_log.append((office, target, reply.status))
        return reply

    def _authorised(self, authorization: str | None) -> bool:
        scheme, _, credentials = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(credentials.encode(), self._token.encode())

    def _decide(self, office: str, query: str, authorization: str | None) -> _Reply:
        if not self._authorised(authorization):
            return _Reply(
                401,
                _json_body({"error": "Unauthorized", "detail": "missing or invalid bearer token"}),
                (("WWW-Authenticate", 'Bearer realm="kantor"'),),
            )
        if not office:
            return _error(404, "no such endpoint; expected /kantor/{kode}/kasus")
        if office not in self._rows:
            return _error(404, f"unknown office {office!r}")
        params = parse_qs(query)
        since = params.get("since", [None])[-1]
        try:
            since_at = parse_timestamp(since) if since else None
        except ValueError:
            return _error(400, f"since is not an ISO-8601 datetime: {since!r}")
        try:
            page = int(params.get("page", ["1"])[-1])
        except ValueError:
            page = 0
        if page < 1:
            return _error(400, "page must be a positive integer")
        return self._faulty(office, page, since, since_at) or _Reply(
            200, self._page_body(office, page, since, since_at)
        )

    def _faulty(self, office: str, page: int, since: str | None, since_at: datetime | None) -> _Reply | None:
        """The faulty reply when the office's fault is armed and applies to this request (using it up)."""
        fault = self._faults.get(office)
        if fault is None or self._remaining.get(office, 0) <= 0:
            return None
        if fault.kind == "repeat_page" and page != 2:
            return None
        self._remaining[office] -= 1
        match fault.kind:
            case "slow":
                return _Reply(200, self._page_body(office, page, since, since_at), delay_s=fault.delay_s)
            case "status":
                return _error(fault.status, "injected fault")
            case "rate_limit":
                return _Reply(
                    429,
                    _json_body({"error": "Too Many Requests", "detail": "injected fault"}),
                    (("Retry-After", str(fault.retry_after_s)),),
                )
            case "malformed":
                return _Reply(200, MALFORMED_BODY)
            case "truncated":
                body = self._page_body(office, page, since, since_at)
                return _Reply(200, body[: len(body) // 2])
            case "repeat_page":
                return _Reply(200, self._page_body(office, 1, since, since_at))
        raise AssertionError(f"unhandled fault kind {fault.kind!r}")  # pragma: no cover - guarded by Fault

    def _page_body(self, office: str, page: int, since: str | None, since_at: datetime | None) -> bytes:
        matching = sorted(
            (stored for stored in self._rows[office] if since_at is None or stored.received_at > since_at),
            key=lambda stored: stored.sort_key,
        )
        start = (page - 1) * self.page_size
        chunk = matching[start : start + self.page_size]
        watermark = matching[-1].received_at.isoformat() if matching else since
        return _json_body(
            {
                "kode_kantor": office,
                "page": page,
                "rows": [dict(stored.row) for stored in chunk],
                "next_page": page + 1 if start + self.page_size < len(matching) else None,
                "watermark": watermark,
            }
        )


# -- the service ---------------------------------------------------------------------------------------------


def write_endpoints_file(path: Path, offices: list[str]) -> None:
    """The endpoints file of `offices` (shared connection, its host), replaced atomically."""
    from include.netralitas.files import atomic_write

    content = "kode_kantor,base_url,conn_id\n" + "".join(f"{kode},,\n" for kode in sorted(offices))
    atomic_write(path, content.encode("utf-8"), 0o644)


def sample_rows(seed: int, total_cases: int) -> dict[str, list[dict[str, str]]]:
    """The API offices' rows of the generated sample (the drop files it also writes are discarded)."""
    from include.netralitas.sample.generator import generate_sample

    rows: dict[str, list[dict[str, str]]] = {}
    with tempfile.TemporaryDirectory(prefix="netralitas-sample-") as scratch:
        generate_sample(Path(scratch), seed=seed, total_cases=total_cases, api_rows=rows)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the sample office API until SIGTERM or SIGINT.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (0.0.0.0 in a container)")
    parser.add_argument("--port", type=int, default=8081, help="port to bind; 0 picks a free one")
    parser.add_argument("--seed", type=int, default=2024, help="seed of the generated sample (as make demo)")
    parser.add_argument("--total-cases", type=int, default=3000, help="cases of the whole sample, all offices")
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--endpoints-file", type=Path, help="write the offices served here, for the DAGs")
    parser.add_argument("--token-env", default=TOKEN_ENV, help="environment variable holding the bearer token")
    args = parser.parse_args(argv)
    token = os.environ.get(args.token_env, "")
    if not token:
        parser.error(f"set the bearer token in the environment variable {args.token_env}")

    rows = sample_rows(args.seed, args.total_cases)
    if args.endpoints_file:
        write_endpoints_file(args.endpoints_file, list(rows))
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):  # as PID 1 in a container, SIGTERM is ignored without this
        signal.signal(signum, lambda *_: stop.set())
    api = SampleOfficeApi(rows, token=token, page_size=args.page_size, health=True)
    url = api.start(args.host, args.port)
    print(f"serving {len(rows)} offices on {url}", flush=True)
    try:
        stop.wait()
    finally:
        api.stop()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
