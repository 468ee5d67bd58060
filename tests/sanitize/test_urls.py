"""URL parts: query and form pairs by name, encoded secrets, path segments, URL headers."""

from __future__ import annotations

from urllib.parse import quote

from shadowtape.sanitize.context import Context
from shadowtape.sanitize.pseudonym import Pseudonymizer
from shadowtape.sanitize.rules import Policy
from shadowtape.sanitize.urls import params, path, url

PSEUDO = Pseudonymizer(b"k")


def ctx() -> Context:
    return Context(Policy.build(), PSEUDO)


def where(name: str) -> str:
    return f"request.query.{name}"


def test_untouched_pairs_keep_their_bytes() -> None:
    query = "b=2&a=%7E1&a=x+y&flag&empty="
    assert params(query, ctx(), where) is query


def test_secret_names_and_encoded_values() -> None:
    c = ctx()
    out = params("page=2&access_token=ab%2Bcd1234&Api-Key=k1k2k3k4", c, where)
    assert out == (
        f"page=2&access_token={quote(PSEUDO('ab+cd1234'), safe='')}&Api-Key={PSEUDO('k1k2k3k4')}"
    )
    assert list(c.redactions) == ["request.query.access_token", "request.query.Api-Key"]


def test_detectors_see_decoded_values() -> None:
    c = ctx()
    out = params("to=ann%40example.com&n=1", c, where)
    assert "ann%40example.com" not in out and "ann@example.com" not in out
    assert out == f"to={PSEUDO('ann@example.com').replace('@', '%40')}&n=1"  # stays encoded
    assert list(c.redactions) == ["request.query.to"]


def test_path_segments_and_matrix_params() -> None:
    c = ctx()
    out = path("/users/ann%40example.com/orders;jsessionid=ABCDEF123", c, "request.path")
    assert "ann" not in out and "ABCDEF123" not in out
    assert out.startswith("/users/") and ";jsessionid=" in out
    assert path("/api/v1/items", c, "request.path") == "/api/v1/items"


def test_urls_in_headers_userinfo_query_and_fragment() -> None:
    c = ctx()
    out = url(
        "https://ann:pa55word@app.test/cb?code=1&state=x#access_token=tok123456&t=1",
        c,
        "response.header.location",
    )
    assert "pa55word" not in out and "tok123456" not in out
    # The whole userinfo and the OAuth code and state are credentials too (issue 18).
    assert out.startswith(f"https://{PSEUDO('ann')}:")
    assert f"@app.test/cb?code={PSEUDO('1')}&state={PSEUDO('x')}#access_token=" in out
