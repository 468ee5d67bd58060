"""A real service process calling two dependencies (http and https) through
`shadowtape deps`, configured only by the variables the command prints: recorded, then
answered by the mock with both dependencies stopped, then seeing each injected fault."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.deps_support import DepsProxy, deps_proxy
from tests.e2e.record_support import kill_group
from tests.servers import Received, Reply, free_port, self_signed, serve

pytestmark = pytest.mark.e2e

SERVICE = Path(__file__).with_name("deps_service.py")


def _inventory(request: Received) -> Reply:
    return Reply(200, [("Content-Type", "application/json")], b'{"stock": 3}')


def _payments(request: Received) -> Reply:
    return Reply(201, [("Content-Type", "application/json")], b'{"charged": 42}')


@contextmanager
def _service(proxy: DepsProxy, inventory: str, payments: str) -> Iterator[str]:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.lower().endswith("_proxy")}
    env |= {
        "HTTP_PROXY": proxy.url,
        "HTTPS_PROXY": proxy.url,
        "SSL_CERT_FILE": str(proxy.ca),
        "REQUESTS_CA_BUNDLE": str(proxy.ca),
    }
    proc = subprocess.Popen(
        [sys.executable, str(SERVICE), str(port), inventory, payments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"listening"
        yield f"http://127.0.0.1:{port}"
    finally:
        kill_group(proc)
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def _order(service: str) -> dict[str, Any]:
    answer = httpx.get(f"{service}/order", timeout=20, trust_env=False)
    assert answer.status_code == 200
    return dict(json.loads(answer.text))


def test_record_then_mock_then_faults_as_the_service_sees_them(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    tapes = tmp_path / "tapes"
    with serve(_inventory) as inventory, serve(_payments, tls=(cert, key)) as payments:
        urls = (inventory.url, payments.url)
        with (
            deps_proxy(tapes, "record", "--upstream-ca", str(cert)) as proxy,
            _service(proxy, *urls) as service,
        ):
            recorded = _order(service)
            assert proxy.stop() == 0, proxy.output()
    assert recorded == {
        "stock": {"status": 200, "body": '{"stock": 3}'},
        "charge": {"status": 201, "body": '{"charged": 42}'},
    }

    # Both dependencies are stopped now: the mock alone answers.
    with deps_proxy(tapes, "mock") as proxy, _service(proxy, *urls) as service:
        assert _order(service) == recorded

    inventory_host = inventory.url.removeprefix("http://")
    payments_host = payments.url.removeprefix("https://")
    seen: dict[str, dict[str, Any]] = {}
    for kind, rule in [
        ("status", f"host={inventory_host},status=503"),
        ("reset", f"host={payments_host},reset"),
        ("timeout", f"host={inventory_host},timeout=10s"),
        ("delay", f"host={payments_host},delay=1s"),
    ]:
        with deps_proxy(tapes, "mock", "--fault", rule) as proxy, _service(proxy, *urls) as s:
            started = time.monotonic()
            seen[kind] = _order(s) | {"took": time.monotonic() - started}
    assert seen["status"]["stock"]["status"] == 503
    assert seen["status"]["charge"] == recorded["charge"]
    assert "error" in seen["reset"]["charge"]
    assert seen["reset"]["stock"] == recorded["stock"]
    assert seen["timeout"]["stock"] == {"error": "timeout"}
    assert seen["delay"]["charge"] == recorded["charge"] and seen["delay"]["took"] >= 1.0
