"""How a build handled a failing dependency, judged against the live baseline.

One request, sent to both builds while the same fault is on the same dependency of each,
and each build's answer to it without the fault (its reference). The candidate
**swallows** the error when it answers a success (2xx) where the baseline reported the
failure: a 5xx, or a 3xx/4xx that is not what the baseline answers without the fault. It
has a **new error** when it fails (5xx, reset, any transport error) where the baseline
degraded gracefully (answered 2xx or 4xx); and it **hangs** when it gives no answer within
the probe's timeout while the baseline answered at all. Anything else (both failing,
both answering, the candidate answering better) is no gap.
"""

from __future__ import annotations

from enum import StrEnum

from shadowtape.exchange import ErrorKind
from shadowtape.replay.http.client import Reply


class Gap(StrEnum):
    SWALLOWED = "swallowed_error"
    NEW_ERROR = "new_error"
    HANG = "hang"

    @property
    def kind(self) -> str:
        """The finding kind it is reported as (a hang is a ``new_error``)."""
        return Gap.NEW_ERROR.value if self is Gap.HANG else self.value


def failed(reply: Reply) -> bool:
    """No answer, or a 5xx."""
    return reply.error_kind is not None or (reply.status or 0) >= 500


def hung(reply: Reply) -> bool:
    return reply.error_kind is ErrorKind.TIMEOUT


def gap(baseline: Reply, candidate: Reply, baseline_plain: Reply) -> Gap | None:
    """How the candidate's answer under the fault falls short of the baseline's, if it
    does; ``baseline_plain`` is the baseline's answer to the request without the fault."""
    if baseline.status is None:
        return None  # the baseline gave no answer either: nothing to hold the candidate to
    if hung(candidate):
        return Gap.HANG
    status, plain = baseline.status, baseline_plain.status
    reported = status >= 500 or (300 <= status < 500 and status != plain)
    if reported and candidate.status is not None and 200 <= candidate.status < 300:
        return Gap.SWALLOWED
    graceful = 200 <= status < 300 or 400 <= status < 500
    if graceful and failed(candidate):
        return Gap.NEW_ERROR
    return None


def answer(reply: Reply, timeout: float) -> str:
    """``503``, ``reset``, ``no answer within 5 s``: an answer in a message."""
    if hung(reply):
        return f"no answer within {timeout:g} s"
    if reply.error_kind is not None:
        return reply.error_kind.value
    return str(reply.status)
