"""`shadowtape deps` end to end: a service's calls to two loopback dependencies, one over
http and one over https (self-signed), recorded through the proxy; then answered by the
mock with both dependencies stopped; an unmatched call; each fault kind as the client sees
it; and SIGTERM leaving the tape readable."""

from __future__ import annotations

import contextlib
import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from shadowtape.deps.calls import read as read_calls
from shadowtape.deps.control import clear_faults, write_faults
from tests.bombs import MiB, gzip_member
from tests.e2e.deps_support import client, deps_proxy
from tests.e2e.record_support import read_tapes
from tests.procfs import descendants
from tests.servers import Received, Reply, self_signed, serve

pytestmark = pytest.mark.e2e


def _inventory(request: Received) -> Reply:
    count = {"/items/1": 3, "/items/2": 0}.get(request.path.split("?")[0], 7)
    body = json.dumps({"path": request.path, "stock": count}).encode()
    return Reply(200, [("Content-Type", "application/json")], body)


def _payments(request: Received) -> Reply:
    charge = json.loads(request.body or b"{}")
    body = json.dumps({"charged": charge.get("amount"), "id": "ch_1"}).encode()
    return Reply(201, [("Content-Type", "application/json")], body)


def _service_calls(http: httpx.Client, inventory: str, payments: str) -> list[tuple[int, str]]:
    """What the service does for one order: two stock look-ups and one charge."""
    answers = [
        http.get(f"{inventory}/items/1?fields=stock"),
        http.get(f"{inventory}/items/2"),
        http.post(f"{payments}/charges", json={"amount": 42, "currency": "EUR"}),
    ]
    return [(r.status_code, r.text) for r in answers]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """Record one order's calls; yields the tapes, the dependency URLs and what they said."""
    folder = tmp_path_factory.mktemp("deps")
    cert, key = self_signed(folder)
    tapes = folder / "tapes"
    with serve(_inventory) as inventory, serve(_payments, tls=(cert, key)) as payments:
        faulted = f"host={inventory.url.removeprefix('http://')},status=503,paths=/faulted"
        with deps_proxy(tapes, "record", "--upstream-ca", str(cert), "--fault", faulted) as proxy:
            with client(proxy) as http:
                answers = _service_calls(http, inventory.url, payments.url)
                fault_status = http.get(f"{inventory.url}/faulted").status_code
            code = proxy.stop()
            output = proxy.output()
        seen = (len(inventory.received), len(payments.received))
    yield {
        "tapes": tapes,
        "inventory": inventory.url,
        "payments": payments.url,
        "answers": answers,
        "code": code,
        "output": output,
        "seen": seen,
        "fault_status": fault_status,
    }


def test_record_passes_calls_through_and_writes_a_readable_tape(
    recorded: dict[str, object],
) -> None:
    assert recorded["code"] == 0, recorded["output"]
    # The faulted call never reached the dependency, and is not in the tape.
    assert recorded["seen"] == (2, 1)
    assert recorded["fault_status"] == 503
    answers = recorded["answers"]
    assert isinstance(answers, list)
    assert [status for status, _ in answers] == [200, 200, 201]
    tapes = recorded["tapes"]
    assert isinstance(tapes, Path)
    exchanges = read_tapes(tapes)
    assert {e.source for e in exchanges} == {"deps:svc"}
    assert sorted((e.request.method, e.request.path) for e in exchanges) == [
        ("GET", "/items/1"),
        ("GET", "/items/2"),
        ("POST", "/charges"),
    ]
    https = [e for e in exchanges if e.request.path == "/charges"]
    assert https[0].request.scheme == "https"
    assert "SSL_CERT_FILE=" in str(recorded["output"])


def test_mock_answers_with_the_dependencies_stopped(recorded: dict[str, object]) -> None:
    tapes = recorded["tapes"]
    assert isinstance(tapes, Path)
    inventory, payments = str(recorded["inventory"]), str(recorded["payments"])
    with deps_proxy(tapes, "mock") as proxy:
        with client(proxy) as http:
            answers = _service_calls(http, inventory, payments)
            unmatched = http.get(f"{inventory}/never/recorded")
        assert proxy.stop() == 0, proxy.output()
    assert answers == recorded["answers"]
    assert unmatched.status_code == 502
    assert unmatched.headers["X-Shadowtape-Unmatched"] == "1"
    assert "/never/recorded" in unmatched.text
    calls = read_calls(str(proxy.calls))
    mocked = [c for c in calls if c["mode"] == "mock"]
    assert [c["match"] for c in mocked] == ["exact", "exact", "exact", "unmatched"]
    assert mocked[2]["scheme"] == "https"
    assert mocked[2]["host"] == "127.0.0.1"


