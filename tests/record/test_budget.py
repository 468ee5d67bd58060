"""The worker's budget: a timer stops a body step that runs past its deadline."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import pytest

from shadowtape import Exchange, Request, Response
from shadowtape.record.budget import TimerDeadline, arm
from shadowtape.sanitize import Sanitizer
from shadowtape.sanitize.context import Context
from shadowtape.sanitize.sanitizer import STEPS, Draft, Step


@pytest.fixture
def timer() -> Iterator[None]:
    """SIGALRM for the test, then pytest-timeout's handler and timer back."""
    handler = signal.getsignal(signal.SIGALRM)
    left, interval = signal.getitimer(signal.ITIMER_REAL)
    assert arm()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, handler)
        if left:
            signal.setitimer(signal.ITIMER_REAL, left, interval)


def _forever(d: Draft, ctx: Context) -> None:
    while True:
        pass


def _exchange() -> Exchange:
    body = b"password=hunter2hunter2&" * 1000
    return Exchange(
        request=Request(
            "POST",
            "api.test",
            headers=(("Content-Type", "application/x-www-form-urlencoded"),),
            body=body,
            body_size=len(body),
        ),
        response=Response(200, headers=(("Content-Type", "text/plain"),), body=b"ok"),
    )


def test_a_body_step_past_its_deadline_is_stopped_and_its_body_dropped(timer: None) -> None:
    sanitizer = Sanitizer(key=b"k")
    sanitizer.steps = tuple(
        Step(s.name, _forever, s.fields, body="request") if s.body == "request" else s
        for s in STEPS
    )
    started = time.monotonic()
    out = sanitizer.sanitize(_exchange(), deadline=TimerDeadline.after(0.05))
    assert time.monotonic() - started < 2.0
    assert out.request.body == b"" and out.request.body_truncated
    assert "request.body: dropped (sanitize budget)" in out.redactions
    # The response body's step found its deadline passed: dropped without running.
    assert out.response is not None and out.response.body == b""
    assert "response.body: dropped (sanitize budget)" in out.redactions


def test_a_step_that_finishes_in_time_is_not_disturbed_later(timer: None) -> None:
    out = Sanitizer(key=b"k").sanitize(_exchange(), deadline=TimerDeadline.after(30))
    assert b"hunter2" not in out.request.body and out.request.body
    time.sleep(0.05)  # no timer left armed to go off here
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
