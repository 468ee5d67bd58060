"""A target that answers nothing stops the run early, in one line naming it.

A candidate that is not running refuses every request; judged, every endpoint would read
as a new error and the gate would fail a pull request for the wrong reason. So the first
``abort_after`` requests each target is sent are watched: when none of them got an
answer (refused, reset, timed out, TLS, not HTTP), the run stops with a
``TargetDownError`` (exit 2 on the command line). A run shorter than that whose target
answered none of its requests ends with the same error. One answer, whatever its
status, ends the watch for that target: from then on failures are findings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping

from shadowtape.errors import TargetDownError
from shadowtape.replay.http.client import Reply

#: What each error kind says happened to a request.
_WHAT = {
    "refused": "connection refused",
    "reset": "connection reset",
    "timeout": "timed out",
    "tls": "TLS handshake failed",
    "protocol": "answered with something that is not HTTP",
}


class TargetWatch:
    """Counts each target's first answers; calls ``stop`` once if one answered none."""

    __slots__ = ("_answered", "_kinds", "_last", "_origins", "_seen", "_stop", "limit", "watching")

    def __init__(
        self,
        origins: Mapping[str, str],
        limit: int,
        stop: Callable[[TargetDownError], None],
    ) -> None:
        #: role -> origin of every target sent requests ("repeat" is the candidate again).
        self._origins = dict(origins)
        self.limit = limit
        self._stop = stop
        self._seen: Counter[str] = Counter()
        self._answered: set[str] = set()
        self._kinds: dict[str, Counter[str]] = {role: Counter() for role in self._origins}
        self._last: dict[str, str] = {}
        #: False once every target answered or reached the limit: the engine stops asking.
        self.watching = limit > 0 and bool(self._origins)

    def observe(self, replies: Mapping[str, Reply]) -> None:
        """One request's replies, by role."""
        for role, reply in replies.items():
            if role not in self._origins or role in self._answered:
                continue
            if self._seen[role] >= self.limit:
                continue
            self._seen[role] += 1
            if reply.error_kind is None:
                self._answered.add(role)
            else:
                self._kinds[role][str(reply.error_kind)] += 1
                self._last[role] = str(reply.error_message or "")
                if self._seen[role] == self.limit:
                    self.watching = False
                    self._stop(self._error(role, first=True))
                    return
        if all(r in self._answered or self._seen[r] >= self.limit for r in self._origins):
            self.watching = False

    def at_end(self) -> TargetDownError | None:
        """After a whole run shorter than the limit: a target that answered none of the
        requests it was sent."""
        if self.limit <= 0:
            return None
        for role in self._origins:
            if role not in self._answered and 0 < self._seen[role] < self.limit:
                return self._error(role, first=False)
        return None

    def _error(self, role: str, *, first: bool) -> TargetDownError:
        kinds = self._kinds[role]
        if len(kinds) == 1:
            (kind,) = kinds
            what = _WHAT.get(kind) or f"no answer ({self._last.get(role) or kind})"
        else:
            what = "no answer (" + ", ".join(f"{n} {k}" for k, n in kinds.most_common()) + ")"
        count = self._seen[role]
        which = f"all of its first {count} requests" if first else f"all of its {count} requests"
        if count == 1:
            which = "its only request"
        return TargetDownError(
            f"{role} {self._origins[role]}: {what} on {which}; is it running?",
            role=role,
            origin=self._origins[role],
        )
