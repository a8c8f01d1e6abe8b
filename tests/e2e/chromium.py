"""Headless Chromium driven over the DevTools protocol (the `websockets` client of the lock), with networking
cut off: every host name fails to resolve except 127.0.0.1, and every request through a proxy goes to a port
where nothing listens. A page can only use what the file system or the loopback server gives it."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.e2e.browser import devtools, tool_missing

if TYPE_CHECKING:
    from collections.abc import Iterator

OFFLINE = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
    "--disable-background-networking", "--disable-component-update", "--disable-extensions",
    "--proxy-server=127.0.0.1:9",  # loopback bypasses the proxy (Chromium's default): the test's own server
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]  # fmt: skip


def chromium_binary() -> str:
    found = shutil.which("chromium")
    if found is None:  # under CI=true a failure, never a skip (as for the browser tests of the publication)
        tool_missing("Chromium is not installed (apt-get install chromium)")
    return found


class Page:
    """One tab: navigate, evaluate JavaScript, set a cookie, take a screenshot."""

    def __init__(self, ws_url: str) -> None:
        self.ws_url = ws_url
        self.ids = 0

    async def _call(self, ws, method: str, params: dict | None = None) -> dict[str, Any]:
        self.ids += 1
        await ws.send(json.dumps({"id": self.ids, "method": method, "params": params or {}}))
        while True:
            message = json.loads(await ws.recv())
            if message.get("id") == self.ids:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def run(self, *calls: tuple[str, dict]) -> list[dict[str, Any]]:
        import websockets

        async def go():
            async with websockets.connect(self.ws_url, max_size=64 * 1024 * 1024) as ws:
                return [await self._call(ws, method, params) for method, params in calls]

        return asyncio.run(go())

    def open(self, url: str, settle_js: str = "document.readyState === 'complete'", timeout: float = 60) -> None:
        self.run(("Page.enable", {}), ("Page.navigate", {"url": url}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(settle_js) is True:
                return
            time.sleep(0.25)
        raise TimeoutError(f"{url}: {settle_js} never became true")

    def evaluate(self, expression: str) -> Any:
        params = {"expression": expression, "returnByValue": True, "awaitPromise": True}
        [result] = self.run(("Runtime.evaluate", params))
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, width: int = 1280, height: int = 1600) -> None:
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
        _, shot = self.run(("Emulation.setDeviceMetricsOverride", metrics), ("Page.captureScreenshot", {}))
        path.write_bytes(base64.b64decode(shot["data"]))


@contextmanager
def offline_chromium(profile: Path) -> Iterator[Page]:
    """A headless Chromium with no network, its DevTools on a free loopback port; stopped afterwards."""
    profile.mkdir(parents=True, exist_ok=True)
    with devtools(chromium_binary(), OFFLINE, profile) as (port, _):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            tabs = [t for t in json.load(response) if t.get("type") == "page"]
        yield Page(tabs[0]["webSocketDebuggerUrl"])
