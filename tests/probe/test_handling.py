"""How a build handled a failing dependency, judged pair by pair: the baseline's answer
under the fault against the candidate's, and the baseline's without it."""

from __future__ import annotations

import pytest

from shadowtape.exchange import ErrorKind
from shadowtape.probe.handling import Gap, answer, gap
from shadowtape.replay.http.client import Reply


def status(code: int) -> Reply:
    return Reply(0, 0, code, "", (), b"{}", 2)


def error(kind: ErrorKind) -> Reply:
    return Reply(0, 0, error_kind=kind, error_message="boom")


OK, RESET, TIMEOUT = status(200), error(ErrorKind.RESET), error(ErrorKind.TIMEOUT)


@pytest.mark.parametrize(
    ("baseline", "candidate", "plain", "expected"),
    [
        # The baseline reports the failure; the candidate answers a success.
        (status(503), OK, OK, Gap.SWALLOWED),
        (status(502), status(201), OK, Gap.SWALLOWED),
        (status(424), OK, OK, Gap.SWALLOWED),  # a 4xx it does not answer without the fault
        (status(307), OK, OK, Gap.SWALLOWED),
        # The baseline degrades gracefully; the candidate fails.
        (OK, status(500), OK, Gap.NEW_ERROR),
        (status(404), RESET, OK, Gap.NEW_ERROR),
        (OK, TIMEOUT, OK, Gap.HANG),
        (status(503), TIMEOUT, OK, Gap.HANG),  # hanging is worse than reporting
        # No gap: alike, both failing, or the candidate doing better.
        (status(503), status(503), OK, None),
        (status(503), status(500), OK, None),
        (status(503), RESET, OK, None),
        (OK, OK, OK, None),
        (status(404), OK, status(404), None),  # the 404 it answers anyway
        (status(500), status(404), OK, None),
        (RESET, OK, OK, None),  # a baseline without an answer holds nothing to compare
        (TIMEOUT, TIMEOUT, OK, None),
    ],
)
def test_gap(baseline: Reply, candidate: Reply, plain: Reply, expected: Gap | None) -> None:
    assert gap(baseline, candidate, plain) is expected


def test_a_hang_is_reported_as_a_new_error() -> None:
    assert Gap.HANG.kind == "new_error"
    assert Gap.SWALLOWED.kind == "swallowed_error"


def test_answers_as_a_message_gives_them() -> None:
    assert answer(status(503), 3) == "503"
    assert answer(RESET, 3) == "reset"
    assert answer(TIMEOUT, 2.5) == "no answer within 2.5 s"
