"""One sanitize call costs time linear in its input, whatever an attacker puts in it.

Every hostile opening of adversarial.py (a pattern's start repeated, padding runs,
unterminated blocks, nested encodings) is sent in every carrier the sanitizer reads
(JSON, form, text, HTML, multipart, CSV, a header, a URL header, the query, the path),
at the recorder's body cap, and mixtures of them are drawn by hypothesis. A call fails
the test when its time per MiB is over ``RELATIVE`` times a plain ``bytes.find`` scan
of the same bytes, timed here on the same host (so the bound follows a slow CI machine),
or over the absolute ``CEILING_MS`` per MiB. The target is 50 ms per MiB
(benchmarks/bench_sanitize.py reports it); the bound leaves room for a loaded host, and
a quadratic path costs seconds per MiB at this size, far beyond it.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shadowtape.sanitize import Sanitizer
from tests.sanitize.adversarial import BODY_CAP, CARRIERS, OPENINGS, Case

pytestmark = pytest.mark.timing

SANITIZER = Sanitizer(key=b"linear-time-test-key")
MIB = 1024 * 1024
#: Target: 50 ms per MiB. Allowed: ten times that ...
CEILING_MS = 500.0
#: ... and at most this many times a bytes.find scan of the same bytes.
RELATIVE = 1000.0
#: A call over the bound is timed again (a busy host); the best try counts.
TRIES = 3


def _find_ms_per_mib(data: bytes) -> float:
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        data.find(b"\x00\xff\x00")
        best = min(best, time.perf_counter() - started)
    return best * 1e3 * MIB / max(1, len(data))


def _bound_ms_per_mib(case: Case) -> float:
    return min(CEILING_MS, RELATIVE * _find_ms_per_mib(case.scannable()))


def _sanitize_ms_per_mib(case: Case, bound: float) -> float:
    best = float("inf")
    for _ in range(TRIES):
        started = time.perf_counter()
        SANITIZER.sanitize(case.exchange)
        best = min(best, (time.perf_counter() - started) * 1e3 * MIB / case.size)
        if best <= bound:
            break
    return best


def _over_bound(case: Case) -> str | None:
    bound = _bound_ms_per_mib(case)
    spent = _sanitize_ms_per_mib(case, bound)
    if spent <= bound:
        return None
    return f"{case.name}: {spent:.0f} ms/MiB, bound {bound:.0f} ms/MiB"


@pytest.mark.parametrize("opening", list(OPENINGS))
def test_each_opening_in_every_carrier_at_the_body_cap(opening: str) -> None:
    payload = OPENINGS[opening](BODY_CAP)
    slow = [
        reason
        for carrier, build in CARRIERS.items()
        if (reason := _over_bound(Case(opening, carrier, build(payload)))) is not None
    ]
    assert not slow, "\n".join(slow)


@st.composite
def mixtures(draw: st.DrawFn) -> Case:
    """Several openings, cut into chunks and interleaved, in one carrier."""
    names = draw(st.lists(st.sampled_from(list(OPENINGS)), min_size=2, max_size=4))
    chunk = draw(st.sampled_from([1, 7, 64, 4096, 65536]))
    size = draw(st.integers(min_value=BODY_CAP // 4, max_value=BODY_CAP))
    per_opening = size // len(names)
    parts = [OPENINGS[name](per_opening) for name in names]
    pieces = [part[i : i + chunk] for i in range(0, per_opening, chunk) for part in parts]
    carrier = draw(st.sampled_from(list(CARRIERS)))
    return Case(" + ".join(names), carrier, CARRIERS[carrier]("".join(pieces)))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixtures())
def test_mixed_openings_stay_within_the_bound(case: Case) -> None:
    reason = _over_bound(case)
    assert reason is None, reason
