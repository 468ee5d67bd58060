"""The streaming analysis on hand-made result rows: what becomes a finding, what is noise,
what cannot be verified. Rows go through real Parquet files in the replayer's format."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson

from shadowtape.report import analyze
from tests.trio.results import numbered_row, put, write

JSON = [("Content-Type", "application/json")]


def side(
    status: int | None = 200,
    body: Any = None,
    headers: list[tuple[str, str]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    raw = body if isinstance(body, bytes) or body is None else orjson.dumps(body)
    return {
        "status": status,
        "headers": JSON if headers is None else headers,
        "body": raw,
        "body_size": len(raw or b""),
        "body_truncated": False,
        "latency_us": 1000,
        **extra,
    }


def row(
    n: int,
    path: str,
    baseline: dict[str, Any] | None,
    candidate: dict[str, Any] | None,
    secondary: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    out = numbered_row(n, path, mode="live" if secondary else "recorded")
    for name, values in (
        ("baseline", baseline),
        ("candidate", candidate),
        ("secondary", secondary),
    ):
        put(out, name, values or {})
    out.update(extra)
    return out


def report(tmp_path: Path, rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    run = {"results_version": "1.0", "run_id": "t", "baseline": "live"}
    dirs = write(tmp_path / "run", rows, run)
    return {e["endpoint"]: e for e in analyze(dirs).to_json()["endpoints"]}


def test_noise_is_judged_by_rate_and_significance(tmp_path: Path) -> None:
    rng = random.Random(5)
    rows = []
    for n in range(400):
        flaky = {"a": rng.random() < 0.30}
        doc_b = {"x": 1, "flaky": False, "rare": 0}
        doc_s = dict(doc_b, flaky=flaky["a"])
        # The candidate: "flaky" varies about as often (noise); "rare" changes in 5% of
        # requests although the baselines never disagree there (a regression).
        doc_c = dict(doc_b, flaky=rng.random() < 0.33, rare=1 if n % 20 == 0 else 0)
        rows.append(row(n, "/api/x", side(body=doc_b), side(body=doc_c), side(body=doc_s)))
    entry = report(tmp_path, rows)["GET /api/x"]
    assert [(f["location"], f["count"]) for f in entry["findings"]] == [("$.rare", 20)]
    noise = [u for u in entry["unverified"] if u["reason"] == "noise"]
    assert [u["location"] for u in noise] == ["$.flaky"] and 0.2 < noise[0]["rate"] < 0.4


def test_a_flaky_baseline_makes_occasional_errors_noise_but_not_constant_ones(
    tmp_path: Path,
) -> None:
    rows = []
    for n in range(200):
        ok = side(body={"a": 1})
        down = side(status=500, body=b"oops", headers=[])
        sometimes = down if n % 10 == 0 else ok
        rows.append(row(n, "/flaky", ok, down if n % 10 == 5 else ok, sometimes))
        rows.append(row(1000 + n, "/broken", ok, down, sometimes))
    endpoints = report(tmp_path, rows)
    assert endpoints["GET /flaky"]["verdict"] == "ok"
    assert [f["kind"] for f in endpoints["GET /broken"]["findings"]] == ["new_error"]


def test_a_secondary_that_does_not_answer_excuses_nothing(tmp_path: Path) -> None:
    """A dead secondary disagrees with the baseline on every request; counted as noise it
    would make a candidate that fails every request pass."""
    rows = []
    ok = side(body={"a": 1})
    dead = side(status=None, body=None, headers=[], error_kind="refused", error_message="no")
    reset = side(status=None, body=None, headers=[], error_kind="reset", error_message="rst")
    for n in range(60):
        rows.append(row(n, "/down", ok, reset, dead))
        rows.append(row(1000 + n, "/fine", ok, ok, dead))
    endpoints = report(tmp_path, rows)
    down, fine = endpoints["GET /down"], endpoints["GET /fine"]
    assert down["verdict"] == "regression"
    assert [f["kind"] for f in down["findings"]] == ["new_error"]
    assert down["findings"][0]["count"] == 60
    assert fine["verdict"] != "regression" and fine["findings"] == []
    for ep in (down, fine):
        why = {u["reason"]: u for u in ep["unverified"]}
        assert why["secondary_failed"]["count"] == 60
        assert why["secondary_failed"]["location"] == "secondary"
        assert why["too_few_samples"]["location"] == "noise"  # no A/A pair was usable


def test_a_live_baseline_that_does_not_answer_is_compared_with_nothing(tmp_path: Path) -> None:
    """Compared, a dead baseline passed a dead candidate (both refused: equal) and made
    a working one a fixed error; the gate then passed on nothing verified."""
    ok = side(body={"a": 1})
    dead = side(status=None, body=None, headers=[], error_kind="refused", error_message="no")
    rows = [row(n, "/both-dead", dead, dead, ok) for n in range(30)]
    rows += [row(100 + n, "/cand-ok", dead, ok, ok) for n in range(30)]
    run = {"results_version": "1.0", "run_id": "t", "baseline": "live"}
    report = analyze(write(tmp_path / "run", rows, run)).to_json()
    for ep in report["endpoints"]:
        assert ep["compared"] == 0 and ep["findings"] == []
        (failed,) = [u for u in ep["unverified"] if u["reason"] == "baseline_failed"]
        assert failed["count"] == 30 and failed["location"] == "baseline"
    assert report["gate"]["passed"] is False
    assert report["gate"]["reasons"][0].startswith("nothing was compared")


def test_what_cannot_be_verified_is_listed(tmp_path: Path) -> None:
    cut = side(body=b'{"a": 1', body_truncated=True)
    png = [("Content-Type", "image/png")]
    rows = [
        row(1, "/cut", side(body=b'{"a": 0', body_truncated=True), cut),
        row(
            2,
            "/img/1",
            side(body=b"\x89PNG\x00", headers=png),
            side(body=b"\x89PNG\x00", headers=png),
        ),
        row(
            3,
            "/img/2",
            side(body=b"\x89PNG\x00", headers=png),
            side(body=b"\x89PNG\x01", headers=png),
        ),
        row(
            4,
            "/me",
            side(body={"x": 1}, headers=[*JSON, ("X-Owner", "pseudo")]),
            side(body={"x": 1}, headers=[*JSON, ("X-Owner", "real")]),
            redactions=["response.header.x-owner", "request.header.authorization"],
        ),
        row(5, "/write", None, None, skip_reason="mutating"),
    ]
    endpoints = report(tmp_path, rows)
    reasons = {
        name: {(u["reason"], u["location"]) for u in e["unverified"]}
        for name, e in endpoints.items()
    }
    assert ("truncated_body", "body") in reasons["GET /cut"] and endpoints["GET /cut"][
        "findings"
    ] == []
    assert ("binary_body", "body") in reasons["GET /img/{id}"]
    assert [f["kind"] for f in endpoints["GET /img/{id}"]["findings"]] == ["digest"]
    assert ("redacted", "header:x-owner") in reasons["GET /me"]
    # A redacted request field is the run's, listed once: not on every endpoint.
    assert ("redacted", "request.header.authorization") not in reasons["GET /me"]
    redactions = analyze([tmp_path / "run"]).redactions
    assert [(r.location, r.count) for r in redactions] == [("request.header.authorization", 1)]
    assert endpoints["GET /me"]["verdict"] == "ok"
    assert endpoints["GET /write"]["verdict"] == "unverified"
    assert ("latency_not_comparable", "latency") in reasons["GET /me"]


def test_examples_and_ids_stay_bounded(tmp_path: Path) -> None:
    rows = [
        row(
            n,
            "/many",
            side(body={f"k{n % 50}": 1, "big": "x" * 40_000}),
            side(body={f"k{n % 50}": 2, "big": "x" * 40_000}),
        )
        for n in range(300)
    ]
    entry = report(tmp_path, rows)["GET /many"]
    assert len(entry["findings"]) == 50
    assert all(len(f["exchange_ids"]) <= 5 for f in entry["findings"])
    assert len(entry["examples"]) == 3
    body = entry["examples"][0]["baseline"]["body"]
    assert len(body) < 17_000 and "cut: " in body


def test_a_write_to_another_resource_between_identical_reads_is_a_state_change(
    tmp_path: Path,
) -> None:
    from datetime import UTC, datetime, timedelta

    from shadowtape.diff.analyze import analyze

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    at = [t0 + timedelta(seconds=s) for s in range(3)]
    rows = [
        row(0, "/users/7", side(body={"balance": 10}), side(body={"balance": 10})),
        row(1, "/orders", side(status=201, body={"id": 1}), side(status=201, body={"id": 1})),
        row(2, "/users/7", side(body={"balance": 5}), side(body={"balance": 5})),
    ]
    for r, when in zip(rows, at, strict=True):
        r.update(host="api.example.com", scheme="https", recorded_at=when)
    rows[1]["method"] = "POST"
    run = {"results_version": "1.0", "run_id": "t", "baseline": "recorded"}
    analysis = analyze(write(tmp_path / "run", rows, run))
    ep = analysis.endpoints["GET /users/{id}"]
    assert ep.notes["state_changed"] == 1
    assert ep.noise.pairs == 0
