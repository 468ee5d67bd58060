"""Servers the benchmarks start on 127.0.0.1: a free port to give one, and waiting until
it listens there."""

from __future__ import annotations

import socket
import subprocess
import time

from shadowtape.builds import await_listening


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes], name: str, *, timeout: float) -> None:
    """Return once ``proc`` accepts connections on ``port``; RuntimeError when it exits
    first or is not listening within ``timeout`` seconds."""
    await_listening(
        proc,
        port,
        time.monotonic() + timeout,
        exited=lambda _: RuntimeError(f"{name} exited at start"),
        late=lambda: RuntimeError(f"{name} did not start listening"),
    )
