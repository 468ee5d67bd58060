"""The shapes probe end to end: `shadowtape replay --probe shapes` against real loopback
services; a page past the end and a mangled non-ASCII name flagged, a clean build (random
ids and timestamps included) not, the cap and the safety rules held."""

from __future__ import annotations

import random
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qsl

import orjson
import pytest

from shadowtape.probe import shapes
from shadowtape.probe.sample import Seed
from tests.probe.support import FakeTarget, fake_findings, probe_report, replay
from tests.replay.aserver import Arrival, AsyncServer, Handler, aserve
from tests.replay.helpers import ex, write_tape
from tests.servers import Reply

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # as tests/commands/
]

JSON = [("Content-Type", "application/json")]
#: Three pages of items; the recording reads pages 1 to 3.
PAGES = 3
ITEMS = [ex("/api/items", at=i * 0.01, query=f"page={i}") for i in range(1, PAGES + 1)]
GREET = [
    ex("/api/greet", at=0.1 + i * 0.01, query=f"name={n}") for i, n in enumerate(["ada", "bob"])
]
RANDOM = [ex(f"/api/random/{i}", at=0.2 + i * 0.01) for i in range(1, 4)]
ORDERS = [
    ex(
        "/api/orders",
        method="POST",
        at=0.3 + i * 0.01,
        body=b'{"sku":%d,"customer":{"name":"ada"}}' % i,
        headers=[("Content-Type", "application/json")],
    )
    for i in range(1, 3)
]


def handler(*, crashes_past_the_end: bool = False, mangles: bool = False) -> Handler:
    async def handle(arrival: Arrival) -> Reply:
        path, _, query = arrival.path.partition("?")
        params = dict(parse_qsl(query, keep_blank_values=True))
        parts = path.strip("/").split("/")
        if path == "/api/items":
            raw = params.get("page", "1")
            if not raw.lstrip("-").isdigit() or int(raw) < 1:
                return Reply(400, JSON, b'{"error":"bad page"}')
            page = int(raw)
            if page > PAGES and crashes_past_the_end:
                return Reply(500, JSON, b'{"error":"IndexError"}')
            items = [page * 10 + i for i in range(3)] if page <= PAGES else []
            return Reply(200, JSON, orjson.dumps({"page": page, "items": items}))
        if path == "/api/greet":
            name = params.get("name", "")
            if mangles:
                name = name.encode("utf-8").decode("latin-1")
            return Reply(200, JSON, orjson.dumps({"greeting": f"hello {name}"}))
        if parts[:2] == ["api", "random"]:
            ident = parts[2] if len(parts) > 2 else ""
            body = {"id": ident, "token": str(uuid.uuid4()), "at": time.time()}
            return Reply(200, JSON, orjson.dumps(body))
        if path == "/api/orders":
            try:
                doc = orjson.loads(arrival.body)
            except orjson.JSONDecodeError:
                return Reply(400, JSON, b'{"error":"bad json"}')
            error = {"error": "bad order", "request_id": str(uuid.uuid4())}
            if not isinstance(doc, dict) or not isinstance(doc.get("sku"), int):
                return Reply(422, JSON, orjson.dumps(error))
            return Reply(201, JSON, orjson.dumps({"order": str(uuid.uuid4()), "sku": doc["sku"]}))
        return Reply(404, JSON, b'{"error":"not found"}')

    return handle


def _run(tmp_path: Path, candidate: str, *flags: str) -> tuple[int, dict[str, object]]:
    tape = write_tape(tmp_path / "tape", [*ITEMS, *GREET, *RANDOM, *ORDERS])
    return replay(tape, tmp_path / "run", candidate, "shapes", *flags)


def _findings(report: dict[str, object]) -> dict[tuple[str, str], dict[str, object]]:
    return {(f["endpoint"], f["location"]): f for f in probe_report(report, "shapes")["findings"]}


def _against_clean(tmp_path: Path, **planted: bool) -> tuple[int, dict[str, object]]:
    """The shapes probe on a candidate with ``planted`` faults beside a clean baseline."""
    with aserve(handler(**planted)) as candidate, aserve(handler()) as baseline:
        return _run(tmp_path, candidate.url, "--baseline", baseline.url)


