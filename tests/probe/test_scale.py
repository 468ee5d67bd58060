"""The scale probe end to end: `shadowtape replay --probe scale` against real loopback
services whose work grows with ``limit`` as planted: a quadratic candidate flagged, a slow
but linear endpoint, a constant one and a clean build not, a 500 at x16 found, the cap
held."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from tests.probe.support import breaks_after, probe_exchanges, probe_report, replay
from tests.replay.aserver import Arrival, AsyncServer, Handler, aserve
from tests.replay.helpers import ex, write_tape
from tests.servers import Reply

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # as tests/commands/
]

JSON = [("Content-Type", "application/json")]
LIMITS = (10, 20, 40)
#: Seconds per item (linear) and per item squared (the planted O(n^2)): at limit=640,
#: 32 ms linear, 250 ms quadratic.
PER_ITEM = 0.00005
PER_PAIR = 0.0000006
#: The slow but linear endpoint: 190 ms at limit=640.
SLOW_PER_ITEM = 0.0003
#: The candidate that fails answers 500 above this limit (only x16 reaches it).
BREAKS_ABOVE = 300


def handler(*, quadratic: bool = False, breaks: bool = False) -> Handler:
    async def handle(arrival: Arrival) -> Reply:
        url = urlsplit(arrival.path)
        n = int(parse_qs(url.query).get("limit", ["1"])[0])
        if url.path == "/api/items":
            await asyncio.sleep(n * n * PER_PAIR if quadratic else n * PER_ITEM)
        elif url.path == "/api/slow":
            await asyncio.sleep(n * SLOW_PER_ITEM)
        elif url.path == "/api/constant":
            await asyncio.sleep(0.005)
        elif url.path == "/api/boom":
            if breaks and n > BREAKS_ABOVE:
                return Reply(500, JSON, b'{"error":"boom"}')
        elif not url.path.startswith("/api/plain/"):
            return Reply(404, JSON, b'{"error":"not found"}')
        return Reply(200, JSON, orjson.dumps({"items": min(n, 3)}))

    return handle


@contextmanager
def service(**planted: bool) -> Iterator[AsyncServer]:
    with aserve(handler(**planted)) as server:
        yield server


def _tape(tmp_path: Path, *paths: str) -> Path:
    recorded = [
        ex(path, query=f"limit={n}", at=len(LIMITS) * i * 0.01 + j * 0.01)
        for i, path in enumerate(paths)
        for j, n in enumerate(LIMITS)
    ]
    recorded += [ex(f"/api/plain/{i}", at=1 + i * 0.01) for i in range(3)]
    recorded += [
        ex("/api/batch", method="POST", at=2 + i * 0.01, body=b'{"items":[1,2,3]}')
        for i in range(2)
    ]
    return write_tape(tmp_path / "tape", recorded)


def _run(
    tmp_path: Path, candidate: str, *flags: str, paths: tuple[str, ...] = ("/api/items",)
) -> tuple[int, dict[str, object]]:
    tape = _tape(tmp_path, *paths)
    return replay(tape, tmp_path / "run", candidate, "scale", "--concurrency", "1", *flags)


def _largest(server: AsyncServer, path: str) -> int:
    return max(
        int(parse_qs(urlsplit(a.path).query)["limit"][0])
        for a in server.arrivals
        if a.path.startswith(path)
    )


def test_a_quadratic_candidate_is_superlinear_in_limit(tmp_path: Path) -> None:
    with service(quadratic=True) as candidate, service() as baseline:
        code, report = _run(tmp_path, candidate.url, "--baseline", baseline.url)
        largest = _largest(candidate, "/api/items")
    probe = probe_report(report, "scale")
    (found,) = probe["findings"]
    assert found["kind"] == "superlinear"
    assert found["endpoint"] == "GET /api/items"
    assert found["location"] == "limit"
    assert found["target"] == "candidate"
    assert "`limit`" in found["message"] and "baseline's n^" in found["message"]
    assert f"limit={largest}" in found["message"]
    assert found["concurrent_value"]["slope"] > found["alone_value"]["slope"] + 0.5
    assert code == 1
    assert "superlinear" in report["gate"]["fail_on"]
    assert any("superlinear" in r for r in report["gate"]["reasons"])
    assert largest == 16 * max(LIMITS)
    ids = {r["exchange_id"]: r for r in probe_exchanges(tmp_path / "run")}
    reference, amplified = (ids[i] for i in found["exchange_ids"])
    assert (reference["target"], amplified["target"]) == ("baseline", "candidate")
    assert amplified["url"] == reference["url"] == f"/api/items?limit={largest}"
    assert "superlinear" in (tmp_path / "run" / "summary.md").read_text()


def test_without_a_live_baseline_a_quadratic_slope_is_flagged_not_compared(
    tmp_path: Path,
) -> None:
    with service(quadratic=True) as candidate:
        _, report = _run(tmp_path, candidate.url)
    (found,) = probe_report(report, "scale")["findings"]
    assert found["kind"] == "superlinear"
    assert "not compared" in found["message"]
    assert found["alone_value"] is None
    assert found["concurrent_value"]["slope"] >= 1.5


@pytest.mark.parametrize("baseline", [True, False], ids=["live-baseline", "recorded-baseline"])
def test_slow_linear_constant_and_clean_endpoints_are_not_flagged(
    tmp_path: Path, baseline: bool
) -> None:
    paths = ("/api/items", "/api/slow", "/api/constant")
    with service() as candidate, service() as base:
        flags = ["--baseline", base.url] if baseline else []
        _, report = _run(tmp_path, candidate.url, *flags, paths=paths)
        posts = [a for s in (candidate, base) for a in s.arrivals if a.method != "GET"]
    probe = probe_report(report, "scale")
    assert probe["findings"] == []
    assert probe["endpoints"] == 3
    reasons = {u["location"]: u["reason"] for u in probe["unverified"]}
    assert reasons == {
        "GET /api/plain/{id}": "no_size_parameter",
        "POST /api/batch": "mutating_not_allowed",
    }
    assert posts == []
    # Each seed at 3 sizes, 3 times, on each endpoint.
    assert probe["sent"]["candidate"] == 3 * 3 * 3 * 3


def test_a_500_at_x16_where_the_baseline_answered_is_a_new_error(tmp_path: Path) -> None:
    with service(breaks=True) as candidate, service() as baseline:
        code, report = _run(
            tmp_path, candidate.url, "--baseline", baseline.url, paths=("/api/boom",)
        )
    (found,) = probe_report(report, "scale")["findings"]
    assert found["kind"] == "new_error"
    assert found["location"] == "limit"
    assert "500 at limit=640 (x16" in found["message"]
    assert "the baseline answered 200" in found["message"]
    assert (found["alone"]["status"], found["concurrent"]["status"]) == (200, 500)
    assert code == 1
    assert any("new error" in r for r in report["gate"]["reasons"])


def test_sizes_are_capped(tmp_path: Path) -> None:
    with service() as candidate, service() as baseline:
        _run(tmp_path, candidate.url, "--baseline", baseline.url, "--probe-scale-max", "100")
        received = (_largest(candidate, "/api/items"), _largest(baseline, "/api/items"))
    assert received == (100, 100)


def test_a_baseline_as_quadratic_as_the_candidate_is_no_finding(tmp_path: Path) -> None:
    with service(quadratic=True) as candidate, service(quadratic=True) as baseline:
        _, report = _run(tmp_path, candidate.url, "--baseline", baseline.url)
    assert probe_report(report, "scale")["findings"] == []


def test_body_arrays_are_amplified_only_with_allow_mutating(tmp_path: Path) -> None:
    with service() as candidate:
        _, report = _run(tmp_path, candidate.url, "--allow-mutating")
        lengths = sorted(
            {len(orjson.loads(a.body)["items"]) for a in candidate.arrivals if a.method == "POST"}
        )
    assert lengths == [3, 12, 48]
    assert "POST /api/batch" not in {
        u["location"] for u in probe_report(report, "scale")["unverified"]
    }


def test_a_failing_target_stops_the_probe_with_the_reason(tmp_path: Path) -> None:
    with aserve(breaks_after(6)) as candidate:
        flags = ("--fail-on", "none", "--repeat-sample", "0")  # the replay sends 6 exactly
        _, report = _run(tmp_path, candidate.url, *flags, paths=("/api/items",))
        sent = len(candidate.arrivals)
    probe = probe_report(report, "scale")
    assert probe["stopped"] and "stopped early" in probe["stopped"][0]
    # The replay's 6, then two rounds of 9 (the rule judges after 10 requests), no more.
    assert sent - 6 == 2 * 3 * 3