def test_a_mock_falls_back_and_logs_the_match_quality(recorded: dict[str, object]) -> None:
    tapes = recorded["tapes"]
    assert isinstance(tapes, Path)
    payments = str(recorded["payments"])
    with deps_proxy(tapes, "mock") as proxy, client(proxy) as http:
        other = http.post(f"{payments}/charges", json={"amount": 1})
        query = http.get(f"{recorded['inventory']}/items/1?fields=all")
        traced = http.get(
            f"{recorded['inventory']}/items/2",
            headers={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
        )
    assert other.status_code == 201
    assert query.status_code == 200
    assert traced.status_code == 200
    calls = read_calls(str(proxy.calls))[-3:]
    assert [c["match"] for c in calls] == ["no_body", "no_query", "exact"]
    assert calls[2]["traceparent"].startswith("00-0af7651916cd43dd")


def test_each_fault_kind_is_what_the_service_sees(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    tapes = tmp_path / "tapes"
    with serve(_inventory) as inventory, serve(_payments, tls=(cert, key)) as payments:
        host = inventory.url.removeprefix("http://")
        flags = ("--upstream-ca", str(cert))
        rules = [
            f"host={host},status=503",
            f"host={host},reset",
            f"host={host},timeout",
            f"host={host},delay=1s,paths=/items/*",
        ]
        first = ("--fault", rules[0])
        with deps_proxy(tapes, "passthrough", *flags, *first) as p, client(p) as http:
            status = http.get(f"{inventory.url}/items/1")
            untouched = http.post(f"{payments.url}/charges", json={"amount": 1})
        assert status.status_code == 503
        assert status.headers["X-Shadowtape-Fault"] == rules[0]
        assert untouched.status_code == 201

        with (
            deps_proxy(tapes, "passthrough", "--fault", rules[1]) as p,
            client(p) as http,
            pytest.raises(httpx.RemoteProtocolError),
        ):
            http.get(f"{inventory.url}/items/1")

        with (
            deps_proxy(tapes, "passthrough", "--fault", rules[2]) as p,
            client(p, timeout=1.0) as http,
            pytest.raises(httpx.ReadTimeout),
        ):
            http.get(f"{inventory.url}/items/1")

        with deps_proxy(tapes, "passthrough", "--fault", rules[3]) as p, client(p) as http:
            started = time.monotonic()
            slow = http.get(f"{inventory.url}/items/1")
            slow_took = time.monotonic() - started
            started = time.monotonic()
            fast = http.get(f"{inventory.url}/other")
            fast_took = time.monotonic() - started
        assert slow.status_code == 200 and slow_took >= 1.0
        assert fast.status_code == 200 and fast_took < 1.0
    calls = read_calls(str(tapes / "_deps" / "svc.calls.jsonl"))
    assert [c["fault"] for c in calls if c["fault"]] == rules
    matches = ["fault", "forwarded", "fault", "fault", "forwarded", "forwarded"]
    assert [c["match"] for c in calls] == matches
    assert calls[1]["scheme"] == "https" and calls[1]["status"] == 201
    assert read_tapes(tapes) == []


def test_sigterm_while_a_call_is_held_stops_with_the_tape_readable(tmp_path: Path) -> None:
    tapes = tmp_path / "tapes"
    with serve(_inventory) as inventory:
        rule = f"host={inventory.url.removeprefix('http://')},timeout,paths=/slow"
        with deps_proxy(tapes, "record", "--fault", rule) as proxy, client(proxy) as http:
            assert http.get(f"{inventory.url}/items/1").status_code == 200
            held = threading.Thread(
                target=lambda: suppress_errors(lambda: http.get(f"{inventory.url}/slow")),
                daemon=True,
            )
            held.start()
            time.sleep(0.5)
            started = time.monotonic()
            assert proxy.stop() == 0, proxy.output()
            assert time.monotonic() - started < 30
    assert [e.request.path for e in read_tapes(tapes)] == ["/items/1"]
    calls = read_calls(str(proxy.calls))
    assert [(c["path"], c["match"]) for c in calls] == [
        ("/items/1", "forwarded"),
        ("/slow", "fault"),
    ]
    assert calls[1]["error"] == "held by a fault when the proxy stopped"


def suppress_errors(call: Callable[[], object]) -> None:
    with contextlib.suppress(httpx.HTTPError):
        call()


def test_faults_apply_in_mock_mode_too(recorded: dict[str, object]) -> None:
    tapes = recorded["tapes"]
    assert isinstance(tapes, Path)
    inventory = str(recorded["inventory"])
    rule = f"host={inventory.removeprefix('http://')},status=503,paths=/items/2"
    with deps_proxy(tapes, "mock", "--fault", rule) as proxy, client(proxy) as http:
        first = http.get(f"{inventory}/items/1?fields=stock")
        second = http.get(f"{inventory}/items/2")
    assert (first.status_code, second.status_code) == (200, 503)


def test_a_faults_file_turns_a_fault_on_and_off_without_a_restart(tmp_path: Path) -> None:
    tapes = tmp_path / "tapes"
    rules = tmp_path / "svc.faults.json"
    with serve(_inventory) as inventory:
        rule = f"host={inventory.url.removeprefix('http://')},status=503"
        with (
            deps_proxy(tapes, "passthrough", "--faults-file", str(rules)) as proxy,
            client(proxy) as http,
        ):
            before = http.get(f"{inventory.url}/items/1")
            write_faults(rules, [rule])
            faulted = http.get(f"{inventory.url}/items/1")
            rules.write_text("[not json")
            kept = http.get(f"{inventory.url}/items/1")
            clear_faults(rules)
            after = http.get(f"{inventory.url}/items/1")
            assert proxy.stop() == 0, proxy.output()
    statuses = [r.status_code for r in (before, faulted, kept, after)]
    assert statuses == [200, 503, 503, 200]
    assert faulted.headers["X-Shadowtape-Fault"] == rule
    assert "keeping the previous 1 rule(s)" in proxy.output()
    assert [c["fault"] for c in read_calls(str(proxy.calls))] == [None, rule, rule, None]


def _peak_rss(pids: set[int]) -> int:
    """The largest peak resident size (VmHWM) among ``pids``, in bytes."""
    peak = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) * 1024)
    return peak


