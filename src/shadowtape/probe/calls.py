"""The outbound calls a probe request caused on a launched build, by its trace id.

A build launched with a deps proxy (run.json ``deps``) logs every outbound call; each
probe request carries a fresh ``traceparent`` (the reply's ``trace_id``), so a service
that propagates trace context names the probe request its calls belong to. The log is
read again on each ask: it grows while the probes run. Without a log, or without trace
context, there is nothing to count (None).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from shadowtape.deps.calls import read
from shadowtape.diff.attribution import by_trace_id
from shadowtape.diff.sidefx import effects
from shadowtape.replay.http.client import Reply
from shadowtape.results.deps import deps_proxies


class BuildCalls:
    """The calls logs of a run folder's launched builds, per role."""

    def __init__(self, run_dir: Path) -> None:
        self.logs = {role: proxy.calls for role, proxy in deps_proxies(run_dir).items()}

    def effects(self, role: str, replies: Iterable[Reply]) -> Counter[str] | None:
        """The calls that change something the dependency took, for these requests on
        `role` (``diff.sidefx.effects``); None without a calls log or a trace id."""
        path = self.logs.get(role)
        ids = [reply.trace_id for reply in replies]
        if path is None or None in ids:
            return None
        try:
            traced = by_trace_id(read(str(path)))
        except (OSError, UnicodeDecodeError):
            return None
        return effects(call for tid in ids if tid is not None for call in traced.get(tid, ()))
