"""One sanitize call costs time linear in its input, whatever an attacker puts in it.

Every hostile opening of adversarial.py (a pattern's start repeated, padding runs,
unterminated blocks, nested encodings) is sent in every carrier the sanitizer reads
(JSON, form, text, HTML, multipart, CSV, a header, a URL header, the query, the path),
and mixtures of them, up to the recorder's body cap, are drawn by hypothesis. A call
fails when its time per MiB is over ``RELATIVE`` times a plain ``bytes.find`` scan of
the same bytes timed here (so the bound follows a slow host) or over ``CEILING_MS``, or
when four times the input takes more than ``GROWTH`` times as long (and over
``QUICK_MS``). The target, 50 ms per MiB, is what benchmarks/bench_sanitize.py reports;
these bounds leave room for a shared, loaded host and catch what matters here: a
superlinear path costs minutes at these sizes (``a%40`` repeated to 25 KB took 27 s).
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
#: Every opening in every carrier at this size (and at a quarter of it, for growth).
SIZE = BODY_CAP // 4
#: Target: 50 ms per MiB (benchmarks/bench_sanitize.py: the worst case on a quiet host).
#: A test fails past eight times that, which a loaded host stays within; a superlinear
#: path or a Python loop per byte does not ...
CEILING_MS = 400.0
#: ... and at most this many times a bytes.find scan of the same bytes.
RELATIVE = 6000.0
#: Linear: four times the input, four times the time (quadratic: sixteen). Caches and
#: a busy host add noise, hence the margin.
GROWTH = 10.0
#: A larger call within this is too quick for its growth to say anything.
QUICK_MS = 100.0
#: A call over a bound is timed again (a busy host); the best try counts.
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


def _sanitize_ms(case: Case, bound_ms: float) -> float:
    best = float("inf")
    for _ in range(TRIES):
        started = time.perf_counter()
        SANITIZER.sanitize(case.exchange)
        best = min(best, (time.perf_counter() - started) * 1e3)
        if best <= bound_ms:
            break
    return best


def _over_bound(case: Case) -> str | None:
    return _timed(case)[1]


def _timed(case: Case) -> tuple[float, str | None]:
    """The call's best time in ms, and why it is over its bound (None: it is not)."""
    bound = _bound_ms_per_mib(case)
    spent = _sanitize_ms(case, bound * case.size / MIB)
    if spent * MIB / case.size <= bound:
        return spent, None
    return spent, f"{case.name}: {spent * MIB / case.size:.0f} ms/MiB, bound {bound:.0f} ms/MiB"


def _grows_too_fast(opening: str, carrier: str, large: float) -> str | None:
    """Four times the input in ``large`` ms: too slow for the time a quarter takes?"""
    if large <= QUICK_MS:  # too quick for its growth to say anything
        return None
    build, make = CARRIERS[carrier], OPENINGS[opening]
    small = _sanitize_ms(Case(opening, carrier, build(make(SIZE // 4))), 0.0)
    if large <= GROWTH * small:
        return None
    return f"{opening} / {carrier}: {small:.1f} ms, four times the input {large:.1f} ms"


@pytest.mark.parametrize("opening", list(OPENINGS))
def test_each_opening_in_every_carrier_is_fast_and_linear(opening: str) -> None:
    """Within the bound per MiB, and four times the input at most GROWTH times as long
    (each call at SIZE is timed once for both)."""
    payload = OPENINGS[opening](SIZE)
    slow = []
    for carrier, build in CARRIERS.items():
        spent, over = _timed(Case(opening, carrier, build(payload)))
        reason = over or _grows_too_fast(opening, carrier, spent)
        if reason is not None:
            slow.append(reason)
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
