"""The duplicates probe end to end: `shadowtape replay --probe duplicates` against real
loopback services: a candidate that charges twice on a retried Idempotency-Key flagged,
a clean build (random ids and all) not, nothing mutating sent without the flag."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from pathlib import Path

import orjson
import pytest

from shadowtape.probe import duplicates
from shadowtape.probe.sample import Seed
from shadowtape.report import read_report
from tests.probe.support import (
    FakeTarget,
    fake_findings,
    probe_exchanges,
    probe_report,
    replay,
)
from tests.replay.aserver import Arrival, AsyncServer, Handler, aserve
from tests.replay.helpers import ex, write_tape
from tests.servers import Reply

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # as tests/commands/
]

JSON = [("Content-Type", "application/json")]
CHARGES = [
    ex(
        "/api/charges",
        method="POST",
        at=i * 0.01,
        headers=[("Idempotency-Key", f"charge-{i}"), ("Content-Type", "application/json")],
        body=b'{"amount":%d}' % (i + 1),
    )
    for i in range(3)
]
NOTES = [
    ex("/api/notes", method="POST", at=0.1 + i * 0.01, body=b'{"text":"n%d"}' % i) for i in range(2)
]
ITEMS = [ex(f"/api/items/{i}", at=0.2 + i * 0.01) for i in range(1, 4)]


def payments(*, honours_keys: bool, racy: bool = False, adds_up: bool = False) -> Handler:
    """``POST /api/charges`` charges (a new id each time), or, when ``honours_keys``,
    answers a key it has seen with the stored answer and ``Idempotent-Replayed: true``
    (when ``racy``, checking the key before an await and storing it after: two deliveries
    at once both charge; when ``adds_up``, the stored answer's amount grows with each
    delivery: same id, charged again). ``POST /api/notes`` creates a note (a new id, the
    time) in every build."""
    stored: dict[str, bytes] = {}

    async def handle(arrival: Arrival) -> Reply:
        path = arrival.path.split("?", 1)[0]
        if path == "/api/charges":
            key = next((v for n, v in arrival.headers if n.lower() == "idempotency-key"), "")
            if honours_keys and key in stored and adds_up:
                doc = orjson.loads(stored[key])
                doc["amount"] += orjson.loads(arrival.body)["amount"]
                stored[key] = orjson.dumps(doc)
                return Reply(200, [*JSON, ("Idempotent-Replayed", "true")], stored[key])
            if honours_keys and key in stored:
                return Reply(200, [*JSON, ("Idempotent-Replayed", "true")], stored[key])
            if racy:
                await asyncio.sleep(0.02)
            amount = orjson.loads(arrival.body)["amount"]
            body = orjson.dumps({"id": str(uuid.uuid4()), "amount": amount, "at": time.time()})
            if key:
                stored[key] = body
            return Reply(201, JSON, body)
        if path == "/api/notes":
            body = orjson.dumps({"id": str(uuid.uuid4()), "at": time.time()})
            return Reply(201, JSON, body)
        if path.startswith("/api/items/"):
            return Reply(200, JSON, b'{"item":true}')
        return Reply(404, JSON, b"{}")

    return handle


def _run(tmp_path: Path, candidate: str, *flags: str) -> tuple[int, dict[str, object]]:
    tape = write_tape(tmp_path / "tape", [*CHARGES, *NOTES, *ITEMS])
    return replay(tape, tmp_path / "run", candidate, "duplicates", "--concurrency", "1", *flags)


def _posts(server: AsyncServer, path: str = "/api/") -> int:
    return sum(1 for a in server.arrivals if a.method != "GET" and a.path.startswith(path))


def _against_honest(tmp_path: Path, **candidate: bool) -> tuple[int, dict[str, object]]:
    """The duplicates probe, mutating requests allowed, on a candidate built with
    ``candidate`` beside a baseline that honours Idempotency-Keys."""
    with (
        aserve(payments(**candidate)) as cand,
        aserve(payments(honours_keys=True)) as baseline,
    ):
        return _run(tmp_path, cand.url, "--baseline", baseline.url, "--allow-mutating")


def test_a_candidate_that_charges_twice_is_flagged(tmp_path: Path) -> None:
    code, report = _against_honest(tmp_path, honours_keys=False)
    assert code == 1
    probe = probe_report(report, "duplicates")
    found = probe["findings"]
    assert isinstance(found, list) and found, "the duplicate charge was not found"
    assert {f["endpoint"] for f in found} == {"POST /api/charges"}
    assert {f["kind"] for f in found} == {"duplicate_delivery"}
    assert {f["target"] for f in found} == {"candidate"}
    in_a_row = next(f for f in found if f["location"] == "in a row: second delivery")
    assert "created a second resource" in in_a_row["message"]
    assert in_a_row["baseline_value"]["same_resource"] is True
    assert in_a_row["candidate_value"]["same_resource"] is False
    assert in_a_row["count"] == len(CHARGES)
    assert in_a_row["compared"] is True
    # Both deliveries on each side, in the exchange log.
    assert len(in_a_row["exchange_ids"]) == 4
    ids = {r["exchange_id"]: r for r in probe_exchanges(tmp_path / "run")}
    rows = [ids[i] for i in in_a_row["exchange_ids"]]
    assert [(r["target"], r["round"]) for r in rows] == [
        ("baseline", "first"),
        ("baseline", "second"),
        ("candidate", "first"),
        ("candidate", "second"),
    ]
    assert any("duplicate" in r or "retries" in r for r in report["gate"]["reasons"])
    # Every format shows it.
    typed = read_report(tmp_path / "run" / "report.json")
    assert typed.probes is not None and typed.probes[0].findings[0].gated
    assert "probe duplicates" in (tmp_path / "run" / "summary.md").read_text()
    assert "duplicate_delivery" in (tmp_path / "run" / "junit.xml").read_text()
    assert "second delivery" in (tmp_path / "run" / "report.html").read_text()
    reasons = {u["location"]: u["reason"] for u in probe["unverified"]}
    assert reasons == {"GET /api/items/{id}": "no_mutating_requests"}


def test_a_key_check_that_races_is_flagged_at_once_only(tmp_path: Path) -> None:
    _, report = _against_honest(tmp_path, honours_keys=True, racy=True)
    found = probe_report(report, "duplicates")["findings"]
    assert isinstance(found, list)
    assert {(f["endpoint"], f["location"]) for f in found} == {
        ("POST /api/charges", "at once: second delivery")
    }


def test_a_second_delivery_that_adds_up_in_the_body_is_flagged(tmp_path: Path) -> None:
    _, report = _against_honest(tmp_path, honours_keys=True, adds_up=True)
    found = probe_report(report, "duplicates")["findings"]
    assert isinstance(found, list)
    # Same status, same id, same marker: only the body tells, at a location the first
    # deliveries agree on (the ids and times they differ in are left out).
    assert {f["location"] for f in found} == {"in a row: $.amount", "at once: $.amount"}
    assert found[0]["baseline_value"] == 1 and found[0]["candidate_value"] == 2


def test_a_build_identical_to_the_baseline_is_not_flagged(tmp_path: Path) -> None:
    with (
        aserve(payments(honours_keys=True)) as candidate,
        aserve(payments(honours_keys=True)) as baseline,
    ):
        code, report = _run(
            tmp_path,
            candidate.url,
            "--baseline",
            baseline.url,
            "--allow-mutating",
            "--fail-on",
            "duplicate_delivery",
        )
        probed = _posts(candidate, "/api/notes")
    probe = probe_report(report, "duplicates")
    assert probe["findings"] == []
    assert code == 0 and report["gate"]["passed"] is True
    # Each seed: twice in a row and twice at once, after the replay's own.
    assert probed == len(NOTES) + 4 * len(NOTES)
    assert probe["endpoints"] == 2


def test_nothing_mutating_is_sent_without_the_flag(tmp_path: Path) -> None:
    with (
        aserve(payments(honours_keys=False)) as candidate,
        aserve(payments(honours_keys=True)) as baseline,
    ):
        _, report = _run(tmp_path, candidate.url, "--baseline", baseline.url)
        posts = _posts(candidate) + _posts(baseline)
    assert posts == 0
    probe = probe_report(report, "duplicates")
    assert probe["findings"] == [] and probe["endpoints"] == 0
    reasons = {u["location"]: u["reason"] for u in probe["unverified"]}
    assert reasons == {
        "POST /api/charges": "mutating_not_allowed",
        "POST /api/notes": "mutating_not_allowed",
        "GET /api/items/{id}": "no_mutating_requests",
    }


def test_a_recorded_baseline_judges_keyed_requests_alone(tmp_path: Path) -> None:
    with aserve(payments(honours_keys=False)) as candidate:
        _, report = _run(tmp_path, candidate.url, "--allow-mutating")
    probe = probe_report(report, "duplicates")
    assert probe["targets"] == ["candidate"]
    found = probe["findings"]
    assert isinstance(found, list)
    assert {(f["endpoint"], f["location"]) for f in found} == {
        ("POST /api/charges", "in a row: second delivery"),
        ("POST /api/charges", "at once: second delivery"),
    }
    assert all(f["compared"] is False and "not compared" in f["message"] for f in found)
    assert found[0]["count"] == len(CHARGES)
    reasons = {u["location"]: u["reason"] for u in probe["unverified"]}
    assert reasons["POST /api/notes"] == "needs_live_baseline"


def test_a_recorded_baseline_does_not_flag_a_candidate_that_honours_keys(
    tmp_path: Path,
) -> None:
    with aserve(payments(honours_keys=True)) as candidate:
        _, report = _run(tmp_path, candidate.url, "--allow-mutating")
    assert probe_report(report, "duplicates")["findings"] == []


def test_the_probe_sends_only_to_the_named_targets(tmp_path: Path) -> None:
    # The tape names a listening host (the decoy) in its requests' host and Host header.
    with aserve(payments(honours_keys=True)) as decoy, aserve(payments(honours_keys=True)) as cand:
        where = f"127.0.0.1:{decoy.port}"
        recorded = [
            ex(
                "/api/charges",
                method="POST",
                at=i * 0.01,
                host=where,
                headers=[("Host", where), ("Idempotency-Key", f"k{i}")],
                body=b'{"amount":%d}' % i,
            )
            for i in range(2)
        ]
        tape = write_tape(tmp_path / "tape", recorded)
        replay(tape, tmp_path / "run", cand.url, "duplicates", "--allow-mutating")
        hosts = {v for a in cand.arrivals for n, v in a.headers if n.lower() == "host"}
        probed = len(cand.arrivals)
    assert decoy.arrivals == []
    assert hosts == {f"127.0.0.1:{cand.port}"}
    assert probed == 2 + 4 * 2


# The rules for a pair sent at once, on fake targets (no sockets): which delivery wins is
# timing, so only a second resource tells a candidate apart.


class _Keyed(FakeTarget):
    """A keyed ``POST``: the first delivery of a key creates (201, a new id); a duplicate
    sent at once is told 409 "in progress" or gets the stored answer, at random (like a
    Stripe-style service), or, when ``doubles``, creates again."""

    def __init__(self, role: str, rng: random.Random, *, doubles: bool = False) -> None:
        super().__init__(role)
        self.rng, self.doubles = rng, doubles
        self.keys: dict[str, dict[str, object]] = {}

    def answer(self, seed: Seed, stage: str) -> tuple[int, object]:
        key = dict((k.lower(), v) for k, v in seed.headers)["idempotency-key"]
        created = {"id": f"ch_{self.rng.randrange(10**9)}"}
        if key not in self.keys or (stage == "at_once" and self.doubles):
            self.keys.setdefault(key, created)
            return 201, created
        if stage == "at_once" and self.rng.random() < 0.5:
            return 409, {"error": "request in progress"}
        return 200, self.keys[key]


KEYED = [
    Seed(f"s{i}", "POST", "h", "/charges", "", (("Idempotency-Key", f"k{i}"),), b'{"a":1}')
    for i in range(5)
]


def _duplicates(candidate: _Keyed, baseline: _Keyed) -> list[dict[str, object]]:
    return fake_findings(
        duplicates.run,
        "POST /charges",
        KEYED,
        (candidate, baseline),
        sample_size=5,
        allow_mutating=True,
    )


def test_in_progress_or_replay_at_random_on_identical_targets_is_not_flagged() -> None:
    rng = random.Random(0)
    for _ in range(20):
        assert _duplicates(_Keyed("candidate", rng), _Keyed("baseline", rng)) == []


def test_a_second_resource_created_at_once_is_flagged_truthfully() -> None:
    rng = random.Random(1)
    for _ in range(5):
        found = _duplicates(_Keyed("candidate", rng, doubles=True), _Keyed("baseline", rng))
        assert [f["location"] for f in found] == ["at once: second delivery"]
        message = str(found[0]["message"])
        assert "created a second resource" in message
        # Both answers of each pair, as they were: the candidate's two 201s with two ids.
        said = message.split("candidate ", 1)[1]
        assert said.count("201 with id") == 2
        baseline = message.split("baseline ", 1)[1].split(", candidate")[0]
        assert baseline.count("201 with id") == 1
        assert "409" in baseline or "200 with id" in baseline


def test_an_in_progress_answer_is_not_said_to_have_made_a_resource() -> None:
    rng = random.Random(2)
    told: list[object] = []
    for _ in range(10):
        found = _duplicates(_Keyed("candidate", rng, doubles=True), _Keyed("baseline", rng))
        told += [f["baseline_value"] for f in found]
    in_progress = [v for v in told if isinstance(v, dict) and v["status"] == 409]
    assert in_progress, "the baseline never answered 409: the test proves nothing"
    assert all(v["same_resource"] is None for v in in_progress)