def test_a_page_past_the_end_that_crashes_the_candidate_is_a_shape(tmp_path: Path) -> None:
    code, report = _against_clean(tmp_path, crashes_past_the_end=True)
    assert code == 1
    found = _findings(report)
    assert set(found) == {("GET /api/items", "query page")}
    shape = found["GET /api/items", "query page"]
    assert shape["kind"] == "shape" and shape["target"] == "candidate"
    message = str(shape["message"])
    assert message.startswith("page=4, past the last page seen (3): 500 on the candidate")
    assert "200 with an empty list on the baseline" in message
    assert any("shape" in r and "query page" in r for r in report["gate"]["reasons"])
    assert "shape" in report["gate"]["fail_on"]
    assert "[baseline, candidate:" in (tmp_path / "run" / "summary.md").read_text()


def test_a_candidate_that_mangles_non_ascii_names_is_a_shape(tmp_path: Path) -> None:
    code, report = _against_clean(tmp_path, mangles=True)
    assert code == 1
    found = _findings(report)
    assert set(found) == {("GET /api/greet", "query name")}
    shape = found["GET /api/greet", "query name"]
    assert str(shape["message"]).startswith("name=Łukasz, a non-ASCII string: $.greeting was")
    assert shape["alone_value"] == "hello Łukasz"
    assert shape["concurrent_value"] != "hello Łukasz"
    assert shape["count"] >= 4  # every non-ASCII value, not the ASCII ones


@pytest.mark.parametrize("mutating", [False, True], ids=["safe-only", "allow-mutating"])
def test_a_clean_candidate_like_the_baseline_is_not_flagged(tmp_path: Path, mutating: bool) -> None:
    flags = ["--allow-mutating"] if mutating else []
    with (
        aserve(handler()) as candidate,
        aserve(handler()) as baseline,
    ):
        code, report = _run(tmp_path, candidate.url, "--baseline", baseline.url, *flags)
        random = [a for a in candidate.arrivals if a.path.startswith("/api/random/")]
    probe = probe_report(report, "shapes")
    assert probe["findings"] == []
    assert code == 0 and report["gate"]["passed"] is True
    assert len(random) > len(RANDOM) + 2  # the random endpoint was probed, not left out
    assert probe["endpoints"] == (4 if mutating else 3)


def test_mutating_requests_are_not_mutated_without_the_flag(tmp_path: Path) -> None:
    with (
        aserve(handler()) as candidate,
        aserve(handler()) as baseline,
    ):
        _, report = _run(tmp_path, candidate.url, "--baseline", baseline.url)
        posts = [a for s in (candidate, baseline) for a in s.arrivals if a.method != "GET"]
    assert posts == []
    reasons = {u["location"]: u["reason"] for u in probe_report(report, "shapes")["unverified"]}
    assert reasons == {"POST /api/orders": "mutating_not_allowed"}


def test_at_most_n_mutants_per_endpoint_are_sent(tmp_path: Path) -> None:
    with (
        aserve(handler()) as candidate,
        aserve(handler()) as baseline,
    ):
        _, report = _run(tmp_path, candidate.url, "--baseline", baseline.url, "--probe-shapes", "3")
        items = _sent(candidate, "/api/items")
    # The replay's 3 pages, each seed the mutants come from twice (one: page=1), 3 mutants.
    assert items == len(ITEMS) + 2 + 3
    probe = probe_report(report, "shapes")
    assert probe["settings"] == {"sample": 20, "shapes": 3, "mutants": 9}


def test_a_recorded_baseline_sends_nothing_and_says_why(tmp_path: Path) -> None:
    with aserve(handler(crashes_past_the_end=True)) as candidate:
        _, report = _run(tmp_path, candidate.url, "--repeat-sample", "0")
        sent = len(candidate.arrivals)
    probe = probe_report(report, "shapes")
    assert sent == len(ITEMS) + len(GREET) + len(RANDOM)  # the replay's own, nothing more
    assert probe["findings"] == []
    assert [u["reason"] for u in probe["unverified"]] == ["needs_live_baseline"]


