"""How ``shadowtape record`` runs mitmdump: started, watched, stopped, explained.

mitmdump runs in its own session: a Ctrl-C reaches only this command, which turns it (and
SIGTERM) into one SIGTERM for mitmdump, waits for the recorder to close every part, and
exits 0 when every exchange handed to the recorder is on disk; else it says in one line
how many are not, and why, and exits 2. While it runs, the recorder's counters (its stats
file) are shown; when it fails to start or stops on its own, the reason is one line of
what it printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from typing import IO, Any, Protocol

from shadowtape.errors import ConfigError, ShadowtapeError

START_TIMEOUT = 30.0
STOP_TIMEOUT = 60.0
PLAIN_EVERY = 10.0


def _die_with_parent() -> None:
    """In the child: get SIGTERM if this command dies, so no proxy is left orphaned."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


#: How mitmdump's log lines start (its termlog), and how it says an error stopped it.
_STAMP = re.compile(r"\[\d\d:\d\d:\d\d\.\d+\] ")
_CLOSING = ("Error logged during startup", "Errors logged during startup")


class _Output:
    """mitmdump's lines, passed through once it has started (a failed start is one line
    of its reason, not its traceback); the last ones are kept to explain a failure."""

    def __init__(self, stream: IO[bytes], write: Any) -> None:
        self.last: deque[str] = deque(maxlen=200)
        self._write = write
        self._held: list[str] | None = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[bytes]) -> None:
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self.last.append(line)
                with self._lock:
                    if self._held is not None:
                        self._held.append(line)
                        continue
                self._write(line)

    def release(self) -> None:
        """mitmdump started: show what it said so far, and pass the rest through."""
        with self._lock:
            held, self._held = self._held or [], None
        for line in held:
            self._write(line)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def reason(self) -> str:
        """Why mitmdump stopped, in one line, from what it printed.

        That is its last log line, with the exception a traceback under it ends in, and
        not the "Error logged during startup, exiting..." it closes with.
        """
        lines = [line for line in self.last if line.strip() and not line.startswith(_CLOSING)]
        logged = [i for i, line in enumerate(lines) if _STAMP.match(line)]
        start = logged[-1] + 1 if logged else 0
        ending = next((line for line in reversed(lines[start:]) if line[0] != " "), "")
        if not logged:
            if not ending:
                return "mitmdump exited"
            # mitmdump prints a refused option of its own as "PATH/mitmdump: MESSAGE".
            return ending.split(": ", 1)[-1] if ending.startswith("/") else ending
        message = _STAMP.sub("", lines[logged[-1]], count=1)
        if ending and ending.split(": ", 1)[-1] not in message:
            message = f"{message}: {ending}"
        return message


def _read_stats(path: str) -> dict[str, Any]:
    try:
        with open(path) as handle:
            return dict(json.load(handle))
    except (OSError, ValueError):
        return {}


def _counts(stats: dict[str, Any]) -> str:
    return (
        f"recorded {stats.get('handed', 0)} · on disk {stats.get('written', 0)} in "
        f"{stats.get('parts', 0)} parts · pending {stats.get('queued', 0)} · dropped "
        f"{stats.get('dropped', 0)} · failed {stats.get('failed', 0)}"
    )


def _wait_listening(host: str, port: int, proc: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Supervised(Protocol):
    """What ``supervise`` runs: ``record.launcher.Launch``, or the deps proxy's."""

    @property
    def args(self) -> argparse.Namespace: ...

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...

    @property
    def label(self) -> str:
        """The command's name in its lines ("shadowtape record")."""
        ...

    def command(self, stats_file: str) -> list[str]: ...

    def banner(self) -> str: ...


def supervise(launch: Supervised) -> int:
    """Run mitmdump until a signal or its own exit; 0 when it stopped as asked."""
    args, host, port = launch.args, launch.host, launch.port
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    with tempfile.TemporaryDirectory(prefix="shadowtape-record-") as scratch:
        stats_file = os.path.join(scratch, "stats.json")
        cmd = launch.command(stats_file)
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        output = _Output(proc.stdout, lambda line: console.print(f"mitmdump: {line}", markup=False))  # type: ignore[arg-type]
        stop = threading.Event()
        previous = {
            sig: signal.signal(sig, lambda *_: stop.set())
            for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            if not _wait_listening(host, port, proc):
                terminate(proc)
                output.join(5)
                raise ConfigError(f"mitmdump did not start: {output.reason()}")
            output.release()
            console.print(launch.banner(), markup=False)
            _watch(proc, stop, stats_file, console, launch.label)
            code = terminate(proc)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if proc.poll() is None:
                terminate(proc)
        output.join(5)
        stats = _read_stats(stats_file)
        console.print(
            f"{launch.label}: stopped; {_counts(stats)}; tapes in {args.tapes}", markup=False
        )
        if code not in (0, -signal.SIGTERM) and not stop.is_set():
            raise ShadowtapeError(f"mitmdump stopped unexpectedly (exit {code}): {output.reason()}")
        lost = _lost(stats)
        if lost:
            raise ShadowtapeError(lost)
    return 0


def _lost(stats: dict[str, Any]) -> str:
    """Why not every exchange handed to the recorder is on disk, in one line; "" if all are.

    Flows dropped before the hand-off (the proxy's queue full) were never handed over.
    """
    handed, written = int(stats.get("handed", 0)), int(stats.get("written", 0))
    if handed <= written:
        return ""
    if stats.get("final"):
        why = (
            f"{stats.get('failed', 0)} failed (tape or worker errors, or a worker that did "
            "not finish within the shutdown grace: the warnings above say which)"
        )
    else:
        why = f"mitmdump did not finish within {STOP_TIMEOUT:.0f} s and was killed"
    return f"{handed - written} of {handed} recorded exchanges are not on disk; {why}"


def _watch(
    proc: subprocess.Popen[bytes],
    stop: threading.Event,
    stats_file: str,
    console: Any,
    label: str,
) -> None:
    """Show the counts until a signal or mitmdump's exit: live on a terminal, else plain lines."""
    if console.is_terminal:
        from rich.live import Live

        with Live("", console=console, refresh_per_second=4, transient=True) as live:
            while not stop.wait(0.25) and proc.poll() is None:
                live.update(_counts(_read_stats(stats_file)))
        return
    last = time.monotonic()
    while not stop.wait(0.25) and proc.poll() is None:
        if time.monotonic() - last >= PLAIN_EVERY:
            last = time.monotonic()
            print(f"{label}: {_counts(_read_stats(stats_file))}", flush=True)


def terminate(
    proc: subprocess.Popen[bytes],
    sig: signal.Signals = signal.SIGTERM,
    timeout: float = STOP_TIMEOUT,
) -> int:
    """Signal ``proc`` and wait for its exit code; kill it if it does not exit in time."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()
