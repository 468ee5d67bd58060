"""Real mitmdump processes for the recorder's end-to-end tests: started, waited for, killed.

``proxy(...)`` runs ``mitmdump`` in reverse-proxy mode in front of a loopback upstream,
with or without the Recorder, in its own process group so a test can kill the proxy and
its worker together; it is always stopped, also when the test fails.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from shadowtape.builds import await_listening
from shadowtape.exchange import Exchange
from shadowtape.record.launcher import mitmdump_listening
from shadowtape.tape import TapeReader
from tests.procfs import children
from tests.servers import free_port, read_head

ROOT = Path(__file__).resolve().parents[2]
MITMDUMP = str(Path(sys.executable).parent / "mitmdump")
SCRIPT = str(ROOT / "src" / "shadowtape" / "record" / "script.py")
FAULTY_SCRIPT = str(Path(__file__).resolve().parent / "record_faulty_addon.py")


@dataclass
class Proxy:
    proc: subprocess.Popen[bytes]
    port: int
    url: str
    tapes: Path | None
    stats_file: Path | None
    lines: list[str] = field(default_factory=list)

    def stats(self) -> dict[str, Any]:
        assert self.stats_file is not None
        try:
            return dict(json.loads(self.stats_file.read_text()))
        except (OSError, ValueError):
            return {}

    def wait_stats(self, key: str, at_least: int, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            if stats.get(key, 0) >= at_least or time.monotonic() > deadline:
                return stats
            time.sleep(0.1)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            kill_group(self.proc)
            raise

    def output(self) -> str:
        return "\n".join(self.lines)


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


@contextmanager
def record_command(
    upstream: str, tapes: Path, *flags: str, port: int, key: str, warmup: str = "/"
) -> Iterator[subprocess.Popen[bytes]]:
    """`shadowtape record` on ``port`` in front of ``upstream``, stdout and stderr piped,
    once it answers GET ``warmup`` (recorded like any request); killed after the block
    unless it has exited, its pipes closed."""
    env = dict(os.environ, SHADOWTAPE_SANITIZE_KEY=key, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shadowtape",
            "record",
            "--upstream",
            upstream,
            "--listen",
            str(port),
            "--tapes",
            str(tapes),
            *flags,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}{warmup}", timeout=5)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the proxy did not start"
                time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            kill_group(proc)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def _pump(proc: subprocess.Popen[bytes], lines: list[str]) -> None:
    assert proc.stdout is not None
    for raw in proc.stdout:
        lines.append(raw.decode("utf-8", "replace").rstrip())


@contextmanager
def pumped(proc: subprocess.Popen[bytes], *, grace: float) -> Iterator[list[str]]:
    """The lines ``proc`` prints on stdout, read by a thread while the block runs; after it,
    ``proc`` is stopped: SIGTERM, ``grace`` seconds to exit, then its whole group killed."""
    lines: list[str] = []
    pump = threading.Thread(target=_pump, args=(proc, lines), daemon=True)
    pump.start()
    try:
        yield lines
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                proc.wait(grace)
        kill_group(proc)
        pump.join(5)
        if proc.stdout is not None:
            proc.stdout.close()


def _wait_listening(port: int, proc: subprocess.Popen[bytes], lines: list[str]) -> None:
    await_listening(
        proc,
        port,
        time.monotonic() + 30,
        exited=lambda _: RuntimeError("mitmdump exited at start:\n" + "\n".join(lines)),
        late=lambda: RuntimeError("mitmdump did not start listening:\n" + "\n".join(lines)),
    )


@contextmanager
def proxy(
    upstream: str,
    tapes: Path | None,
    *,
    script: str | None = SCRIPT,
    options: dict[str, Any] | None = None,
    key: str = "e2e-test-key",
    env: dict[str, str] | None = None,
) -> Iterator[Proxy]:
    """mitmdump in front of ``upstream``; with the Recorder unless ``tapes`` is None."""
    port = free_port()
    cmd = mitmdump_listening(f"reverse:{upstream}", "127.0.0.1", port)
    cmd += ["--set", "flow_detail=0", "--set", "termlog_verbosity=warn"]
    stats_file = None
    if tapes is not None and script is not None:
        # Beside the tapes only when that folder is usable: some tests break it on purpose.
        stats_file = Path(tempfile.gettempdir()) / f"shadowtape-e2e-stats-{port}.json"
        settings = {
            "shadowtape_tapes": str(tapes),
            "shadowtape_stats_file": str(stats_file),
            "shadowtape_source": "e2e",
            **(options or {}),
        }
        cmd += ["-s", script]
        for name, value in settings.items():
            for item in value if isinstance(value, list) else [value]:
                cmd += ["--set", f"{name}={item}"]
    proc = spawn(cmd, key, subprocess.STDOUT, env)
    try:
        with pumped(proc, grace=40) as lines:
            _wait_listening(port, proc, lines)
            yield Proxy(proc, port, f"http://127.0.0.1:{port}", tapes, stats_file, lines)
    finally:
        if stats_file is not None:
            stats_file.unlink(missing_ok=True)


def run_mitmdump(options: dict[str, str], timeout: float = 30.0) -> tuple[int, str, str]:
    """mitmdump with the Recorder and these --set options, until it exits: (code, out, err).

    For options that must stop it at start; one that does not is killed at ``timeout``.
    """
    cmd = mitmdump_listening("reverse:http://127.0.0.1:9", "127.0.0.1", free_port())
    cmd += ["-s", SCRIPT]
    for name, value in {"termlog_verbosity": "warn", **options}.items():
        cmd += ["--set", f"{name}={value}"]
    proc = spawn(cmd, "e2e-test-key", subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err = proc.communicate()
    return proc.returncode, out.decode(), err.decode()


def spawn(
    cmd: list[str], key: str, stderr: int, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """mitmdump (or a shadowtape command) in its own session, so its whole group can be
    killed, importing this checkout's shadowtape and tests."""
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    environ = dict(os.environ, SHADOWTAPE_SANITIZE_KEY=key, PYTHONPATH=pythonpath, **(env or {}))
    return subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=stderr,
        stdin=subprocess.DEVNULL,
        env=environ,
        cwd=str(ROOT),
        start_new_session=True,
    )


def read_tapes(tapes: Path) -> list[Exchange]:
    """Every exchange in every part: raises if any part on disk does not read."""
    if not tapes.exists():
        return []
    return list(TapeReader(tapes).exchanges())


def worker_pids(proc: subprocess.Popen[bytes]) -> list[int]:
    """The recorder's worker processes: children of mitmdump."""
    return children(proc.pid)


# -- raw upstreams ----------------------------------------------------------------------------

Handler = Callable[[socket.socket, bytes], None]


@contextmanager
def raw_upstream(handler: Handler) -> Iterator[str]:
    """A loopback server calling ``handler(conn, request_head)`` per connection."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)

    def serve(conn: socket.socket) -> None:
        with conn:
            head = read_head(conn)
            if head is None:
                return
            with suppress(OSError):
                handler(conn, head)

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()


def reset_on_close(conn: socket.socket) -> None:
    """Make closing ``conn`` send a TCP RST instead of a FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