def test_only_the_named_targets_receive_anything(tmp_path: Path) -> None:
    with (
        aserve(handler()) as decoy,
        aserve(handler()) as candidate,
        aserve(handler()) as baseline,
    ):
        where = f"127.0.0.1:{decoy.port}"
        recorded = [
            ex("/api/items", at=i * 0.01, query=f"page={i}", host=where, headers=[("Host", where)])
            for i in range(1, 4)
        ]
        tape = write_tape(tmp_path / "tape", recorded)
        replay(tape, tmp_path / "run", candidate.url, "shapes", "--baseline", baseline.url)
        hosts = {v for a in candidate.arrivals for n, v in a.headers if n.lower() == "host"}
        probed = len(candidate.arrivals)
    assert decoy.arrivals == []
    assert hosts == {f"127.0.0.1:{candidate.port}"}
    assert probed > len(recorded)


def _sent(server: AsyncServer, path: str) -> int:
    return sum(1 for a in server.arrivals if a.path.split("?")[0] == path)


def test_a_candidate_failing_most_probe_requests_is_stopped_with_the_reason(
    tmp_path: Path,
) -> None:
    replayed = len(ITEMS) + len(GREET) + len(RANDOM)

    async def breaks_after_the_replay(arrival: Arrival) -> Reply | None:
        if len(broken.arrivals) <= replayed:
            return await handler()(arrival)
        return Reply(503, JSON, b"{}")

    with (
        aserve(breaks_after_the_replay) as broken,
        aserve(handler()) as baseline,
    ):
        _, report = _run(tmp_path, broken.url, "--baseline", baseline.url, "--fail-on", "none")
        sent = len(broken.arrivals) - replayed
    probe = probe_report(report, "shapes")
    assert probe["stopped"] and "stopped early" in probe["stopped"][0]
    assert sent < 20  # stopped on the first endpoint, not 3 endpoints of mutants
    assert "target_failing" in {u["reason"] for u in probe["unverified"]}


# A candidate failure is confirmed before it is a finding, on fake targets (no sockets).


class _Search(FakeTarget):
    """``GET /search``: 200 with the query echoed; ``flaky`` of all requests answered with
    a transient 503; when ``crashes_past``, a 500 for any ``page`` past it."""

    def __init__(
        self, role: str, rng: random.Random, flaky: float = 0.0, crashes_past: int | None = None
    ) -> None:
        super().__init__(role)
        self.rng, self.flaky, self.crashes_past = rng, flaky, crashes_past

    def answer(self, seed: Seed, stage: str) -> tuple[int, object]:
        page = dict(parse_qsl(seed.query)).get("page", "1")
        status, body = 200, {"q": seed.query, "items": []}
        if self.crashes_past is not None and page.isdigit() and int(page) > self.crashes_past:
            status, body = 500, {"error": "IndexError"}
        if self.rng.random() < self.flaky:
            status, body = 503, {"error": "busy"}
        return status, body


SEARCHES = [
    Seed(f"s{i}", "GET", "h", "/search", f"q=a{i}&page={i}&limit=20&sort=name", (), b"")
    for i in range(1, 4)
]


def _shapes(candidate: _Search, baseline: _Search) -> list[dict[str, object]]:
    return fake_findings(
        shapes.run,
        "GET /search",
        SEARCHES,
        (candidate, baseline),
        cap=40,
        sample_size=3,
        allow_mutating=False,
    )


def test_a_candidate_with_transient_503s_is_not_a_shape() -> None:
    rng = random.Random(0)
    for _ in range(20):
        assert _shapes(_Search("candidate", rng, flaky=0.05), _Search("baseline", rng)) == []


def test_a_failure_that_repeats_is_still_a_shape_on_a_flaky_candidate() -> None:
    rng = random.Random(1)
    for _ in range(5):
        candidate = _Search("candidate", rng, flaky=0.05, crashes_past=3)
        found = _shapes(candidate, _Search("baseline", rng))
        assert [f["location"] for f in found] == ["query page"]
        assert str(found[0]["message"]).startswith("page=4, past the last page seen (3): 5")