def test_a_mock_compares_a_compressed_body_decoded_and_a_bomb_not_at_all(
    recorded: dict[str, object],
) -> None:
    tapes = recorded["tapes"]
    assert isinstance(tapes, Path)
    charges = f"{recorded['payments']}/charges"
    gzipped = gzip.compress(json.dumps({"amount": 42, "currency": "EUR"}).encode())
    bomb = gzip_member(1024)  # about 1 MB that expands to 1 GiB
    with deps_proxy(tapes, "mock") as proxy, client(proxy) as http:
        pids = {proxy.proc.pid, *descendants(proxy.proc.pid)}
        before = _peak_rss(pids)
        same = http.post(charges, content=gzipped, headers={"Content-Encoding": "gzip"})
        bombed = http.post(charges, content=bomb, headers={"Content-Encoding": "gzip"})
        after = http.post(charges, json={"amount": 42, "currency": "EUR"})
        peak = _peak_rss(pids)
        assert proxy.stop() == 0, proxy.output()
    # Decoding stopped at the 32 MiB limit: nowhere near the gigabyte.
    assert peak - before < 200 * MiB, f"{before / MiB:.0f} -> {peak / MiB:.0f} MiB peak RSS"
    # The bomb is answered (its body not compared), and the proxy goes on.
    assert [r.status_code for r in (same, bombed, after)] == [201, 201, 201]
    calls = read_calls(str(proxy.calls))[-3:]
    assert [c["match"] for c in calls] == ["exact", "no_body", "exact"]
    assert "is not compared (decompressed size over limit)" in proxy.output()
