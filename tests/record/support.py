"""What the recorder's tests share: a test flow carrying a secret, and reading tapes back."""

from __future__ import annotations

import warnings
from pathlib import Path

with warnings.catch_warnings():
    # mitmproxy 12.2's flowfilter still calls pyparsing's deprecated camelCase API on import.
    warnings.simplefilter("ignore", DeprecationWarning)
    from mitmproxy import http
    from mitmproxy.test import tflow, tutils

from shadowtape.exchange import Exchange
from shadowtape.tape import TapeReader

SECRET = "Bearer s3cr3t-t0ken-value"


def make_flow(
    *,
    path: str = "/api/items?page=2",
    method: str = "GET",
    body: bytes = b'{"ok": true}',
    encoding: str | None = None,
    status: int = 200,
) -> http.HTTPFlow:
    f = tflow.tflow(
        req=tutils.treq(method=method.encode(), path=path.encode(), host="api.example.com"),
        resp=True,
    )
    f.request.headers["Authorization"] = SECRET
    assert f.response is not None
    f.response.status_code = status
    f.response.headers["Content-Type"] = "application/json"
    f.response.content = body
    if encoding:
        f.response.encode(encoding)
    return f


def read_tapes(tapes: Path) -> list[Exchange]:
    return list(TapeReader(tapes).exchanges())
