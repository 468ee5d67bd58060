from __future__ import annotations

import pytest

from shadowtape import Request
from shadowtape.replay.rules.safety import SkipReason
from tests.replay.reference import skip_reason


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "get"])
def test_safe_methods_are_sent(method: str) -> None:
    assert skip_reason(Request(method=method, host="h", path="/"), allow_mutating=False) is None


@pytest.mark.parametrize("method", ["OPTION\u017f", "G\u00c9T", "G3T", ""])
def test_a_method_is_ascii_letters_or_malformed(method: str) -> None:
    # "OPTION\u017f".upper() == "OPTIONS": Unicode case mapping must not make a method safe.
    request = Request(method=method, host="h", path="/")
    assert skip_reason(request, allow_mutating=True) is SkipReason.MALFORMED


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "TRACE", "PURGE"])
def test_other_methods_need_the_flag(method: str) -> None:
    request = Request(method=method, host="h", path="/x")
    assert skip_reason(request, allow_mutating=False) is SkipReason.MUTATING
    assert skip_reason(request, allow_mutating=True) is None


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (Request(method="GET", host="h", path="http://other.test/x"), SkipReason.UNSAFE_HOST),
        (Request(method="OPTIONS", host="h", path="*"), SkipReason.UNSAFE_HOST),
        (Request(method="CONNECT", host="h", path="other:443"), SkipReason.UNSAFE_HOST),
        (Request(method="GET", host="h", path="/a b"), SkipReason.MALFORMED),
        (Request(method="GET", host="h", path="/a\r\nX: y"), SkipReason.MALFORMED),
        (
            Request(method="GET", host="h", path="/", headers=(("X", "a\r\nHost: evil"),)),
            SkipReason.MALFORMED,
        ),
        (
            Request(method="PUT", host="h", path="/", body=b"ab", body_size=9, body_truncated=True),
            SkipReason.TRUNCATED_BODY,
        ),
    ],
)
def test_unsafe_requests_are_skipped_with_their_reason(
    request_: Request, reason: SkipReason
) -> None:
    assert skip_reason(request_, allow_mutating=True) is reason


def test_a_recorded_host_with_a_line_break_is_malformed() -> None:
    """With --keep-host and no Host header the recorded host goes on the wire: a line
    break there would start a header of its own."""
    request = Request(method="GET", host="api.test\r\nX-Injected: 1", path="/")
    assert skip_reason(request, allow_mutating=False) is SkipReason.MALFORMED
    assert (
        skip_reason(Request(method="GET", host="api.test", path="/"), allow_mutating=False) is None
    )
