"""`shadowtape deps` as a real process for the e2e tests, and a client that goes through it.

``deps_proxy(...)`` starts the command on a free loopback port, waits until it listens and
has printed its banner, and always stops it (SIGTERM, then the whole group).
``client(proxy)`` is an httpx client using it for http and https, trusting its CA.
``service(proxy, inventory, payments)`` runs deps_service.py with the proxy's variables;
``behind_proxy(script, ...)`` runs any such test service script. ``record_order(...)``
records deps_service.py's calls to two real dependencies.
"""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.e2e.record_support import kill_group, pumped, spawn
from tests.servers import Received, Reply, free_port, self_signed, serve

SERVICE = Path(__file__).with_name("deps_service.py")


@dataclass
class DepsProxy:
    proc: subprocess.Popen[bytes]
    url: str
    tapes: Path
    lines: list[str]

    @property
    def ca(self) -> Path:
        return self.tapes / "_deps" / "mitmproxy" / "mitmproxy-ca-cert.pem"

    @property
    def calls(self) -> Path:
        return self.tapes / "_deps" / "svc.calls.jsonl"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def output(self) -> str:
        return "\n".join(self.lines)


@contextmanager
def deps_proxy(tapes: Path, mode: str, *flags: str) -> Iterator[DepsProxy]:
    port = free_port()
    cmd = [sys.executable, "-m", "shadowtape", "deps", "--listen", f"127.0.0.1:{port}"]
    cmd += ["--tapes", str(tapes), "--mode", mode, "--name", "svc", *flags]
    proc = spawn(cmd, "deps-test-key", subprocess.STDOUT)
    with pumped(proc, grace=60) as lines:
        deadline = time.monotonic() + 40
        while not any("Ctrl-C to stop" in line for line in lines):
            assert proc.poll() is None, "\n".join(lines)
            assert time.monotonic() < deadline, "shadowtape deps did not start:\n" + "\n".join(
                lines
            )
            time.sleep(0.05)
        yield DepsProxy(proc, f"http://127.0.0.1:{port}", tapes, lines)


def client(proxy: DepsProxy, timeout: float = 10.0) -> httpx.Client:
    """A client whose http and https calls go through ``proxy``, trusting its CA."""
    trusted = ssl.create_default_context(cafile=str(proxy.ca))
    return httpx.Client(proxy=proxy.url, verify=trusted, timeout=timeout, trust_env=False)


@contextmanager
def service(proxy: DepsProxy, inventory: str, payments: str) -> Iterator[str]:
    """deps_service.py on a free port, its calls through ``proxy``; its URL."""
    with behind_proxy(
        SERVICE,
        inventory,
        payments,
        env={
            "HTTP_PROXY": proxy.url,
            "HTTPS_PROXY": proxy.url,
            "SSL_CERT_FILE": str(proxy.ca),
            "REQUESTS_CA_BUNDLE": str(proxy.ca),
        },
    ) as url:
        yield url


@contextmanager
def behind_proxy(script: Path, *args: str, env: Mapping[str, str]) -> Iterator[str]:
    """``python SCRIPT PORT ARGS...`` on a free port, in its own session, with the
    environment's proxy variables replaced by ``env``; its URL once it printed
    ``listening``. Its whole group is stopped on the way out."""
    port = free_port()
    clean = {key: value for key, value in os.environ.items() if not key.lower().endswith("_proxy")}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=clean | dict(env),
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"listening"
        yield f"http://127.0.0.1:{port}"
    finally:
        kill_group(proc)
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def _inventory(request: Received) -> Reply:
    return Reply(200, [("Content-Type", "application/json")], b'{"stock": 3}')


def _payments(request: Received) -> Reply:
    return Reply(201, [("Content-Type", "application/json")], b'{"charged": 42}')


def record_order(folder: Path, tapes: Path) -> tuple[tuple[str, str], bytes]:
    """deps_service.py's ``GET /order`` through a record-mode proxy into ``tapes``, with
    its real dependencies (inventory over http, payments over https with a self-signed
    certificate made in ``folder``), stopped on return: their URLs and the answer."""
    cert, key = self_signed(folder)
    with serve(_inventory) as inventory, serve(_payments, tls=(cert, key)) as payments:
        urls = (inventory.url, payments.url)
        with (
            deps_proxy(tapes, "record", "--upstream-ca", str(cert)) as proxy,
            service(proxy, *urls) as url,
        ):
            answer = httpx.get(f"{url}/order", timeout=20, trust_env=False)
            assert proxy.stop() == 0, proxy.output()
    assert answer.status_code == 200, answer.text
    return urls, answer.content
