"""The deps proxy beside a launched build, as a real `shadowtape deps` process: what the
build's environment gets, that calls go through it, and that it is gone afterwards."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from shadowtape.deps.beside import DepsBeside
from shadowtape.deps.calls import read as read_calls
from tests.procfs import alive, descendants
from tests.servers import Received, Reply, serve

pytestmark = pytest.mark.e2e


def _ok(_: Received) -> Reply:
    return Reply(200, body=b"dependency")


def test_a_passthrough_proxy_for_one_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    beside = DepsBeside(tmp_path / "run")
    with serve(_ok) as dependency, beside("secondary") as environment:
        children = descendants(os.getpid())
        proxy = environment["HTTP_PROXY"]
        ca = str(tmp_path / "run" / "deps" / "mitmproxy" / "mitmproxy-ca-cert.pem")
        assert environment == {
            "HTTP_PROXY": proxy,
            "HTTPS_PROXY": proxy,
            "http_proxy": proxy,
            "https_proxy": proxy,
            "SSL_CERT_FILE": ca,
            "REQUESTS_CA_BUNDLE": ca,
            "NODE_EXTRA_CA_CERTS": ca,
            "NO_PROXY": "",
            "no_proxy": "",
        }
        assert Path(ca).exists() and proxy.startswith("http://127.0.0.1:")
        with httpx.Client(proxy=proxy, trust_env=False) as client:
            answer = client.get(f"{dependency.url}/stock")
        # The replayer's own environment is untouched.
        assert "HTTP_PROXY" not in os.environ
    assert answer.text == "dependency" and len(dependency.received) == 1
    assert beside.started == {
        "secondary": {
            "mode": "passthrough",
            "proxy": proxy,
            "calls": "deps/secondary.calls.jsonl",
            "faults": "deps/secondary.faults.json",
        }
    }
    (call,) = read_calls(str(tmp_path / "run" / "deps" / "secondary.calls.jsonl"))
    assert (call["name"], call["path"], call["status"]) == ("secondary", "/stock", 200)
    assert (tmp_path / "run" / "deps" / "secondary.faults.json").read_text() == "[]"
    assert children and not any(alive(pid) for pid in children)
