"""A deps proxy beside each launched build: ``shadowtape replay --candidate-cmd … [--deps]``.

``DepsBeside`` is a ``builds.BuildEnvironment``: for each build, before it starts, it runs
``shadowtape deps`` as a child process on a free loopback port (mode ``mock`` over the
``--deps`` tapes, ``passthrough`` without), named after the build's role, with its calls
log and faults file in ``deps/`` of the run folder and one mitmproxy confdir (one CA) for
the run; it waits until the proxy listens and gives the build the variables that send
its outbound HTTP and HTTPS calls through it. ``NO_PROXY`` is emptied: dependencies on
loopback go through the proxy too (the replayer's own requests never do: its client
reads no proxy variables). After the build has stopped, the proxy gets SIGTERM and is
waited for, so its calls log is complete on disk; what is left of it then is killed.

Proxies start one after another: the first one makes the CA in the shared confdir, the
others find it there.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shadowtape.builds import BESIDE, HOST, free_port
from shadowtape.deps.control import clear_faults
from shadowtape.deps.launcher import CA_FILE, CA_VARIABLES
from shadowtape.deps.modes import DepsMode
from shadowtape.errors import ConfigError, ReplayError

FOLDER = BESIDE
#: Seconds a proxy may take to listen.
START_TIMEOUT = 60.0
#: Seconds a proxy may take to stop after SIGTERM (it finishes its calls first).
STOP_TIMEOUT = 30.0
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")
#: Emptied: a loopback dependency must go through the proxy like any other.
NO_PROXY_VARIABLES = ("NO_PROXY", "no_proxy")


@dataclass(slots=True)
class DepsBeside:
    """Starts a deps proxy for each build (a ``BuildEnvironment``) and notes what it
    started in ``started``: role -> run.json's ``deps`` entry (paths relative to the run
    folder)."""

    run_dir: Path
    #: The dependency tapes a mock answers from; None: passthrough.
    tapes: str | None = None
    timeout: float = START_TIMEOUT
    started: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def mode(self) -> DepsMode:
        return DepsMode.PASSTHROUGH if self.tapes is None else DepsMode.MOCK

    @property
    def folder(self) -> Path:
        return self.run_dir / FOLDER

    @property
    def ca_cert(self) -> Path:
        return self.folder / "mitmproxy" / CA_FILE

    @contextlib.contextmanager
    def __call__(self, role: str) -> Iterator[Mapping[str, str]]:
        port = free_port()
        proxy = f"http://{HOST}:{port}"
        calls, faults = f"{FOLDER}/{role}.calls.jsonl", f"{FOLDER}/{role}.faults.json"
        self.folder.mkdir(parents=True, exist_ok=True)
        clear_faults(self.run_dir / faults)
        log = self.folder / f"{role}.log"
        command = [
            sys.executable, "-m", "shadowtape", "deps",
            "--listen", f"{HOST}:{port}",
            "--tapes", self.tapes if self.tapes is not None else str(self.folder),
            "--mode", self.mode.value,
            "--name", role,
            "--confdir", str(self.folder / "mitmproxy"),
            "--calls", str(self.run_dir / calls),
            "--faults-file", str(self.run_dir / faults),
        ]  # fmt: skip
        # The proxy's own environment has no proxy variables: it is the last hop.
        environment = {
            name: value for name, value in os.environ.items() if not name.lower().endswith("_proxy")
        }
        with log.open("wb") as output:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=environment,
                start_new_session=True,
            )
        try:
            self._wait(role, process, port, log)
            self.started[role] = {
                "mode": self.mode.value,
                "proxy": proxy,
                "calls": calls,
                "faults": faults,
            }
            ca = str(self.ca_cert)
            yield {
                **dict.fromkeys(PROXY_VARIABLES, proxy),
                **dict.fromkeys(CA_VARIABLES, ca),
                **dict.fromkeys(NO_PROXY_VARIABLES, ""),
            }
        finally:
            _stop(process)

    def _wait(self, role: str, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        """Until the proxy listens and the CA is on disk; a proxy that exits first is
        one line: its own reason (a mock without recorded calls, ...)."""
        deadline = time.monotonic() + self.timeout
        while True:
            code = process.poll()
            if code is not None:
                reason = _last_line(log).removeprefix("shadowtape deps: error: ")
                if reason.startswith("--tapes "):  # what replay calls --deps
                    reason = "--deps " + reason.removeprefix("--tapes ")
                raise ConfigError(
                    f"the deps proxy for the {role} did not start: "
                    f"{reason or f'it exited with code {code}'}"
                )
            if self.ca_cert.exists():
                with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.5):
                    return
            if time.monotonic() >= deadline:
                raise ReplayError(
                    f"the deps proxy for the {role} did not listen on port {port} within "
                    f"{self.timeout:g} s: its output is in {log}"
                )
            time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, a wait for the calls in flight to end, then SIGKILL to what is left."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
        return
    except subprocess.TimeoutExpired:
        pass
    # Not reaped yet, so the group is still its own; mitmdump, in a session of its own,
    # gets SIGTERM when its parent dies.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _last_line(log: Path) -> str:
    try:
        with log.open("rb") as handle:
            lines = deque((line.strip() for line in handle if line.strip()), maxlen=1)
    except OSError:
        return ""
    return lines[0].decode("utf-8", "replace") if lines else ""
