"""`shadowtape deps` as a real process for the e2e tests, and a client that goes through it.

``deps_proxy(...)`` starts the command on a free loopback port, waits until it listens and
has printed its banner, and always stops it (SIGTERM, then the whole group).
``client(proxy)`` is an httpx client using it for http and https, trusting its CA.
``service(proxy, inventory, payments)`` runs deps_service.py with the proxy's variables.
"""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.e2e.record_support import ROOT, kill_group, pumped
from tests.servers import free_port

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
    env = dict(os.environ, SHADOWTAPE_SANITIZE_KEY="deps-test-key", PYTHONPATH=str(ROOT / "src"))
    cmd = [sys.executable, "-m", "shadowtape", "deps", "--listen", f"127.0.0.1:{port}"]
    cmd += ["--tapes", str(tapes), "--mode", mode, "--name", "svc", *flags]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
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
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.lower().endswith("_proxy")}
    env |= {
        "HTTP_PROXY": proxy.url,
        "HTTPS_PROXY": proxy.url,
        "SSL_CERT_FILE": str(proxy.ca),
        "REQUESTS_CA_BUNDLE": str(proxy.ca),
    }
    proc = subprocess.Popen(
        [sys.executable, str(SERVICE), str(port), inventory, payments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
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
