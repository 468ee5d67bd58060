"""HTTP/2 over TLS through a real mitmdump is recorded like any other exchange."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.record_support import proxy, read_tapes
from tests.servers import Received, Reply, serve

pytestmark = pytest.mark.e2e


def _json(_: Received) -> Reply:
    return Reply(200, [("Content-Type", "application/json")], b'{"v": 2}')


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl for an HTTP/2 client")
def test_http2_over_tls_is_recorded_like_any_other(tmp_path: Path) -> None:
    tapes = tmp_path / "tapes"
    # Lazy: mitmdump negotiates HTTP/2 with the client on its own, then speaks HTTP/1.1 to
    # the plain-HTTP upstream (eager would mirror the upstream's protocol, HTTP/1.1).
    lazy = {"connection_strategy": "lazy"}
    with serve(_json) as up, proxy(up.url, tapes, options=lazy) as p:
        url = p.url.replace("http://", "https://") + "/h2?x=1"
        # curl, because httpx offers http/1.1 first (and mitmproxy honours the order).
        # -k: mitmdump answers TLS with its own CA's certificate, not the point here.
        done = subprocess.run(
            [
                "curl",
                "-sk",
                "--http2",
                "-w",
                "\n%{http_version}",
                "-H",
                "Content-Type: application/json",
                "-d",
                json.dumps({"password": "hunter2-secret"}),
                url,
            ],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
        body, version = done.stdout.rsplit("\n", 1)
        assert (version, json.loads(body)) == ("2", {"v": 2})
        assert p.stop() == 0
    (ex,) = read_tapes(tapes)
    assert ex.request.http_version == "HTTP/2.0"
    assert ex.request.scheme == "http"  # the upstream's scheme: TLS ended at the proxy
    assert (ex.request.method, ex.request.path, ex.request.query) == ("POST", "/h2", "x=1")
    assert ex.response is not None and ex.response.body == b'{"v": 2}'
    assert b"hunter2-secret" not in ex.request.body
    assert ex.redactions
