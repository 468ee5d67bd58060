"""Jobs read out of a prepared batch carry what the per-request Python rules say.

batchwire.py and batchkeys.py check each prepared column against those rules; these tests
check the reading: every row of a batch, or of a slice of one, becomes the Job that the
rules make of the same recorded exchange.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from shadowtape import Exchange
from shadowtape.replay.prepare.jobs import Plan, Prepared, serialize
from shadowtape.replay.rules.safety import is_safe_method
from shadowtape.replay.rules.targets import Target
from shadowtape.tape.filters import sample_keep
from shadowtape.tape.schema import to_batch
from tests.replay.helpers import T0, ex
from tests.replay.reference import skip_reason, state_keys, wire_headers

_TARGETS = {
    "candidate": Target.parse("http://127.0.0.1:8081/v2", role="candidate"),
    "baseline": Target.parse("https://baseline.test", role="baseline"),
}
_names = st.sampled_from(["Cookie", "authorization", "Idempotency-Key", "Accept", "X-Ünï", "Host"])
_values = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_exchanges = st.builds(
    ex,
    path=st.sampled_from(["/", "/a b", "/café", "http://elsewhere/", "/items/1"]),
    method=st.sampled_from(["GET", "head", "POST", "DELETE", "G3T", ""]),
    headers=st.lists(st.tuples(_names, _values), max_size=4),
    body=st.binary(max_size=20),
    query=st.sampled_from(["", "q=1", "x=é&y"]),
    duration=st.sampled_from([0.0, 0.001234, 2.5]),
)


def _expected(exchange: Exchange, plan: Plan) -> dict[str, object]:
    """The Job the per-request rules make of one exchange."""
    request = exchange.request
    reason = skip_reason(request, allow_mutating=plan.allow_mutating)
    wires = {}
    if reason is None:
        target = f"{request.path}?{request.query}" if request.query else request.path
        for role, t in plan.targets.items():
            headers = wire_headers(request, t, keep_host=plan.keep_host, extra=plan.extra)
            wires[role] = (
                t.key,
                serialize(request.method, t.prefix + target, headers, request.body),
            )
    repeat = (
        reason is None
        and plan.repeat_sample > 0
        and is_safe_method(request.method)
        and sample_keep(f"repeat:{exchange.id}", plan.repeat_sample)
    )
    return {
        "id": exchange.id,
        "at_us": (exchange.recorded_at - T0) // timedelta(microseconds=1) + _T0_US,
        "end_us": (exchange.recorded_at - T0) // timedelta(microseconds=1)
        + _T0_US
        + (exchange.duration_us or 0),
        "method": request.method,
        "skip": None if reason is None else reason.value,
        "keys": state_keys(exchange),
        "wires": wires,
        "repeat": repeat,
    }


_T0_US = int(T0.timestamp()) * 1_000_000


@settings(max_examples=150, deadline=None)
@given(
    exchanges=st.lists(_exchanges, min_size=1, max_size=12),
    start=st.integers(0, 4),
    allow_mutating=st.booleans(),
    keep_host=st.booleans(),
    repeat=st.sampled_from([0.0, 0.5, 1.0]),
)
def test_each_row_of_a_batch_or_a_slice_becomes_the_job_the_rules_make(
    exchanges: list[Exchange], start: int, allow_mutating: bool, keep_host: bool, repeat: float
) -> None:
    exchanges = [
        dataclasses.replace(e, recorded_at=T0 + timedelta(milliseconds=i))
        for i, e in enumerate(exchanges)
    ]
    plan = Plan(
        _TARGETS,
        allow_mutating=allow_mutating,
        keep_host=keep_host,
        extra=(("Authorization", "Bearer staging"),),
        repeat_sample=repeat,
    )
    batch = to_batch(exchanges).slice(start)
    prepared = Prepared(batch, plan)
    got = [
        {name: getattr(job, name) for name in ("id", "at_us", "end_us", "method", "skip", "keys")}
        | {"wires": job.wires, "repeat": job.repeat}
        for job in prepared.jobs()
    ]
    assert got == [_expected(e, plan) for e in exchanges[start:]]
    for job in prepared.jobs():
        assert job.size == sum(len(data) for _, data in job.wires.values())


def test_a_job_points_at_its_row_and_reads_the_request_from_it() -> None:
    exchanges = [ex("/a"), ex("/b", query="q=1", headers=[("Cookie", "sid=7")], body=b"x")]
    batch = to_batch(exchanges)
    (job,) = Prepared(batch.slice(1), Plan()).jobs()
    assert job.row == 0 and job.batch.num_rows == 1
    assert (job.path, job.query, job.body) == ("/b", "q=1", b"x")
    assert job.headers == (("Cookie", "sid=7"),) and job.keys == ["cookie:sid=7"]
    assert job.wires == {}  # no targets in the plan: nothing to send to
