"""A real service process calling two dependencies (http and https) through
`shadowtape deps`, configured only by the variables the command prints: recorded, then
answered by the mock with both dependencies stopped, then seeing each injected fault."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.deps_support import deps_proxy, service
from tests.servers import Received, Reply, self_signed, serve

pytestmark = pytest.mark.e2e


def _inventory(request: Received) -> Reply:
    return Reply(200, [("Content-Type", "application/json")], b'{"stock": 3}')


def _payments(request: Received) -> Reply:
    return Reply(201, [("Content-Type", "application/json")], b'{"charged": 42}')


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
            service(proxy, *urls) as url,
        ):
            recorded = _order(url)
            assert proxy.stop() == 0, proxy.output()
    assert recorded == {
        "stock": {"status": 200, "body": '{"stock": 3}'},
        "charge": {"status": 201, "body": '{"charged": 42}'},
    }

    # Both dependencies are stopped now: the mock alone answers.
    with deps_proxy(tapes, "mock") as proxy, service(proxy, *urls) as url:
        assert _order(url) == recorded

    inventory_host = inventory.url.removeprefix("http://")
    payments_host = payments.url.removeprefix("https://")
    seen: dict[str, dict[str, Any]] = {}
    for kind, rule in [
        ("status", f"host={inventory_host},status=503"),
        ("reset", f"host={payments_host},reset"),
        ("timeout", f"host={inventory_host},timeout=10s"),
        ("delay", f"host={payments_host},delay=1s"),
    ]:
        with deps_proxy(tapes, "mock", "--fault", rule) as proxy, service(proxy, *urls) as s:
            started = time.monotonic()
            seen[kind] = _order(s) | {"took": time.monotonic() - started}
    assert seen["status"]["stock"]["status"] == 503
    assert seen["status"]["charge"] == recorded["charge"]
    assert "error" in seen["reset"]["charge"]
    assert seen["reset"]["stock"] == recorded["stock"]
    assert seen["timeout"]["stock"] == {"error": "timeout"}
    assert seen["delay"]["charge"] == recorded["charge"] and seen["delay"]["took"] >= 1.0
