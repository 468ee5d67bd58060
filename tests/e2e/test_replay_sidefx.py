"""Side effects end to end: two launched builds of a shop, each behind its own deps proxy
(passthrough) in front of a real payment provider on loopback. A candidate that charges
twice answers exactly like the baseline; only the side-effect ledger shows it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson
import pytest

from shadowtape.cli import main
from tests.e2e.deps_support import DepsProxy, deps_proxy
from tests.e2e.record_support import kill_group
from tests.replay.helpers import ex, write_tape
from tests.servers import Received, Reply, free_port, serve

ROOT = Path(__file__).resolve().parents[2]
SHOP = f"{sys.executable} {ROOT / 'tests' / 'e2e' / 'sidefx_service.py'} {{port}}"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # see test_replay_builds.py
]


def _payments(request: Received) -> Reply:
    status = 201 if request.method == "POST" else 200
    return Reply(status=status, headers=[("Content-Type", "application/json")], body=b"{}")


def _orders(folder: Path, n: int, gap: float) -> Path:
    order = b'{"sku":"A-1","qty":1}'
    return write_tape(
        folder,
        [
            ex(
                "/api/orders",
                method="POST",
                at=i * gap,
                body=order,
                status=201,
                headers=[("Idempotency-Key", f"order-{i}")],
                response_body=b'{"order":"accepted"}',
            )
            for i in range(n)
        ],
    )


def _replay(
    tmp_path: Path,
    baseline: str,
    candidate: str,
    *flags: str,
    n: int = 12,
    gap: float = 0.05,
) -> dict:
    tape = _orders(tmp_path / "tape", n, gap)
    out = tmp_path / "run"
    code = main(
        [
            "replay",
            str(tape),
            "--baseline-cmd",
            baseline,
            "--candidate-cmd",
            candidate,
            "--allow-mutating",
            *flags,
            "--out",
            str(out),
        ]
    )
    report = orjson.loads((out / "report.json").read_bytes())
    report["exit_code"] = code
    return report


def _side_effects(report: dict) -> list[dict]:
    return [f for e in report["endpoints"] for f in e["findings"] if f["kind"] == "side_effect"]


def test_a_candidate_that_charges_twice_fails_on_its_side_effects(tmp_path: Path) -> None:
    with serve(_payments) as payments:
        report = _replay(tmp_path, f"{SHOP} {payments.url} 1", f"{SHOP} {payments.url} 2")
        charges = sum(1 for r in payments.received if r.path == "/charges")
    assert charges == 12 * 3  # both builds reached the real provider through their proxies
    (finding,) = _side_effects(report)
    assert finding["message"].startswith(
        f"POST 127.0.0.1:{payments.port}/charges: 1 call on the baseline, 2 on the candidate"
    )
    assert finding["count"] == 12
    assert report["exit_code"] == 1 and not report["gate"]["passed"]
    section = report["side_effects"]
    logs = {log["role"]: log for log in section["logs"]}
    assert logs["candidate"]["by_trace"] == 12 * 3 and logs["candidate"]["unattributed"] == 0
    assert logs["baseline"]["mode"] == "passthrough"


@pytest.mark.timing
def test_calls_are_attributed_by_trace_id_with_16_requests_in_flight(tmp_path: Path) -> None:
    slow = f"env SHOP_DELAY=0.2 {SHOP}"
    with serve(_payments) as payments:
        report = _replay(
            tmp_path,
            f"{slow} {payments.url} 1",
            f"{slow} {payments.url} 2",
            "--pace",
            "asap",
            "--concurrency",
            "16",
            n=32,
        )
    logs = {log["role"]: log for log in report["side_effects"]["logs"]}
    assert logs["candidate"]["calls"] == logs["candidate"]["by_trace"] == 32 * 3
    assert logs["baseline"]["calls"] == logs["baseline"]["by_trace"] == 32 * 2
    (finding,) = _side_effects(report)
    assert finding["count"] == 32  # every request, none mixed up with its neighbours
    run = orjson.loads((tmp_path / "run" / "run.json").read_bytes())
    assert run["in_flight"]["achieved_mean"] > 8  # the requests really overlapped


def test_equal_builds_have_equal_side_effects(tmp_path: Path) -> None:
    with serve(_payments) as payments:
        same = f"{SHOP} {payments.url} 1"
        report = _replay(tmp_path, same, same)
    assert _side_effects(report) == []
    assert report["side_effects"]["compared"] == 12
    assert report["exit_code"] == 0, report["gate"]["reasons"]


@pytest.mark.timing
def test_without_trace_context_one_request_at_a_time_is_attributed_by_time(
    tmp_path: Path,
) -> None:
    # Orders 300 ms apart: one in flight at a time, so time alone tells whose calls they are.
    with serve(_payments) as payments:
        report = _replay(
            tmp_path,
            f"{SHOP} {payments.url} 1 --no-trace",
            f"{SHOP} {payments.url} 2 --no-trace",
            n=6,
            gap=0.3,
        )
    logs = {log["role"]: log for log in report["side_effects"]["logs"]}
    assert logs["candidate"]["by_time"] == 6 * 3 and logs["candidate"]["by_trace"] == 0
    (finding,) = _side_effects(report)
    assert finding["count"] == 6


def test_a_second_delivery_that_charges_again_is_a_duplicate_delivery(tmp_path: Path) -> None:
    # Both builds answer a repeated Idempotency-Key alike; only the candidate charges again.
    with serve(_payments) as payments:
        report = _replay(
            tmp_path,
            f"{SHOP} {payments.url} 1 --dedup",
            f"{SHOP} {payments.url} 1",
            "--probe",
            "duplicates",
            "--probe-sample",
            "2",
            n=4,
        )
    assert _side_effects(report) == []  # each recorded order once: one charge on both
    (probe,) = report["probes"]
    said = {f["location"]: f["message"] for f in probe["findings"]}
    charges = f"POST 127.0.0.1:{payments.port}/charges"
    assert said[f"in a row: {charges}"] == (
        "the second POST in a row made other outbound calls: "
        f"{charges}: 0 calls on the baseline, 1 on the candidate"
    )
    assert said[f"at once: {charges}"] == (
        f"two POSTs sent at once made other outbound calls: {charges}: 1 call on the "
        "baseline, 2 on the candidate"
    )
    assert report["exit_code"] == 1


def test_builds_that_both_dedup_have_no_duplicate_delivery(tmp_path: Path) -> None:
    with serve(_payments) as payments:
        same = f"{SHOP} {payments.url} 1 --dedup"
        report = _replay(tmp_path, same, same, "--probe", "duplicates", "--probe-sample", "2", n=4)
    (probe,) = report["probes"]
    assert probe["findings"] == [] and report["exit_code"] == 0, report["gate"]["reasons"]


@contextmanager
def _shop(proxy: DepsProxy, payments: str) -> Iterator[str]:
    """The shop (one charge an order), its calls through ``proxy``; its URL."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.lower().endswith("_proxy")}
    env["HTTP_PROXY"] = proxy.url
    cmd = [sys.executable, str(ROOT / "tests" / "e2e" / "sidefx_service.py"), str(port)]
    proc = subprocess.Popen(
        [*cmd, payments, "1"], stdout=subprocess.PIPE, env=env, start_new_session=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"listening"
        yield f"http://127.0.0.1:{port}"
    finally:
        kill_group(proc)
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_mocked_dependencies_list_unmatched_calls_and_catch_an_extra_one(tmp_path: Path) -> None:
    # Record the shop's calls once, stop the provider, then replay against mocks: the
    # candidate's new refund call has no recording (unmatched) and is a side effect.
    deps = tmp_path / "deps-tapes"
    with serve(_payments) as payments:
        url = payments.url
        with deps_proxy(deps, "record") as proxy, _shop(proxy, url) as shop:
            order = httpx.post(f"{shop}/api/orders", content=b"{}", timeout=20, trust_env=False)
            assert order.status_code == 201
            assert proxy.stop() == 0, proxy.output()
    report = _replay(
        tmp_path, f"{SHOP} {url} 1", f"{SHOP} {url} 1 --refund", "--deps", str(deps), n=4
    )
    refunds = f"POST 127.0.0.1:{payments.port}/refunds"
    unverified = {(u["reason"], u["location"]): u for u in report["side_effects"]["unverified"]}
    assert unverified[("unmatched_dependency_call", refunds)]["count"] == 4
    assert [k for k in unverified if k[0] == "unmatched_dependency_call"] == [
        ("unmatched_dependency_call", refunds)
    ]  # the recorded charges and limits were matched
    (finding,) = _side_effects(report)
    assert finding["location"] == refunds and finding["count"] == 4
    assert {log["mode"] for log in report["side_effects"]["logs"]} == {"mock"}
