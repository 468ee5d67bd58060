"""Launching the builds a replay compares: ``--candidate-cmd 'CMD … {port}'`` and its kin.

Each build is one shell command (``sh -c``, so ``env VAR=… cmd`` works) started on a free
loopback port (``{port}`` in the command, and ``PORT`` in its environment), with the
replayer's environment, in its own session, its output in ``builds/ROLE.log`` of the run
folder. ``launched(...)`` starts them all, waits until each accepts a TCP connection, and
stops every one of them and their children when it is left, however it is left (an
error, Ctrl-C, SIGTERM: while builds run, SIGTERM raises KeyboardInterrupt so that the
stop runs), first with SIGTERM to the process group, then SIGKILL after a grace. A process
that leaves the group on its own (``setsid``) is beyond reach.

Anything a build needs beside it (the dependency proxy of ``shadowtape deps``) is a
``BuildEnvironment``: entered for each build before it starts, left after it stopped, and
what it yields is added to that build's environment.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from shadowtape.errors import ConfigError, ReplayError

HOST = "127.0.0.1"
#: Seconds a build may take to listen (--build-timeout).
STARTUP_TIMEOUT = 60.0
#: Seconds between SIGTERM and SIGKILL when a build is stopped.
GRACE = 5.0
#: Lines of a build's output shown when it fails.
TAIL_LINES = 20
#: The folder of the run folder that holds each build's output.
LOGS = "builds"
#: The folder of the run folder where what runs beside the builds (their deps proxies)
#: keeps its files.
BESIDE = "deps"

#: Role -> the extra environment of one build, for as long as the build runs.
BuildEnvironment = Callable[[str], AbstractContextManager[Mapping[str, str]]]


@dataclass(frozen=True, slots=True)
class BuildCommand:
    """A build to launch: its role (candidate, baseline, secondary) and shell command."""

    role: str
    command: str

    def __post_init__(self) -> None:
        if not self.command.strip():
            raise ConfigError(f"--{self.role}-cmd is empty: give the command that starts it")


@dataclass(slots=True)
class Build:
    """One launched build: its port, its process (the shell, leader of its group) and log."""

    role: str
    command: str
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    #: The exit code it had when it was stopped (None: it was running).
    exited: int | None = None
    _output: IO[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, environment: Mapping[str, str]) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._output = self.log.open("wb")
        self.process = subprocess.Popen(
            self.command.replace("{port}", str(self.port)),
            shell=True,
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **environment, "PORT": str(self.port)},
            start_new_session=True,
        )

    def wait_listening(self, deadline: float, timeout: float) -> None:
        """Return once the port accepts a connection; ReplayError if the build exits
        first or the deadline passes."""
        assert self.process is not None
        while True:
            code = self.process.poll()
            if code is not None:
                raise ReplayError(
                    f"the {self.role} build exited (code {code}) before listening on port "
                    f"{self.port}: {self._told()}"
                )
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), 0.5):
                return
            if time.monotonic() >= deadline:
                raise ReplayError(
                    f"the {self.role} build did not listen on port {self.port} within "
                    f"{timeout:g} s (--build-timeout): {self._told()}"
                )
            time.sleep(0.05)

    def send(self, sig: signal.Signals) -> None:
        """``sig`` to the build's process group (noting first whether it had exited)."""
        if self.process is None:
            return
        if self.exited is None:
            self.exited = self.process.poll()
        _signal_group(self.process.pid, sig)

    def running(self) -> bool:
        return self.process is not None and _group_alive(self.process.pid, self.process)

    def close(self) -> None:
        if self.process is not None:
            self.process.poll()
        if self._output is not None:
            self._output.close()

    def tail(self) -> list[str]:
        try:
            with self.log.open("rb") as handle:
                lines = deque(handle, maxlen=TAIL_LINES)
        except OSError:
            return []
        return [line.decode("utf-8", "replace").rstrip() for line in lines]

    def _told(self) -> str:
        return (
            f"its output is in {self.log} (last lines above)"
            if self.tail()
            else f"it wrote no output ({self.log})"
        )


def _signal_group(group: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, sig)


def _group_alive(group: int, leader: subprocess.Popen[bytes]) -> bool:
    """Whether any process of the group still runs. A zombie does not count: one that
    left the group's leader is reaped by init, sometimes much later."""
    leader.poll()
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            return True
    return False


def stop(builds: Sequence[Build], grace: float = GRACE) -> None:
    """SIGTERM to each build's process group, SIGKILL to what is left after ``grace``."""
    for build in builds:
        build.send(signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(b.running() for b in builds) and time.monotonic() < deadline:
        time.sleep(0.02)
    for build in builds:
        if build.running():
            build.send(signal.SIGKILL)
    deadline = time.monotonic() + grace
    while any(b.running() for b in builds) and time.monotonic() < deadline:
        time.sleep(0.02)
    for build in builds:
        build.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def plan(commands: Sequence[BuildCommand], run_dir: Path) -> list[Build]:
    """Each command's build on its own free port, logging into ``run_dir/builds/``."""
    ports: set[int] = set()
    builds = []
    for command in commands:
        port = free_port()
        while port in ports:
            port = free_port()
        ports.add(port)
        builds.append(
            Build(command.role, command.command, port, run_dir / LOGS / f"{command.role}.log")
        )
    return builds


def show_tails(builds: Sequence[Build], stream: IO[str] | None = None) -> None:
    """The last lines of each build's output, labelled with its role, on stderr."""
    out = stream or sys.stderr
    for build in builds:
        lines = build.tail()
        if not lines:
            continue
        state = f" (it had exited, code {build.exited})" if build.exited is not None else ""
        print(f"shadowtape: the {build.role} build's last output{state}:", file=out)
        for line in lines:
            print(f"  {build.role}| {line}", file=out)
    out.flush()


@contextlib.contextmanager
def launched(
    builds: Sequence[Build],
    *,
    timeout: float = STARTUP_TIMEOUT,
    grace: float = GRACE,
    environments: Sequence[BuildEnvironment] = (),
) -> Iterator[Sequence[Build]]:
    """Start ``builds`` (see ``plan``), wait until each listens, and stop them all (and
    their children) on the way out. A build that fails to start, or any error while they
    run, shows the builds' last output on stderr."""
    if not builds:
        yield builds
        return
    if timeout <= 0:
        raise ConfigError(f"--build-timeout {timeout:g}: give a number of seconds above 0")
    with _terminate_raises(), ExitStack() as stack:
        failed = False
        try:
            extra: list[dict[str, str]] = []
            for build in builds:
                extra.append({})
                for make in environments:
                    extra[-1].update(stack.enter_context(make(build.role)))
            # Left first: the builds stop before what they need beside them.
            stack.callback(stop, builds, grace)
            for build, environment in zip(builds, extra, strict=True):
                build.start(environment)
            deadline = time.monotonic() + timeout
            for build in builds:
                build.wait_listening(deadline, timeout)
            yield builds
        except BaseException as exc:
            failed = not isinstance(exc, KeyboardInterrupt | GeneratorExit)
            raise
        finally:
            with _ignoring_signals():
                stack.close()
            started = [b for b in builds if b.process is not None]
            show_tails([b for b in started if failed or b.exited is not None])


@contextlib.contextmanager
def _terminate_raises() -> Iterator[None]:
    """While builds run, SIGTERM unwinds like Ctrl-C, so that they are stopped too (the
    default would end the replayer and leave them running)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _ignoring_signals() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait while the builds are being stopped (a few seconds at most),
    so that a second one does not leave them half stopped."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, signal.SIG_IGN)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
