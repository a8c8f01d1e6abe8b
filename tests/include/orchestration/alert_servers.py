"""Loopback servers that receive alerts in tests: a small SMTP server and an HTTP webhook, each in a thread.

`SmtpServer` speaks enough SMTP for `smtplib` (EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and
keeps every message it accepts; `WebhookServer` keeps every POST and answers with `status` (settable).
"""

from __future__ import annotations

import base64
import contextlib
import email
import email.policy
import http.server
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, TypeVar


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_to: list[str]
    data: bytes
    auth: tuple[str, str] | None

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)  # type: ignore[return-value]

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html", "plain"))
        assert part is not None, "the message has no text body"
        return part.get_content()


@dataclass
class ReceivedPost:
    path: str
    headers: dict[str, str]
    body: bytes


class _SmtpHandler(socketserver.StreamRequestHandler):
    server: SmtpServer

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")
        self.wfile.flush()

    def _line(self) -> str | None:
        raw = self.rfile.readline(65536)
        return raw.decode("utf-8", "replace").rstrip("\r\n") if raw else None

    def handle(self) -> None:
        self._reply("220 localhost test SMTP ready")
        mail_from, rcpt_to, auth = "", [], None
        while (line := self._line()) is not None:
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                self._reply("250-localhost")
                self._reply("250-AUTH PLAIN")
                self._reply("250 8BITMIME")
            elif verb == "HELO":
                self._reply("250 localhost")
            elif verb == "AUTH":
                mechanism, _, initial = arg.partition(" ")
                if mechanism.upper() != "PLAIN":
                    self._reply("504 only PLAIN")
                    continue
                if not initial:
                    self._reply("334 ")
                    initial = self._line() or ""
                _, user, password = base64.b64decode(initial).decode("utf-8").split("\0")
                auth = (user, password)
                self._reply("235 authenticated")
            elif verb == "MAIL":
                mail_from, rcpt_to = arg.split(":", 1)[1].split()[0].strip("<>"), []
                self._reply("250 OK")
            elif verb == "RCPT":
                rcpt_to.append(arg.split(":", 1)[1].split()[0].strip("<>"))
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 end data with <CR><LF>.<CR><LF>")
                lines = []
                while (raw := self.rfile.readline(65536)) not in (b".\r\n", b".\n", b""):
                    lines.append(raw[1:] if raw.startswith(b"..") else raw)
                self.server.received.append(ReceivedMail(mail_from, rcpt_to, b"".join(lines), auth))
                self._reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                self._reply("250 OK")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("502 command not implemented")


class SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.received: list[ReceivedMail] = []

    @property
    def port(self) -> int:
        return self.server_address[1]


class _WebhookHandler(http.server.BaseHTTPRequestHandler):
    server: WebhookServer

    def do_POST(self) -> None:  # noqa: N802 - the http.server naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append(ReceivedPost(self.path, dict(self.headers.items()), body))
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the http.server signature
        pass


class WebhookServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, status: int = 200) -> None:
        super().__init__(("127.0.0.1", 0), _WebhookHandler)
        self.status = status
        self.received: list[ReceivedPost] = []

    @property
    def port(self) -> int:
        return self.server_address[1]


S = TypeVar("S", bound=socketserver.BaseServer)


def serve(server: socketserver.BaseServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return thread


@contextlib.contextmanager
def serving(server: S) -> Iterator[S]:
    """`server` answering in a thread for the duration of the block, then shut down and closed."""
    serve(server)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
