"""No secret reaches disk: secrets planted in every position, through a real mitmdump.

The second test plants issue 18's places: a Bearer token echoed in WWW-Authenticate, a
reset token in a Location and a Link, a key in the upstream's reason phrase, an e-mail
address as a JSON key, the 18th of 18 cookies echoed in another header.

Each example runs one proxy for many generated requests (starting mitmdump per request
would take minutes): secrets go into headers, cookies, query strings, JSON at any depth,
form and multipart fields and gzip-compressed bodies, on the request side and on the
response side. Tapes are written uncompressed, so a secret that reached disk would show
in the raw bytes, and every value read back is checked too.
"""

from __future__ import annotations

import gzip
import json
import string
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.e2e.record_support import proxy, read_tapes
from tests.e2e.test_record_streaming import raw_upstream
from tests.servers import Received, Reply, serve

pytestmark = pytest.mark.e2e

POSITIONS = (
    "authorization",
    "api_key_header",
    "token_header",
    "cookie",
    "query",
    "json",
    "form",
    "multipart",
    "gzip_json",
    "response",
)
secret_values = st.text(string.ascii_letters + string.digits, min_size=16, max_size=40)
plantings = st.lists(
    st.tuples(st.sampled_from(POSITIONS), secret_values, st.integers(0, 5)),
    min_size=len(POSITIONS),
    max_size=30,
    unique_by=lambda t: t[1],
)


def _upstream(request: Received) -> Reply:
    """Echoes a secret back in a Set-Cookie and a gzip JSON body when asked to."""
    secret = dict((k.lower(), v) for k, v in request.headers).get("x-echo-secret")
    if not secret:
        return Reply(200, [("Content-Type", "text/plain")], b"ok")
    body = gzip.compress(json.dumps({"data": {"access_token": secret, "n": 1}}).encode())
    return Reply(
        200,
        [
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
            ("Set-Cookie", f"sid={secret}; Path=/; HttpOnly"),
        ],
        body,
    )


def _nested(secret: str, depth: int) -> object:
    value: object = {"password": secret, "name": "visible"}
    for level in range(depth):
        value = {f"level{level}": [1, value]} if level % 2 else {f"level{level}": value}
    return value


