"""End to end on real loopback services (``search_service``, 2-4 ms of jitter): latency
compared per request pair, with 16 requests of one client in flight, finds +25 ms planted
on the searches with limit=500 and names them; the same traffic against a clean build
raises no latency finding."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.e2e.diff_support import Req, endpoint, live_run
from tests.e2e.search_service import search_service

# Latency under 16 in flight on a shared host: judged in the quiet timing pass.
pytestmark = [pytest.mark.e2e, pytest.mark.timing]
TOKEN = (("Authorization", "Bearer one-mobile-client"),)


def traffic(seed: int) -> list[Req]:
    """105 searches by one client, 8 of them with limit=500, in shuffled order."""
    rng = random.Random(seed)
    limits = [500] * 8 + [rng.choice((10, 20, 50)) for _ in range(97)]
    rng.shuffle(limits)
    return [Req("GET", f"/api/search?q=term{rng.randrange(30)}&limit={n}", TOKEN) for n in limits]


def test_a_slowdown_on_a_subset_is_found_and_named(tmp_path: Path) -> None:
    with search_service(slow=False) as base, search_service(slow=True) as cand:
        report = live_run(tmp_path / "run", base, cand, traffic(1), in_flight=16)
    search = endpoint(report, "GET /api/search")
    latency = {f["location"]: f for f in search["findings"] if f["kind"] == "latency"}
    # The subset is named; the endpoint's p95 (8% of its requests) may rise too, its p50 not.
    assert "latency:p50 limit=500" in latency, search["findings"]
    assert set(latency) <= {"latency:p50 limit=500", "latency:p95"}
    message = latency["latency:p50 limit=500"]["message"]
    assert message.startswith("limit=500: +2") and "ms at p50, 8 of 105 requests" in message
    assert search["verdict"] == "regression"


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_a_clean_build_with_real_jitter_raises_no_latency_finding(
    tmp_path: Path, seed: int
) -> None:
    with search_service(slow=False) as base, search_service(slow=False) as cand:
        report = live_run(tmp_path / "run", base, cand, traffic(seed), in_flight=16)
    search = endpoint(report, "GET /api/search")
    assert search["findings"] == [] and search["verdict"] == "ok", search
