"""Drive Debian's headless Chromium over the DevTools protocol, for the HTML report tests.

No Playwright or Selenium: a real /usr/bin/chromium, started with a fresh profile and
`--remote-debugging-port=0` (Chromium picks a free port and writes it to
DevToolsActivePort), spoken to over a loopback WebSocket with wsproto (installed with
mitmproxy). Console messages, uncaught exceptions, CSP violations and every network
request the page makes are recorded, so a test can assert there were none.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Request,
    TextMessage,
)

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
]


def available() -> bool:
    return Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is not None


def run_cli(url: str, *extra: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """One-shot headless Chromium (--dump-dom, --screenshot) with a fresh profile."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        return subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, url],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@dataclass
class PageLog:
    console: list[dict[str, Any]] = field(default_factory=list)  # Runtime.consoleAPICalled
    exceptions: list[dict[str, Any]] = field(default_factory=list)  # Runtime.exceptionThrown
    log: list[dict[str, Any]] = field(default_factory=list)  # Log.entryAdded (CSP, network)
    requests: list[str] = field(default_factory=list)  # every URL the page asked for

    def errors(self) -> list[str]:
        out = [json.dumps(x.get("args"))[:300] for x in self.console if x["type"] == "error"]
        out += [x["exceptionDetails"].get("text", "") for x in self.exceptions]
        out += [x["entry"]["text"] for x in self.log if x["entry"]["level"] == "error"]
        return out


class _Socket:
    """A WebSocket client connection: wsproto's state machine over a blocking socket."""

    def __init__(self, port: int, path: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.sock.sendall(self.ws.send(Request(host=f"127.0.0.1:{port}", target=path)))
        self.inbox: list[str] = []
        self._text: list[str] = []
        while not self._pump(accepting=True):
            pass

    def _pump(self, accepting: bool = False) -> bool:
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("chromium closed the DevTools connection")
        self.ws.receive_data(data)
        accepted = False
        for event in self.ws.events():
            if isinstance(event, AcceptConnection):
                accepted = True
            elif isinstance(event, TextMessage):
                self._text.append(event.data)
                if event.message_finished:
                    self.inbox.append("".join(self._text))
                    self._text.clear()
            elif isinstance(event, BytesMessage):
                raise ConnectionError("unexpected binary DevTools message")
            elif isinstance(event, Ping):
                self.sock.sendall(self.ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                raise ConnectionError("DevTools connection closed")
        return accepted if accepting else True

    def send(self, text: str) -> None:
        self.sock.sendall(self.ws.send(TextMessage(data=text)))

    def recv(self) -> str:
        while not self.inbox:
            self._pump()
        return self.inbox.pop(0)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.sendall(self.ws.send(CloseConnection(code=1000)))
        self.sock.close()


class Page:
    """One tab, attached with a flat session; events are collected into `log`."""

    def __init__(self, conn: _Socket, session: str) -> None:
        self.conn, self.session = conn, session
        self.ids = itertools.count(1000)
        self.log = PageLog()
        self.loaded = False

    def call(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        msg_id = next(self.ids)
        self.conn.send(
            json.dumps(
                {"id": msg_id, "method": method, "params": params, "sessionId": self.session}
            )
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(self.conn.recv())
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return dict(msg.get("result") or {})
            self._event(msg)
        raise TimeoutError(f"{method}: no answer in {timeout} s")

    def _event(self, msg: dict[str, Any]) -> None:
        method, params = msg.get("method"), msg.get("params") or {}
        if method == "Runtime.consoleAPICalled":
            self.log.console.append(params)
        elif method == "Runtime.exceptionThrown":
            self.log.exceptions.append(params)
        elif method == "Log.entryAdded":
            self.log.log.append(params)
        elif method == "Network.requestWillBeSent":
            self.log.requests.append(params["request"]["url"])
        elif method == "Page.loadEventFired":
            self.loaded = True

    def goto(self, url: str, timeout: float = 60) -> PageLog:
        """Load url and return what the page logged and requested while loading."""
        self.loaded = False
        self.log = PageLog()
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        while not self.loaded:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not finish loading in {timeout} s")
            self._event(json.loads(self.conn.recv()))
        self.settle()
        return self.log

    def settle(self) -> None:
        """Let pending events (late console messages) arrive: a round trip flushes them."""
        self.evaluate("new Promise(r => requestAnimationFrame(() => setTimeout(r, 50)))")

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, *, full_page: bool = False) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", **params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path


@contextlib.contextmanager
def browser(width: int = 1366, height: int = 900) -> Iterator[Page]:
    """A headless Chromium with one page, closed (and its profile removed) on exit."""
    profile = tempfile.mkdtemp(prefix="chromium-")
    proc = subprocess.Popen(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            f"--window-size={width},{height}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    conn: _Socket | None = None
    try:
        port, path = _devtools_address(Path(profile), proc)
        conn = _Socket(port, path)
        ids = itertools.count(1)

        def call(method: str, **params: Any) -> dict[str, Any]:
            assert conn is not None
            msg_id = next(ids)
            conn.send(json.dumps({"id": msg_id, "method": method, "params": params}))
            while True:
                msg = json.loads(conn.recv())
                if msg.get("id") == msg_id:
                    return dict(msg["result"])

        target = call("Target.createTarget", url="about:blank")["targetId"]
        session = call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        page = Page(conn, session)
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(f"{domain}.enable")
        page.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        yield page
    finally:
        if conn is not None:
            conn.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


def _devtools_address(profile: Path, proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with {proc.returncode} before DevTools was up")
        if marker.exists():
            lines = marker.read_text().split()
            if len(lines) >= 2:
                return int(lines[0]), lines[1]
        time.sleep(0.05)
    raise TimeoutError("chromium did not open its DevTools port in 30 s")