def _send(client: httpx.Client, position: str, secret: str, depth: int) -> httpx.Response:
    if position == "authorization":
        return client.get("/a", headers={"Authorization": f"Bearer {secret}"})
    if position == "api_key_header":
        return client.get("/a", headers={"X-Api-Key": secret})
    if position == "token_header":
        return client.get("/a", headers={"X-Session-Token": secret})
    if position == "cookie":
        return client.get("/a", headers={"Cookie": f"theme=dark; session={secret}"})
    if position == "query":
        return client.get("/search?" + urlencode({"q": "shoes", "api_key": secret}))
    if position == "json":
        return client.post("/j", json=_nested(secret, depth))
    if position == "form":
        return client.post("/f", data={"user": "bob", "password": secret})
    if position == "multipart":
        return client.post(
            "/m", data={"title": "x", "client_secret": secret}, files={"doc": ("a.txt", b"hello")}
        )
    if position == "gzip_json":
        body = gzip.compress(
            json.dumps({"refresh_token": secret, "deep": _nested(secret, depth)}).encode()
        )
        return client.post(
            "/g",
            content=body,
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
    assert position == "response"
    return client.get("/r", headers={"X-Echo-Secret": secret})


@settings(
    max_examples=3,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(planted=plantings)
def test_no_planted_secret_reaches_disk(
    planted: list[tuple[str, str, int]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    tapes = tmp_path_factory.mktemp("secrets") / "tapes"
    with (
        serve(_upstream) as upstream,
        proxy(upstream.url, tapes, options={"shadowtape_compression": "none"}) as p,
    ):
        with httpx.Client(base_url=p.url, timeout=10) as client:
            for position, secret, depth in planted:
                assert _send(client, position, secret, depth).status_code == 200
        assert p.stop() == 0
    secrets = {secret: position for position, secret, _ in planted}
    files = [path for path in tapes.rglob("*") if path.is_file()]
    assert files, "nothing was written"
    for path in files:
        raw = path.read_bytes()
        leaked = [f"{pos}:{s}" for s, pos in secrets.items() if s.encode() in raw]
        assert not leaked, f"{path.name} holds raw secrets {leaked}"
    exchanges = read_tapes(tapes)
    assert len(exchanges) == len(planted)
    for ex in exchanges:
        text = repr(ex)
        leaked = [f"{pos}:{s}" for s, pos in secrets.items() if s in text]
        assert not leaked, f"{ex.request.method} {ex.request.target} read back with {leaked}"
        assert ex.redactions, f"{ex.request.target} has no redactions listed"


# -- issue 18: headers, URLs, the reason phrase, JSON keys --------------------------------

tokens = st.text(string.ascii_letters + string.digits, min_size=16, max_size=32).filter(
    lambda t: sum(c.isdigit() for c in t) >= 3 and sum(c.isalpha() for c in t) >= 3
)
addresses = st.tuples(
    st.text(string.ascii_lowercase, min_size=4, max_size=10),
    st.text(string.ascii_lowercase, min_size=4, max_size=10),
).map(lambda t: f"{t[0]}.x7@{t[1]}.example")
stripe_keys = st.text(string.ascii_letters + string.digits, min_size=24, max_size=24).map(
    lambda t: "sk_live_" + t
)


def _raw_reply(head: bytes) -> bytes:
    """The upstream's answer, written byte for byte (a reason phrase of its own)."""
    lines = head.decode("latin-1").split("\r\n")
    target = lines[0].split(" ")[1]
    plant = {
        k.lower(): v for k, _, v in (line.partition(": ") for line in lines[1:] if ": " in line)
    }
    status, extra, body = "200 OK", [], b"ok"
    if target.startswith("/protected"):
        token = plant["authorization"].split(" ", 1)[1]
        status = "401 Unauthorized"
        extra.append(f'WWW-Authenticate: Bearer realm="api", error="invalid_token" t="{token}"')
    elif target.startswith("/forgot"):
        token = plant["x-plant"]
        status = "302 Found"
        extra.append(f"Location: https://app.test/password/reset/{token}")
        extra.append(f"Link: <https://app.test/verify/{token}>; rel=next")
    elif target.startswith("/revoked"):
        status = f"403 Key {plant['x-plant']} revoked"
    elif target.startswith("/users"):
        body = json.dumps({plant["x-plant"]: {"role": "admin"}}).encode()
        extra.append("Content-Type: application/json")
    head_out = [f"HTTP/1.1 {status}", *extra, f"Content-Length: {len(body)}", "Connection: close"]
    return ("\r\n".join(head_out) + "\r\n\r\n").encode("latin-1") + body


@settings(
    max_examples=2,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    token=tokens,
    reset=tokens,
    key=stripe_keys,
    address=addresses,
    cookies=st.lists(tokens, min_size=18, max_size=18, unique=True),
)
def test_headers_urls_reason_and_json_keys_never_reach_disk(
    token: str,
    reset: str,
    key: str,
    address: str,
    cookies: list[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    tapes = tmp_path_factory.mktemp("secrets18") / "tapes"
    with (
        raw_upstream(lambda conn, head: conn.sendall(_raw_reply(head))) as upstream,
        proxy(upstream, tapes, options={"shadowtape_compression": "none"}) as p,
    ):
        with httpx.Client(base_url=p.url, timeout=10) as client:
            jar = "; ".join(f"c{i}={value}" for i, value in enumerate(cookies))
            answers = [
                client.get("/protected", headers={"Authorization": f"Bearer {token}"}),
                client.get("/forgot", headers={"X-Plant": reset}),
                client.get("/revoked", headers={"X-Plant": key}),
                client.post("/users", json={address: {"n": 1}}, headers={"X-Plant": address}),
                client.get("/a", headers={"Cookie": jar, "X-Trace": f"echo:{cookies[-1]}."}),
            ]
        assert [a.status_code for a in answers] == [401, 302, 403, 200, 200]
        assert answers[2].reason_phrase == f"Key {key} revoked"  # the client got it unchanged
        assert p.stop() == 0
    planted = [token, reset, key, address, *cookies]
    files = [path for path in tapes.rglob("*") if path.is_file()]
    assert files, "nothing was written"
    for path in files:
        raw = path.read_bytes()
        leaked = [s for s in planted if s.encode() in raw or quote(s).encode() in raw]
        assert not leaked, f"{path.name} holds raw secrets {leaked}"
    exchanges = read_tapes(tapes)
    assert len(exchanges) == 5
    for ex in exchanges:
        leaked = [s for s in planted if s in repr(ex)]
        assert not leaked, f"{ex.request.target} read back with {leaked}"
