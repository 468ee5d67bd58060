"""A build's deps proxy as the probes work it: a fault switch and its calls log.

A build with its own ``shadowtape deps`` proxy (launched with ``--candidate-cmd`` ...)
has two files the probes go through, never the proxy itself: the faults file the
running proxy re-reads (``deps.control``: ``write_faults``/``clear_faults``; the rules
apply from its next call on) and the calls log it appends one JSON line to per call
(``deps.calls``, fields in docs/deps.md). ``DepsLink`` sets and clears rules, and reads
the calls logged since it last looked (the faults probe). ``caused`` picks the calls one
request made: those carrying its trace id when the service propagates ``traceparent``,
else every new call (the faults probe sends one request at a time to a build while it
looks). A dependency is a host *and* a port: two services on one loopback address are
two dependencies. ``outbound`` counts the calls that change something some requests
caused, by their trace ids, over the whole log (the duplicates probe); without a log or
trace context there is nothing to count (None).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import orjson

from shadowtape.deps.calls import read
from shadowtape.deps.control import write_faults
from shadowtape.diff.attribution import by_trace_id, trace_id
from shadowtape.diff.sidefx import effects
from shadowtape.errors import ReplayError
from shadowtape.replay.http.client import Reply
from shadowtape.results.deps import deps_proxies


class DepsFiles(Protocol):
    """Where a build's deps proxy takes fault rules from and logs its calls."""

    @property
    def calls(self) -> Path: ...

    @property
    def faults(self) -> Path: ...


@dataclass(frozen=True, slots=True)
class DepsPaths:
    """``DepsFiles`` given by hand (a proxy started with ``--calls`` and ``--faults-file``)."""

    calls: Path
    faults: Path


@dataclass(frozen=True, slots=True, order=True)
class Dependency:
    """One dependency, as the calls log names it: host and port."""

    host: str
    port: int

    @property
    def label(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def rule(self, fault: str) -> str:
        """A ``--fault`` rule for this dependency only (``fault``: ``status=503``, ...)."""
        return f"host={self.label},{fault}"


class DepsLink:
    """One build's deps proxy: its fault switch and the calls it logged since last read."""

    def __init__(self, role: str, files: DepsFiles) -> None:
        self.role = role
        self.calls_path = Path(files.calls)
        self.faults_path = Path(files.faults)
        self._offset = self._size()

    def set(self, rules: Sequence[str]) -> None:
        self._write(rules)

    def clear(self) -> None:
        self._write(())

    def _write(self, rules: Sequence[str]) -> None:
        try:
            write_faults(self.faults_path, rules)
        except OSError as exc:
            raise ReplayError(
                f"cannot write the {self.role}'s deps proxy faults file {self.faults_path}: "
                f"{exc.strerror or exc}"
            ) from None

    def skip(self) -> None:
        """Forget the calls logged so far."""
        self._offset = self._size()

    def since(self) -> list[dict[str, object]]:
        """The calls logged since the last look (whole lines only; a line being written
        is read next time)."""
        try:
            with self.calls_path.open("rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n") + 1
        self._offset += end
        out = []
        for line in data[:end].splitlines():
            try:
                call = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(call, dict):
                out.append(call)
        return out

    def effects(self, replies: Iterable[Reply]) -> Counter[str] | None:
        """The calls that change something the dependency took, for these requests
        (``diff.sidefx.effects``); None when one has no trace id or the log cannot be read.
        The whole log is read again on each ask: it grows while the probes run."""
        ids = [reply.trace_id for reply in replies]
        if None in ids:
            return None
        try:
            traced = by_trace_id(read(str(self.calls_path)))
        except (OSError, UnicodeDecodeError):
            return None
        return effects(call for tid in ids if tid is not None for call in traced.get(tid, ()))

    def _size(self) -> int:
        try:
            return os.path.getsize(self.calls_path)
        except OSError:
            return 0


def launched(run_dir: Path) -> dict[str, DepsLink]:
    """Role -> a link to its deps proxy, for the builds the run launched (run.json ``deps``)."""
    return {role: DepsLink(role, proxy) for role, proxy in deps_proxies(run_dir).items()}


def outbound(
    links: Mapping[str, DepsLink], role: str, replies: Iterable[Reply]
) -> Counter[str] | None:
    """``DepsLink.effects`` of ``role``'s link; None when ``role`` has none."""
    link = links.get(role)
    return None if link is None else link.effects(replies)


def caused(calls: Iterable[dict[str, object]], trace: str | None) -> list[dict[str, object]]:
    """The calls one request made: those with its trace id if any carry it, else all of
    them (the request was the only one in flight on that build)."""
    calls = list(calls)
    mine = [c for c in calls if trace and trace_id(c.get("traceparent")) == trace]
    return mine or calls


def dependency(call: dict[str, object]) -> Dependency | None:
    host, port = call.get("host"), call.get("port")
    if not isinstance(host, str) or not host or not isinstance(port, int):
        return None
    return Dependency(host.lower(), port)


def shown(call: dict[str, object]) -> str:
    """``GET /stock/1``: what a call asked, for a message."""
    return f"{call.get('method') or '?'} {call.get('path') or '/'}"
