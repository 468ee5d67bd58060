"""Send what was recorded: the recorded Accept-Encoding reaches the targets as it was, and
a body that crossed the wire compressed compares equal to the same body sent plain."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from shadowtape.diff.analyze import analyze
from shadowtape.replay import read_results, replay
from tests.replay.aserver import Arrival, aserve
from tests.replay.helpers import ex, write_tape
from tests.servers import Reply

pytestmark = pytest.mark.e2e

DOC = json.dumps({"items": [{"id": i, "name": f"item {i}"} for i in range(50)]}).encode()


def _accepts_gzip(a: Arrival) -> bool:
    value = next((v for n, v in a.headers if n.lower() == "accept-encoding"), "")
    return "gzip" in value.lower()


async def negotiating(a: Arrival) -> Reply:
    """Compresses whenever the client accepts gzip, as most servers do."""
    if _accepts_gzip(a):
        return Reply(200, [("Content-Type", "application/json"), ("Content-Encoding", "gzip"),
                           ("Vary", "Accept-Encoding")], gzip.compress(DOC))  # fmt: skip
    return Reply(200, [("Content-Type", "application/json"), ("Vary", "Accept-Encoding")], DOC)


async def always_gzip(_: Arrival) -> Reply:
    return Reply(200, [("Content-Type", "application/json"), ("Content-Encoding", "gzip"),
                       ("Vary", "Accept-Encoding")], gzip.compress(DOC))  # fmt: skip


async def never_gzip(_: Arrival) -> Reply:
    return Reply(200, [("Content-Type", "application/json"), ("Vary", "Accept-Encoding")], DOC)


def _tape(tmp_path: Path, accept: str, count: int = 6) -> Path:
    return write_tape(
        tmp_path / "tape",
        [
            ex("/api/items", at=i * 0.01, headers=[("Accept-Encoding", accept)])
            for i in range(count)
        ],
    )


def test_a_recorded_identity_reaches_a_compressing_server_as_identity(tmp_path: Path) -> None:
    tape = _tape(tmp_path, "identity")
    with aserve(negotiating) as baseline, aserve(negotiating) as candidate:
        run_dir = replay(tape, candidate=candidate.url, baseline=baseline.url, out=tmp_path / "run")
        sent = [a.headers for a in baseline.arrivals + candidate.arrivals]
    assert len(sent) == 12
    for headers in sent:
        assert [v for n, v in headers if n.lower() == "accept-encoding"] == ["identity"]
    bodies = [
        body
        for batch in read_results(run_dir, columns=["baseline_body", "candidate_body"])
        for column in batch.columns
        for body in column.to_pylist()
    ]
    assert bodies == [DOC] * 12


def test_a_baseline_that_gzips_and_a_candidate_that_does_not_compare_equal(
    tmp_path: Path,
) -> None:
    tape = _tape(tmp_path, "gzip, deflate")
    with aserve(always_gzip) as baseline, aserve(never_gzip) as candidate:
        run_dir = replay(tape, candidate=candidate.url, baseline=baseline.url, out=tmp_path / "run")
    # Stored decoded, whatever the encoding on the wire.
    batch = next(iter(read_results(run_dir, columns=["baseline_body", "candidate_body"])))
    assert batch.column(0).to_pylist() == batch.column(1).to_pylist() == [DOC] * 6
    analysis = analyze([run_dir])
    (endpoint,) = analysis.endpoints.values()
    assert endpoint.compared == 6
    assert endpoint.ab == {}, endpoint.ab
