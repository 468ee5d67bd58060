"""Headers: names case-insensitive, volatile ones ignored by default, configurable."""

from __future__ import annotations

from shadowtape.diff.headers import DEFAULT_POLICY, diff_headers
from shadowtape.diff.model import Kind


def test_names_are_case_insensitive_and_volatile_headers_ignored() -> None:
    a = [
        ("Content-Type", "application/json"),
        ("Date", "Mon, 01 Jan 2024 00:00:00 GMT"),
        ("Server", "a/1"),
        ("X-Request-Id", "1"),
        ("X-Amzn-Trace-Id", "t1"),
        ("Content-Length", "10"),
    ]
    b = [
        ("content-type", "application/json"),
        ("date", "Tue, 02 Jan 2024 00:00:00 GMT"),
        ("server", "b/2"),
        ("x-request-id", "2"),
        ("x-amzn-trace-id", "t2"),
        ("content-length", "11"),
    ]
    assert diff_headers(a, b) == []


def test_changed_missing_and_new_headers() -> None:
    a = [("Cache-Control", "max-age=60"), ("X-Old", "1")]
    b = [("Cache-Control", "no-store"), ("X-New", "2")]
    found = {(d.kind, d.location, d.baseline, d.candidate) for d in diff_headers(a, b)}
    assert found == {
        (Kind.HEADER, "header:cache-control", "max-age=60", "no-store"),
        (Kind.HEADER_MISSING, "header:x-old", "1", None),
        (Kind.HEADER_EXTRA, "header:x-new", None, "2"),
    }


def test_cookie_expiry_is_ignored_but_attributes_and_values_are_compared() -> None:
    a = [("Set-Cookie", "sid=abc; Path=/; Expires=Mon, 01 Jan 2024 00:00:00 GMT; Max-Age=60")]
    b = [("Set-Cookie", "sid=abc; Path=/; Expires=Tue, 02 Jan 2024 00:00:00 GMT; Max-Age=30")]
    assert diff_headers(a, b) == []
    c = [("Set-Cookie", "sid=xyz; Path=/; Secure")]
    locations = sorted(d.location for d in diff_headers(a, c))
    assert locations == ["header:set-cookie:sid", "header:set-cookie:sid:attributes"]


def test_the_ignore_list_is_configurable() -> None:
    a, b = [("Server", "a"), ("X-Build", "1")], [("Server", "b"), ("X-Build", "2")]
    policy = DEFAULT_POLICY.with_changes(ignore=["X-Build"], compare=["Server"])
    assert [d.location for d in diff_headers(a, b, policy)] == ["header:server"]


def test_transport_headers_are_not_header_differences_by_default() -> None:
    # A live baseline that gzips and a candidate that does not: the bodies are compared
    # decoded, so how they crossed the wire is no regression.
    a = [
        ("Content-Type", "application/json"),
        ("Content-Encoding", "gzip"),
        ("Transfer-Encoding", "chunked"),
    ]
    b = [("Content-Type", "application/json"), ("Content-Length", "1200")]
    assert diff_headers(a, b) == []
    policy = DEFAULT_POLICY.with_changes(compare=["Content-Encoding"])
    assert [d.location for d in diff_headers(a, b, policy)] == ["header:content-encoding"]
