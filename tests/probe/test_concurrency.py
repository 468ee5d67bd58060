"""The concurrency probe end to end: `shadowtape replay --probe concurrency` against real
loopback services, a planted race flagged, clean and random endpoints not, safely."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from pathlib import Path
from typing import cast

import orjson
import pytest

from shadowtape.probe import concurrency
from shadowtape.probe.outcome import Outcome
from shadowtape.probe.sample import EndpointSample, Seed
from shadowtape.probe.sender import TargetSender
from shadowtape.replay.http.client import Reply as Got
from shadowtape.report import read_report
from tests.probe.service import service
from tests.probe.support import breaks_after, probe_exchanges, probe_report, replay
from tests.replay.aserver import Arrival, AsyncServer, Handler, aserve
from tests.replay.helpers import ex, write_tape
from tests.servers import Reply

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # as tests/commands/
]

JSON = (("Content-Type", "application/json"),)
USERS = [ex(f"/api/users/{i}", at=i * 0.01) for i in range(1, 9)]
RANDOM = [ex(f"/api/random/{i}", at=0.1 + i * 0.01) for i in range(1, 9)]
ORDERS = [
    ex("/api/orders", method="POST", at=0.2 + i * 0.01, body=b'{"sku":%d}' % i) for i in range(3)
]
ONLY = [ex("/api/only/1", at=0.3)]


def _tape(tmp_path: Path) -> Path:
    return write_tape(tmp_path / "tape", [*USERS, *RANDOM, *ORDERS, *ONLY])


def _run(tmp_path: Path, candidate: str, *flags: str) -> tuple[int, dict[str, object]]:
    # One at a time: the race is left for the probe to provoke.
    flags = ("--concurrency", "1", "--probe-concurrency", "8", *flags)
    return replay(_tape(tmp_path), tmp_path / "run", candidate, "concurrency", *flags)


def _findings(report: dict[str, object]) -> list[dict[str, object]]:
    return list(probe_report(report, "concurrency")["findings"])


def _probe_arrivals(server: AsyncServer, path: str) -> int:
    return sum(1 for a in server.arrivals if a.path.startswith(path))


def test_a_planted_race_is_flagged_on_the_candidate(tmp_path: Path) -> None:
    with service(racy=True) as candidate, service(racy=False) as baseline:
        code, report = _run(tmp_path, candidate.url, "--baseline", baseline.url)
    assert code == 1
    found = _findings(report)
    assert found, "the race was not found"
    assert {f["endpoint"] for f in found} == {"GET /api/users/{id}"}
    assert {f["target"] for f in found} == {"candidate"}
    race = found[0]
    assert race["kind"] == "race"
    assert not race["in_baseline"]
    assert race["alone_value"] != race["concurrent_value"]
    assert len(race["exchange_ids"]) == 2
    assert any("race" in r for r in report["gate"]["reasons"])
    assert "race" in report["gate"]["fail_on"]
    # Both answers of the example are in the exchange log.
    ids = {r["exchange_id"]: r for r in probe_exchanges(tmp_path / "run")}
    alone, at_once = (ids[i] for i in race["exchange_ids"])
    assert (alone["round"], at_once["round"]) == ("alone", "concurrent")
    # The report reads back with its probes, and every format shows them.
    typed = read_report(tmp_path / "run" / "report.json")
    assert typed.probes is not None and typed.probes[0].findings[0].gated
    assert "Probes" in (tmp_path / "run" / "summary.md").read_text()
    assert "probe concurrency" in (tmp_path / "run" / "junit.xml").read_text()
    assert 'id="probes"' in (tmp_path / "run" / "report.html").read_text()


def test_a_recorded_baseline_probes_the_candidate_alone(tmp_path: Path) -> None:
    with service(racy=True) as candidate:
        _, report = _run(tmp_path, candidate.url)
    found = _findings(report)
    assert {(f["endpoint"], f["target"]) for f in found} == {("GET /api/users/{id}", "candidate")}
    assert report["probes"][0]["targets"] == ["candidate"]


@pytest.mark.parametrize("baseline", [True, False], ids=["live-baseline", "recorded-baseline"])
def test_a_clean_build_is_not_flagged_even_where_answers_are_random(
    tmp_path: Path, baseline: bool
) -> None:
    with service(racy=False) as candidate, service(racy=False) as base:
        flags = ["--baseline", base.url] if baseline else []
        _, report = _run(tmp_path, candidate.url, *flags, "--fail-on", "race")
        probed = _probe_arrivals(candidate, "/api/random/")
    assert _findings(report) == []
    assert report["gate"]["passed"] is True
    assert probed > len(RANDOM)  # the random endpoint was probed, not left out
    probe = report["probes"][0]
    assert probe["endpoints"] == 2
    reasons = {u["location"]: u["reason"] for u in probe["unverified"]}
    assert reasons == {
        "POST /api/orders": "mutating_not_allowed",
        "GET /api/only/{id}": "too_few_samples",
    }


def test_a_baseline_that_races_too_is_reported_as_the_baselines(tmp_path: Path) -> None:
    with service(racy=True) as candidate, service(racy=True) as baseline:
        code, report = _run(tmp_path, candidate.url, "--baseline", baseline.url)
    found = _findings(report)
    assert {f["target"] for f in found} == {"candidate", "baseline"}
    assert all(f["in_baseline"] for f in found if f["target"] == "candidate")
    assert not any("race" in r for r in report["gate"]["reasons"])
    assert code == 0


def test_mutating_requests_are_not_probed_without_the_flag(tmp_path: Path) -> None:
    with service(racy=False) as candidate, service(racy=False) as baseline:
        _run(tmp_path, candidate.url, "--baseline", baseline.url)
        posts = [a for s in (candidate, baseline) for a in s.arrivals if a.method != "GET"]
    assert posts == []


def test_mutating_requests_are_probed_with_the_flag(tmp_path: Path) -> None:
    with service(racy=False) as candidate:
        _, report = _run(tmp_path, candidate.url, "--allow-mutating")
        posts = _probe_arrivals(candidate, "/api/orders")
    # The replay sent 3; the probe: 3 alone, 8 at once, the same 8 one at a time.
    assert posts == 3 + 3 + 8 + 8
    assert _findings(report) == []


def test_nothing_goes_to_the_recorded_host(tmp_path: Path) -> None:
    # The tape names a host that is listening (the decoy), in its requests' host and Host
    # header; the probe sends to the candidate only, with the candidate's Host.
    with service(racy=False) as decoy, service(racy=False) as candidate:
        where = f"127.0.0.1:{decoy.port}"
        recorded = [
            ex(f"/api/users/{i}", at=i * 0.01, host=where, headers=[("Host", where)])
            for i in range(1, 9)
        ]
        tape = write_tape(tmp_path / "tape", recorded)
        replay(tape, tmp_path / "run", candidate.url, "concurrency")
        hosts = {v for a in candidate.arrivals for n, v in a.headers if n.lower() == "host"}
        probed = len(candidate.arrivals)
    assert decoy.arrivals == []
    assert hosts == {f"127.0.0.1:{candidate.port}"}
    assert probed > len(recorded)


def test_a_failing_target_stops_the_probe_with_the_reason(tmp_path: Path) -> None:
    with aserve(breaks_after(20)) as candidate:
        _, report = _run(tmp_path, candidate.url, "--fail-on", "none")
        sent = len(candidate.arrivals)
    probe = report["probes"][0]
    assert probe["stopped"] and "stopped early" in probe["stopped"][0]
    # Stopped after the first endpoint: far fewer than both endpoints' rounds.
    assert sent - 20 < 2 * (8 + 8 + 8)


def _sometimes(seed: int) -> Handler:
    """A clean service whose answers vary only sometimes: one answer in ten from replica b,
    and a set of two tags in random order."""
    rng = random.Random(seed)

    async def handle(arrival: Arrival) -> Reply:
        await asyncio.sleep(0.005)
        body = {
            "path": arrival.path,
            "served_by": "b" if rng.random() < 0.1 else "a",
            "tags": rng.sample(["x", "y"], 2),
        }
        return Reply(200, [("Content-Type", "application/json")], orjson.dumps(body))

    return handle


def test_noise_that_shows_only_sometimes_is_not_a_race(tmp_path: Path) -> None:
    with aserve(_sometimes(1)) as candidate, aserve(_sometimes(2)) as baseline:
        _, report = _run(tmp_path, candidate.url, "--baseline", baseline.url, "--fail-on", "race")
    assert _findings(report) == []
    assert report["gate"]["passed"] is True


def test_overload_at_once_is_reported_as_overload_not_a_race(tmp_path: Path) -> None:
    busy = {"now": 0}

    async def sheds_load(arrival: Arrival) -> Reply:
        busy["now"] += 1
        try:
            await asyncio.sleep(0.01)
            if busy["now"] > 2:
                return Reply(503, [("Content-Type", "application/json")], b'{"error":"busy"}')
            return Reply(200, [("Content-Type", "application/json")], b'{"ok":true}')
        finally:
            busy["now"] -= 1

    with aserve(sheds_load) as candidate:
        _, report = _run(tmp_path, candidate.url, "--fail-on", "race")
    assert _findings(report) == []
    assert report["gate"]["passed"] is True
    probe = report["probes"][0]
    overloaded = {u["location"]: u for u in probe["unverified"] if u["reason"] == "overloaded"}
    assert set(overloaded) == {"GET /api/users/{id}", "GET /api/random/{id}"}
    assert "at 8 at once the candidate answered" in overloaded["GET /api/users/{id}"]["detail"]


class _Fake:
    """A target answering from a function of the seed and the round, on no socket."""

    def __init__(self, role: str, answer: Callable[[Seed, str], object]) -> None:
        self.role, self.answer, self.sent, self.stopped = role, answer, 0, None

    async def send(self, seed: Seed, *, probe: str, endpoint: str, stage: str) -> tuple[str, Got]:
        self.sent += 1
        await asyncio.sleep(0)
        body = orjson.dumps(self.answer(seed, stage))
        return f"{self.role}-{self.sent}", Got(0, 0, 200, "OK", JSON, body, len(body))

    def check(self) -> None:
        return None


def _fake_run(*senders: _Fake) -> Outcome:
    seeds = [Seed(f"s{i}", "GET", "h", "/items", f"id={i}", (), b"") for i in range(3)]
    return asyncio.run(
        concurrency.run(
            [EndpointSample("GET /items", seeds)],
            cast("list[TargetSender]", list(senders)),
            concurrency=16,
            sample_size=20,
            allow_mutating=False,
        )
    )


def test_a_baseline_race_elsewhere_does_not_excuse_the_candidates() -> None:
    def base(seed: Seed, stage: str) -> object:
        return {
            "id": seed.query,
            "balance": 100,
            "served_by": "b" if stage == "concurrent" else "a",
        }

    def cand(seed: Seed, stage: str) -> object:
        return {"id": seed.query, "balance": 90 if stage == "concurrent" else 100, "served_by": "a"}

    found = _fake_run(_Fake("candidate", cand), _Fake("baseline", base)).findings
    assert {(f["target"], f["location"], f["in_baseline"]) for f in found} == {
        ("candidate", "$.balance", False),
        ("baseline", "$.served_by", False),
    }


def test_a_baseline_race_at_the_same_location_is_shared() -> None:
    def racy(seed: Seed, stage: str) -> object:
        return {"id": seed.query, "balance": 90 if stage == "concurrent" else 100}

    found = _fake_run(_Fake("candidate", racy), _Fake("baseline", racy)).findings
    assert {(f["target"], f["location"], f["in_baseline"]) for f in found} == {
        ("candidate", "$.balance", True),
        ("baseline", "$.balance", False),
    }


def test_one_race_at_several_locations_is_one_finding() -> None:
    """Another user's record leaking in changes every field at once: one cause, one
    finding naming every location, not one finding per field."""

    def racy(seed: Seed, stage: str) -> object:
        leaked = stage == "concurrent"
        return {
            "id": "other" if leaked else seed.query,
            "name": "Other" if leaked else "Ann",
            "email": "o@x" if leaked else "a@x",
        }

    def steady(seed: Seed, stage: str) -> object:
        return {"id": seed.query, "name": "Ann", "email": "a@x"}

    found = _fake_run(_Fake("candidate", racy), _Fake("baseline", steady)).findings
    assert len(found) == 1, found
    (race,) = found
    assert race["target"] == "candidate" and not race["in_baseline"]
    assert sorted(race["locations"]) == ["$.email", "$.id", "$.name"]
    assert race["location"] in race["locations"]
    others = [p for p in race["locations"] if p != race["location"]]
    assert all(p in str(race["message"]) for p in others)
