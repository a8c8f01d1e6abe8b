"""Headless Chromium driven through the Chrome DevTools Protocol (websockets, already in the lock): open a
page at a viewport width as a phone or a desktop would, measure it, run axe-core in it, take a screenshot.
axe-core comes from npm (installed with apt-get when missing), put into var/node by `axe_source` (a pinned
version, no browser download)."""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

AXE_VERSION = "4.14.1"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
]  # fmt: skip


class ToolMissing(RuntimeError):
    """A tool the browser tests need is not there and could not be installed."""


def axe_source(var: Path) -> str:
    """axe.min.js of axe-core AXE_VERSION, installed with npm into `var/node` once."""
    script = var / "node" / "node_modules" / "axe-core" / "axe.min.js"
    package = script.parent / "package.json"
    if not (script.is_file() and json.loads(package.read_text())["version"] == AXE_VERSION):
        npm = shutil.which("npm")
        if npm is None and shutil.which("apt-get") and os.geteuid() == 0:  # as the chromium fixture does
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            subprocess.run(["apt-get", "install", "-y", "-qq", "npm"], capture_output=True, env=env)
            npm = shutil.which("npm")
        if npm is None:
            raise ToolMissing("npm is not installed (apt-get install npm, as root): it installs axe-core for the tests")
        (var / "node").mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "install", "--prefix", str(var / "node"), "--no-audit", "--no-fund", "--no-save",
             f"axe-core@{AXE_VERSION}"],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if done.returncode != 0 or not script.is_file():
            raise ToolMissing(f"npm install axe-core@{AXE_VERSION} failed:\n{done.stderr[-2000:]}")
    return script.read_text(encoding="utf-8")


class Page:
    """One browser tab, attached through the browser's DevTools socket (flattened session)."""

    def __init__(self, socket, session: str, ids: itertools.count) -> None:
        self.socket, self.session, self.ids = socket, session, ids
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None) -> dict:
        return _call(self.socket, self.ids, method, params, self.session, self.events)

    def open(self, url: str, width: int, height: int) -> None:
        """Load `url` in a viewport `width` x `height` CSS pixels; below 600 px as a phone (the page's
        viewport tag decides its layout width, as on a real phone)."""
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
        )
        self.send("Page.enable")
        self.events.clear()
        self.send("Page.navigate", {"url": url})

        def loaded(event: dict) -> bool:
            return event.get("method") == "Page.loadEventFired" and event.get("sessionId") == self.session

        while not any(map(loaded, self.events)):
            self.events.append(json.loads(self.socket.recv(timeout=60)))

    def evaluate(self, expression: str, *, awaited: bool = False):
        result = self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": awaited}
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def axe(self, source: str) -> list[dict]:
        """axe-core's violations of the page: id, impact, help and the offending elements."""
        self.evaluate(source)
        return self.evaluate(
            "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => ({id: v.id,"
            " impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))})))",
            awaited=True,
        )

    def screenshot(self, path: Path) -> None:
        """The whole page, beyond the viewport, as PNG."""
        shot = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))


def _call(socket, ids, method: str, params: dict | None, session: str | None, events: list[dict]) -> dict:
    number = next(ids)
    message = {"id": number, "method": method, "params": params or {}}
    if session:
        message["sessionId"] = session
    socket.send(json.dumps(message))
    while True:
        answer = json.loads(socket.recv(timeout=120))
        if answer.get("id") == number:
            if "error" in answer:
                raise RuntimeError(f"{method}: {answer['error']}")
            return answer["result"]
        events.append(answer)


@contextmanager
def devtools(chromium: str, flags: list[str], profile: Path) -> Iterator[tuple[str, str]]:
    """Chromium started with `flags` and the profile folder `profile`, its DevTools on a free loopback port:
    yields (port, the browser's DevTools socket path); stopped afterwards."""
    process = subprocess.Popen(
        [chromium, *flags, f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        active = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (active.is_file() and len(active.read_text().splitlines()) >= 2):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{chromium} did not open its DevTools port (exit code {process.poll()})")
            time.sleep(0.1)
        port, path = active.read_text().splitlines()[:2]
        yield port, path
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def browser(chromium: str):
    """A headless Chromium with a DevTools socket on a free port; yields a function that opens a new tab."""
    from websockets.sync.client import connect

    profile = Path(tempfile.mkdtemp(prefix="netralitas-chromium-"))
    try:
        with (
            devtools(chromium, FLAGS, profile) as (port, path),
            connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=30) as socket,
        ):
            ids = itertools.count(1)

            def new_page() -> Page:
                target = _call(socket, ids, "Target.createTarget", {"url": "about:blank"}, None, [])["targetId"]
                attached = _call(socket, ids, "Target.attachToTarget", {"targetId": target, "flatten": True}, None, [])
                return Page(socket, attached["sessionId"], ids)

            yield new_page
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def tool_missing(reason: str) -> None:
    """Under CI=true a missing tool fails the test; elsewhere it skips it."""
    import pytest

    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)
