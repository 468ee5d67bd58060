"""The side-effect ledger through the whole analysis: what becomes a ``side_effect``
finding (a mutating call made a different number of times) and what never does."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shadowtape.diff.attribution import DependencyCall
from shadowtape.diff.sidefx import differences
from shadowtape.report import make_report
from shadowtape.report.model import Report
from tests.diff.deps_runs import Request, made, write_run

CHARGE = made()


def _requests(
    n: int, baseline: list[dict[str, Any]], candidate: list[dict[str, Any]], **more: Any
) -> list[Request]:
    calls = {"baseline": baseline, "candidate": candidate, **more}
    return [Request(i, start_ms=i * 100.0, end_ms=i * 100.0 + 50, calls=calls) for i in range(n)]


def _report(tmp_path: Path, requests: list[Request], **kw: Any) -> Report:
    return make_report([write_run(tmp_path / "run", requests, **kw)])


def _side_effects(report: Report) -> list[Any]:
    return [f for e in report.endpoints for f in e.findings if f.kind == "side_effect"]


def test_a_doubled_charge_is_a_side_effect_that_fails_the_default_gate(tmp_path: Path) -> None:
    report = _report(tmp_path, _requests(20, [CHARGE], [CHARGE, CHARGE]))
    (finding,) = _side_effects(report)
    assert finding.location == "POST payments.internal/charges"
    assert finding.message.startswith(
        "POST payments.internal/charges: 1 call on the baseline, 2 on the candidate"
    )
    assert finding.count == 20 and len(finding.exchange_ids) >= 1
    assert not report.gate.passed
    assert any("side effect" in reason for reason in report.gate.reasons)
    (endpoint,) = report.endpoints
    assert endpoint.verdict == "regression" and "side_effects" in endpoint.checked


def test_equal_calls_are_not_flagged(tmp_path: Path) -> None:
    two = [CHARGE, made("PUT", path="/ledger/7")]
    report = _report(tmp_path, _requests(20, two, list(reversed(two))))
    assert _side_effects(report) == [] and report.gate.passed
    assert report.endpoints[0].verdict == "ok"
    assert report.side_effects is not None and report.side_effects.compared == 20


def test_a_missing_call_names_the_port_when_it_is_not_the_default(tmp_path: Path) -> None:
    email = made("POST", "127.0.0.1", 8025, "/send")
    report = _report(tmp_path, _requests(10, [CHARGE, email], [CHARGE]))
    (finding,) = _side_effects(report)
    assert finding.message.startswith(
        "POST 127.0.0.1:8025/send: 1 call on the baseline, 0 on the candidate"
    )


def test_reads_and_retries_after_a_real_5xx_are_not_side_effects(tmp_path: Path) -> None:
    stock = made("GET", "inventory.internal", 80, "/items/4", 200)
    # The candidate reads more (no cache) and gets another status; the dependency really
    # answered its first charge 503 and the candidate retried: one charge each.
    baseline = [stock, CHARGE]
    candidate = [
        stock,
        made("GET", "inventory.internal", 80, "/items/4", 404),
        stock,
        made(status=503),
        CHARGE,
    ]
    report = _report(tmp_path, _requests(20, baseline, candidate))
    assert _side_effects(report) == [] and report.gate.passed
    assert report.side_effects is not None
    ledger = {(r.call, r.status): dict(r.calls) for r in report.side_effects.ledger}
    assert ledger[("GET inventory.internal/items/{id}", 200)] == {"baseline": 20, "candidate": 40}
    assert ledger[("POST payments.internal/charges", 503)] == {"baseline": 0, "candidate": 20}


def test_a_call_whose_count_varies_between_the_baselines_is_noise(tmp_path: Path) -> None:
    # An audit call that every other request makes twice, on the baseline and the
    # secondary alike (on different requests), and on the candidate as often.
    audit = made("POST", "audit.internal", 80, "/events")
    requests = []
    for i in range(40):
        calls = {
            "baseline": [audit] * (2 if i % 2 else 1),
            "secondary": [audit] * (1 if i % 2 else 2),
            "candidate": [audit] * (2 if i % 4 < 2 else 1),
        }
        requests.append(Request(i, start_ms=i * 100.0, end_ms=i * 100.0 + 50, calls=calls))
    report = _report(tmp_path, requests, targets=("baseline", "candidate", "secondary"))
    assert _side_effects(report) == []
    noise = [u for e in report.endpoints for u in e.unverified if u.reason == "noise"]
    assert [u.location for u in noise] == ["POST audit.internal/events"]


def test_a_doubled_charge_is_found_beside_a_noisy_call(tmp_path: Path) -> None:
    audit = made("POST", "audit.internal", 80, "/events")
    requests = []
    for i in range(40):
        calls = {
            "baseline": [CHARGE] + [audit] * (2 if i % 2 else 1),
            "secondary": [CHARGE] + [audit] * (1 if i % 2 else 2),
            "candidate": [CHARGE, CHARGE] + [audit] * (2 if i % 4 < 2 else 1),
        }
        requests.append(Request(i, start_ms=i * 100.0, end_ms=i * 100.0 + 50, calls=calls))
    report = _report(tmp_path, requests, targets=("baseline", "candidate", "secondary"))
    assert [f.location for f in _side_effects(report)] == ["POST payments.internal/charges"]


def test_without_the_baselines_calls_nothing_is_compared_and_it_says_so(tmp_path: Path) -> None:
    report = _report(tmp_path, _requests(5, [CHARGE], [CHARGE, CHARGE]), logs=("candidate",))
    assert _side_effects(report) == []
    assert report.side_effects is not None and report.side_effects.compared == 0
    reasons = [u.reason for u in report.side_effects.unverified]
    assert reasons == ["side_effects_not_compared"]


_CALLS = st.builds(
    DependencyCall,
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
    host=st.sampled_from(["payments.internal", "127.0.0.1:8081"]),
    route=st.sampled_from(["/charges", "/refunds/{id}"]),
    status=st.sampled_from([200, 201, 404, 409, 502, 503, None]),
    took=st.booleans(),
)


@given(st.lists(_CALLS, max_size=12), st.randoms())
def test_the_same_calls_in_any_order_are_never_a_side_effect(
    calls: list[DependencyCall], rng: random.Random
) -> None:
    shuffled = list(calls)
    rng.shuffle(shuffled)
    assert differences(calls, shuffled) == []


@given(st.lists(_CALLS, max_size=12), _CALLS)
def test_one_more_call_is_a_side_effect_exactly_when_it_changes_something(
    calls: list[DependencyCall], extra: DependencyCall
) -> None:
    found = differences(calls, [*calls, extra])
    if extra.took and extra.method not in ("GET", "HEAD"):
        (difference,) = found
        assert difference.location == extra.name
        assert difference.candidate == difference.baseline + 1  # type: ignore[operator]
    else:
        assert found == []
