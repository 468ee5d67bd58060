from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowtape import Request
from shadowtape.errors import ConfigError
from shadowtape.replay.http.client import _split
from shadowtape.replay.rules.targets import Target, expand_env, outgoing, parse_header
from tests.replay.reference import build, skip_reason


def test_target_parse_keeps_scheme_host_port_and_prefix() -> None:
    t = Target.parse("https://staging.test:8443/v2/")
    assert (t.scheme, t.host, t.port, t.prefix) == ("https", "staging.test", 8443, "/v2")
    assert Target.parse("http://127.0.0.1").netloc == "127.0.0.1"


@pytest.mark.parametrize(
    "url", ["127.0.0.1:8080", "ftp://x", "http://", "http://u:p@h", "http://h/?q=1", "http://h:x"]
)
def test_target_parse_refuses_what_is_not_a_base_url(url: str) -> None:
    with pytest.raises(ConfigError):
        Target.parse(url, role="candidate")


def test_build_rewrites_host_drops_hop_headers_and_applies_user_headers_only() -> None:
    request = Request(
        method="GET",
        host="api.prod.test",
        path="/a",
        query="x=1",
        headers=(
            ("Host", "api.prod.test"),
            ("Connection", "keep-alive"),
            ("Authorization", "Bearer REDACTED"),
            ("Accept-Encoding", "gzip, br, zstd"),
            ("X-Keep", "1"),
        ),
    )
    out = build(
        request,
        Target.parse("http://127.0.0.1:9000"),
        extra=(("Authorization", "Bearer staging"),),
    )
    assert out.url == "http://127.0.0.1:9000/a?x=1"
    assert out.headers == (
        ("Host", "127.0.0.1:9000"),
        ("Accept-Encoding", "gzip, br, zstd"),
        ("X-Keep", "1"),
        ("Authorization", "Bearer staging"),
    )


def test_header_names_match_ignoring_ascii_case_only() -> None:
    # "\u212a" (Kelvin) lowercases to "k" in Python, but no server reads it as a "K".
    request = Request(
        method="GET",
        host="h",
        path="/",
        headers=(("CONNECTION", "close"), ("\u212aeep-Alive", "1"), ("HOST", "a.b")),
    )
    out = build(request, Target.parse("http://t"), keep_host=True, extra=(("x-A", "2"),))
    assert out.headers == (("Host", "a.b"), ("\u212aeep-Alive", "1"), ("x-A", "2"))


def test_keep_host_sends_the_recorded_host_to_the_target_address() -> None:
    request = Request(method="GET", host="api.prod.test", path="/", headers=(("host", "a.b"),))
    out = build(request, Target.parse("http://127.0.0.1:9000"), keep_host=True)
    assert out.url.startswith("http://127.0.0.1:9000/")
    assert out.headers[0] == ("Host", "a.b")


def test_header_values_expand_from_the_environment() -> None:
    env = {"TOKEN": "s3cret"}
    assert parse_header("Authorization: Bearer $TOKEN", env) == ("Authorization", "Bearer s3cret")
    assert parse_header("X-Price: $$5", env) == ("X-Price", "$5")
    with pytest.raises(ConfigError, match=r"--header 'X: \$MISSING' uses \$MISSING"):
        parse_header("X: $MISSING", env)  # the whole header: which one, among several
    with pytest.raises(ConfigError):
        parse_header("no colon here", env)
    assert expand_env("${TOKEN}-x", env) == "s3cret-x"


@given(
    path=st.text(min_size=0, max_size=40),
    query=st.text(max_size=20),
    host_header=st.text(max_size=30),
)
def test_no_recorded_value_moves_a_request_off_its_target(
    path: str, query: str, host_header: str
) -> None:
    """Whatever the tape holds, a request that is sent goes to the target's host:port."""
    request = Request(
        method="GET", host="evil.test", path=path, query=query, headers=(("Host", host_header),)
    )
    if skip_reason(request, allow_mutating=False) is not None:
        return
    out = build(request, Target.parse("http://127.0.0.1:9000"))
    # Where the client connects, and where a standard parser says the URL points.
    assert _split(out.url)[0] == ("http", "127.0.0.1", 9000)
    parts = urlsplit(out.url)
    assert (parts.hostname, parts.port) == ("127.0.0.1", 9000)


@given(
    path=st.text(min_size=0, max_size=40),
    query=st.text(max_size=20),
    host_header=st.text(max_size=30),
    keep_host=st.booleans(),
)
def test_outgoing_builds_what_the_replay_builds(
    path: str, query: str, host_header: str, keep_host: bool
) -> None:
    """The per-request builder the probes use makes the replay's request, and never one
    off the target."""
    headers = (("Host", host_header), ("Connection", "close"), ("X-A", "1"))
    request = Request(method="GET", host="evil.test", path=path, query=query, headers=headers)
    if skip_reason(request, allow_mutating=False) is not None:
        return
    target = Target.parse("http://127.0.0.1:9000/pre")
    extra = (("x-a", "2"),)
    out = outgoing(
        target,
        method="GET",
        path=path,
        query=query,
        headers=headers,
        body=b"",
        recorded_host="evil.test",
        keep_host=keep_host,
        extra=extra,
    )
    assert out == build(request, target, keep_host=keep_host, extra=extra)
    assert _split(out.url)[0] == ("http", "127.0.0.1", 9000)


def test_outgoing_refuses_a_path_that_names_a_host() -> None:
    with pytest.raises(ValueError, match="origin-form"):
        outgoing(
            Target.parse("http://127.0.0.1:9000"),
            method="GET",
            path="http://evil.test/",
            query="",
            headers=(),
            body=b"",
        )
