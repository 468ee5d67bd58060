"""The traceparent rule: which recorded flags are kept, the placeholder a request is
serialized with (per request, as probes send), and the fresh ids a client fills in."""

from __future__ import annotations

import re

import pytest

from shadowtape.replay.prepare.jobs import serialize
from shadowtape.replay.rules.targets import Target, outgoing
from shadowtape.replay.rules.tracing import fill, flags_of, placeholder

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SENT = re.compile(rb"\r\ntraceparent: 00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})\r\n")


@pytest.mark.parametrize(
    ("recorded", "flags"),
    [
        (f"00-{TRACE}-00f067aa0ba902b7-00", "00"),
        (f"00-{TRACE}-00f067aa0ba902b7-03", "03"),
        (None, "01"),
        ("", "01"),
        ("garbage", "01"),
        (f"ff-{TRACE}-00f067aa0ba902b7-00", "01"),
        (f"00-{'0' * 32}-00f067aa0ba902b7-00", "01"),
        (f"00-{TRACE}-{'0' * 16}-00", "01"),
        (f"00-{TRACE.upper()}-00f067aa0ba902b7-00", "01"),
        (f"00-{TRACE}-00f067aa0ba902b7-00\n", "01"),
    ],
)
def test_only_a_valid_recorded_traceparent_gives_its_flags(
    recorded: str | None, flags: str
) -> None:
    assert flags_of(recorded) == flags


def _wire(headers: tuple[tuple[str, str], ...], **options: object) -> bytes:
    target = Target.parse("http://127.0.0.1:9000", role="candidate")
    out = outgoing(target, method="GET", path="/a", query="", headers=headers, body=b"", **options)  # type: ignore[arg-type]
    return serialize(out.method, out.url.removeprefix(target.origin), out.headers, out.body)


def test_each_fill_is_a_fresh_trace_id_in_place_of_production_s() -> None:
    data = _wire(
        (("traceparent", f"00-{TRACE}-00f067aa0ba902b7-00"), ("Accept", "*/*")),
        traceparent=True,
    )
    assert TRACE.encode() not in data
    sent = [fill(data) for _ in range(3)]
    ids = set()
    for filled, trace in sent:
        found = SENT.search(filled)
        assert found is not None and trace == found.group(1).decode()
        assert found.group(3) == b"00"  # the recorded flags
        assert len(filled) == len(data) and filled.count(b"traceparent") == 1
        assert filled.endswith(b"\r\nAccept: */*\r\n\r\n")
        ids.add((found.group(1), found.group(2)))
    assert len(ids) == 3


def test_without_tracing_the_recorded_header_goes_as_recorded() -> None:
    recorded = f"00-{TRACE}-00f067aa0ba902b7-00"
    data = _wire((("traceparent", recorded),))
    assert fill(data) == (data, None)
    assert f"traceparent: {recorded}".encode() in data


def test_a_user_header_traceparent_wins() -> None:
    mine = ("traceparent", f"00-{TRACE}-00f067aa0ba902b7-01")
    data = _wire((), traceparent=True, extra=(mine,))
    assert fill(data) == (data, None)
    assert data.count(b"traceparent") == 1


def test_a_placeholder_is_never_a_valid_traceparent() -> None:
    assert flags_of(placeholder("01")) == "01"
    assert fill(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")[1] is None
