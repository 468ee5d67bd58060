"""The watch that stops a run whose target answers nothing: counting, and its one line."""

from __future__ import annotations

from shadowtape.errors import TargetDownError
from shadowtape.exchange import ErrorKind
from shadowtape.replay.http.client import Reply
from shadowtape.replay.watch import TargetWatch

ORIGINS = {"candidate": "http://127.0.0.1:1", "baseline": "http://127.0.0.1:2"}


def _ok() -> Reply:
    return Reply(0.0, 0.0, status=500)


def _failed(kind: ErrorKind = ErrorKind.REFUSED, message: str = "refused") -> Reply:
    return Reply(0.0, 0.0, error_kind=kind, error_message=message)


def _watch(limit: int = 3) -> tuple[TargetWatch, list[TargetDownError]]:
    stops: list[TargetDownError] = []
    return TargetWatch(ORIGINS, limit, stops.append), stops


def test_a_target_that_fails_its_first_n_requests_stops_the_run_once() -> None:
    watch, stops = _watch()
    for _ in range(3):
        watch.observe({"candidate": _failed(), "baseline": _ok()})
    (error,) = stops
    assert str(error) == (
        "candidate http://127.0.0.1:1: connection refused on all of its first 3 requests; "
        "is it running?"
    )
    assert watch.watching is False
    watch.observe({"candidate": _failed()})
    assert len(stops) == 1


def test_one_answer_whatever_its_status_ends_the_watch_for_that_target() -> None:
    watch, stops = _watch()
    watch.observe({"candidate": _ok(), "baseline": _ok()})
    assert watch.watching is False
    for _ in range(5):
        watch.observe({"candidate": _failed(), "baseline": _failed()})
    assert stops == [] and watch.at_end() is None


def test_the_repeat_is_not_a_target_of_its_own() -> None:
    watch, stops = _watch(limit=2)
    for _ in range(2):
        watch.observe({"candidate": _ok(), "repeat": _failed(), "baseline": _ok()})
    assert stops == []


def test_mixed_failures_are_counted_by_kind() -> None:
    watch, stops = _watch()
    watch.observe({"baseline": _failed(ErrorKind.TIMEOUT), "candidate": _ok()})
    watch.observe({"baseline": _failed(ErrorKind.RESET), "candidate": _ok()})
    watch.observe({"baseline": _failed(ErrorKind.TIMEOUT), "candidate": _ok()})
    (error,) = stops
    assert str(error).startswith(
        "baseline http://127.0.0.1:2: no answer (2 timeout, 1 reset) on all of its first 3"
    )


def test_a_run_shorter_than_the_limit_ends_with_the_same_error() -> None:
    watch, stops = _watch(limit=20)
    for _ in range(4):
        watch.observe({"candidate": _failed(ErrorKind.OTHER, "Name or service not known")})
    assert stops == []
    error = watch.at_end()
    assert error is not None and str(error) == (
        "candidate http://127.0.0.1:1: no answer (Name or service not known) on all of its "
        "4 requests; is it running?"
    )


def test_zero_never_stops() -> None:
    watch, stops = _watch(limit=0)
    assert watch.watching is False
    assert watch.at_end() is None and stops == []
