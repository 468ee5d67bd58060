"""The faults probe end to end, with real processes: a shop service (fault_service.py) per
build, each behind its own `shadowtape deps` proxy (passthrough, fault rules from a
file), in front of one real inventory server. A candidate that answers 200 where the
baseline reports the inventory's failure is a swallowed_error naming the dependency and
the fault; an identical candidate is not flagged; a candidate without a client timeout
hangs; the faults are cleared afterwards; without proxies or a live baseline nothing is
sent and the report says why."""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest

from shadowtape.cli import main
from shadowtape.deps.calls import read
from shadowtape.probe import Probe, ProbeOptions, run_probes
from shadowtape.probe.deps_link import DepsPaths
from tests.e2e.deps_support import DepsProxy, behind_proxy, deps_proxy
from tests.probe.support import probe_exchanges, probe_report
from tests.replay.helpers import ex, write_tape
from tests.servers import LoopbackServer, Received, Reply, serve

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # as tests/commands/
]

SERVICE = Path(__file__).with_name("fault_service.py")
#: The probe's request timeout; a timeout fault holds the call 2 s past it.
TIMEOUT = 3.0
ITEMS = [ex(f"/items/{sku}", at=sku * 0.01) for sku in range(1, 5)]
HEALTH = [ex("/health", at=0.1 + i * 0.01) for i in range(3)]
ORDERS = [ex("/orders", method="POST", at=0.2, body=b'{"sku":1}')]


def _inventory(request: Received) -> Reply:
    sku = request.path.rsplit("/", 1)[-1]
    return Reply(200, [("Content-Type", "application/json")], b'{"stock": %s}' % sku.encode())


@dataclass
class Deps:
    """The inventory and each build's deps proxy, with its faults file."""

    inventory: LoopbackServer
    proxies: dict[str, DepsProxy]

    def files(self, role: str) -> DepsPaths:
        proxy = self.proxies[role]
        return DepsPaths(calls=proxy.calls, faults=proxy.tapes / "faults.json")

    @property
    def dependency(self) -> str:
        return f"127.0.0.1:{self.inventory.port}"


@pytest.fixture(scope="module")
def deps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deps]:
    folder = tmp_path_factory.mktemp("deps")
    with (
        serve(_inventory) as inventory,
        _proxy(folder / "baseline") as baseline,
        _proxy(folder / "candidate") as candidate,
    ):
        yield Deps(inventory, {"baseline": baseline, "candidate": candidate})


@contextmanager
def _proxy(tapes: Path) -> Iterator[DepsProxy]:
    tapes.mkdir()
    with deps_proxy(tapes, "passthrough", "--faults-file", str(tapes / "faults.json")) as proxy:
        yield proxy


#: Calls made through each shared proxy by services that have stopped: its calls log
#: holds them all once the proxy has finished each one (see _settle).
_MADE: Counter[Path] = Counter()


@contextmanager
def _service(proxy: DepsProxy, inventory: str, handling: str, *flags: str) -> Iterator[str]:
    """fault_service.py with ``proxy`` as its HTTP_PROXY; its URL."""
    env = {"HTTP_PROXY": proxy.url, "HTTPS_PROXY": proxy.url}
    with behind_proxy(SERVICE, inventory, handling, *flags, env=env) as url:
        try:
            yield url
        finally:
            with suppress(httpx.HTTPError):
                _MADE[proxy.calls] += len(_seen(url))


def _settle(deps: Deps) -> None:
    """Wait until each proxy has logged every call earlier tests made through it.

    A timeout fault holds its call past the test that made it (the service gave up long
    before); logged during a later test's probe, it would count as that test's call.
    """
    deadline = time.monotonic() + 30
    for proxy in deps.proxies.values():
        while _logged(proxy.calls) < _MADE[proxy.calls] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _logged(proxy.calls) >= _MADE[proxy.calls], proxy.output()


def _logged(calls: Path) -> int:
    return len(read(str(calls))) if calls.exists() else 0


@contextmanager
def _builds(
    deps: Deps, baseline: tuple[str, ...], candidate: tuple[str, ...]
) -> Iterator[tuple[str, str]]:
    """Both services, each behind its own proxy: (baseline URL, candidate URL)."""
    inventory = deps.inventory.url
    with (
        _service(deps.proxies["baseline"], inventory, *baseline) as base,
        _service(deps.proxies["candidate"], inventory, *candidate) as cand,
    ):
        yield base, cand


def _probe(
    tmp_path: Path,
    deps: Deps,
    baseline: str,
    candidate: str,
    tape: list | None = None,
    timeout: float = TIMEOUT,
) -> tuple[int, dict]:
    """Replay the tape to both builds, run the faults probe with their proxies (``timeout``
    the request timeout of both), report; the report's exit code and report.json."""
    tape = write_tape(tmp_path / "tape", tape or [*ITEMS, *HEALTH, *ORDERS])
    run = tmp_path / "run"
    main(
        ["replay", str(tape), "--candidate", candidate, "--baseline", baseline, "--out", str(run),
         "--pace", "asap", "--progress", "off", "--timeout", str(timeout)]
    )  # fmt: skip
    options = ProbeOptions(
        probes=(Probe.FAULTS,),
        candidate=candidate,
        baseline=baseline,
        timeout=timeout,
        deps={role: deps.files(role) for role in ("baseline", "candidate")},
    )
    _settle(deps)
    run_probes(run, options)
    code = main(["report", str(run)])
    return code, orjson.loads((run / "report.json").read_bytes())


def _findings(report: dict) -> dict[str, dict]:
    return {f["location"]: f for f in probe_report(report, "faults")["findings"]}


def _seen(service: str) -> list[str]:
    return list(httpx.get(f"{service}/_seen", trust_env=False).json())


#: The services' own timeout for their inventory call, which answers from loopback within
#: milliseconds: every request the timeout round sends waits this long.
CLIENT_TIMEOUT = ("--client-timeout", "1")


def test_a_candidate_answering_200_where_the_baseline_reports_the_503_is_flagged(
    tmp_path: Path, deps: Deps
) -> None:
    with _builds(
        deps,
        baseline=("reports", *CLIENT_TIMEOUT),
        candidate=("swallows", *CLIENT_TIMEOUT, "--propagate"),
    ) as (baseline, candidate):
        code, report = _probe(tmp_path, deps, baseline, candidate)
        seen = set(_seen(baseline))
        after = httpx.get(f"{candidate}/items/2", trust_env=False).json()
    dep = deps.dependency
    found = _findings(report)
    assert set(found) == {f"{dep} 503", f"{dep} timeout", f"{dep} reset"}
    swallowed = found[f"{dep} 503"]
    assert swallowed["kind"] == "swallowed_error" and swallowed["target"] == "candidate"
    # Which sampled request comes first is the replay's order of completion.
    assert re.fullmatch(
        rf'{re.escape(dep)} 503 \(GET /stock/(\d)\): candidate 200 {{"sku": "\1", "in_stock": 0}}, '
        r"baseline 503 \(on 3 of 3 requests\)",
        str(swallowed["message"]),
    ), swallowed["message"]
    assert swallowed["count"] == 3
    assert found[f"{dep} reset"]["alone_value"] == "502"  # the baseline: no answer from it
    # Each fault reached the service, as the fault it is.
    assert {"503", "timeout", "reset"} <= seen
    # The gate fails on them, by default.
    assert code == 1 and report["gate"]["passed"] is False
    assert any(f"{dep} 503" in reason for reason in report["gate"]["reasons"])
    # Cleared afterwards: the proxies pass calls through again, and the files say so.
    assert after == {"sku": "2", "in_stock": 2}
    for role in ("baseline", "candidate"):
        assert json.loads(deps.files(role).faults.read_text()) == []
    calls = read(str(deps.proxies["candidate"].calls))
    assert (calls[-1]["status"], calls[-1]["fault"]) == (200, None)
    # The candidate propagates trace context: its calls were told apart by trace id.
    traced = {str(c["traceparent"]).split("-")[1] for c in calls if c["traceparent"]}
    sent = probe_exchanges(tmp_path / "run")
    discovered = [e for e in sent if e["round"] == "discover" and e["target"] == "candidate"]
    assert [e["trace_id"] in traced for e in discovered if "/items/" in e["url"]] == [True] * 4


def test_a_candidate_that_handles_failures_like_the_baseline_is_not_flagged(
    tmp_path: Path, deps: Deps
) -> None:
    with _builds(
        deps,
        baseline=("reports", *CLIENT_TIMEOUT),
        candidate=("reports", *CLIENT_TIMEOUT, "--propagate"),
    ) as (baseline, candidate):
        code, report = _probe(tmp_path, deps, baseline, candidate)
    probe = probe_report(report, "faults")
    assert probe["findings"] == []
    assert code == 0 and report["gate"]["passed"] is True
    rounds = {(r["fault"], r["verdict"]) for r in probe["rounds"]}
    assert rounds == {
        ("503", "handled alike"),
        ("timeout", "handled alike"),
        ("reset", "handled alike"),
    }
    assert [r["candidate"] for r in probe["rounds"]] == ["503", "502", "502"]
    unverified = {u["location"]: u["reason"] for u in probe["unverified"]}
    assert unverified == {
        "GET /health": "no_dependency_calls",
        "POST /orders": "mutating_not_allowed",
    }
    assert probe["endpoints"] == 1


def test_a_flaky_candidate_that_degrades_like_the_baseline_is_not_flagged(
    tmp_path: Path, deps: Deps
) -> None:
    """Both answer 200 with no stock when the inventory fails; the candidate also fails
    every third request on its own: no round may blame that on a fault."""
    with _builds(
        deps,
        baseline=("swallows", *CLIENT_TIMEOUT),
        candidate=("swallows", *CLIENT_TIMEOUT, "--fail-every", "3"),
    ) as (baseline, candidate):
        _, report = _probe(tmp_path, deps, baseline, candidate)
        flaked = _seen(candidate)
    probe = probe_report(report, "faults")
    assert probe["findings"] == []
    assert len(probe["rounds"]) == 3 and probe["endpoints"] == 1
    # It did fail under the faults: a round saw it and did not count it.
    assert any("500" in r["candidate"] for r in probe["rounds"]), probe["rounds"]
    assert {"503", "timeout", "reset"} <= set(flaked)


def test_a_candidate_failing_without_any_fault_is_not_probed(tmp_path: Path, deps: Deps) -> None:
    """Every request fails on the candidate already: nothing to learn from a fault, so
    none is set, and the report says why."""
    with (
        serve(lambda _: Reply(503, body=b"{}")) as candidate,
        _service(deps.proxies["baseline"], deps.inventory.url, "reports") as baseline,
    ):
        _, report = _probe(tmp_path, deps, baseline, candidate.url)
    probe = probe_report(report, "faults")
    unverified = {u["location"]: u["reason"] for u in probe["unverified"]}
    assert unverified["GET /items/{id}"] == "failing_without_fault"
    assert probe["findings"] == [] and probe["rounds"] == []
    assert {e["round"] for e in probe_exchanges(tmp_path / "run")} == {"discover"}


def test_one_request_calling_a_dependency_is_too_few(tmp_path: Path, deps: Deps) -> None:
    with _builds(deps, baseline=("reports",), candidate=("swallows",)) as (baseline, candidate):
        _, report = _probe(tmp_path, deps, baseline, candidate, tape=[ITEMS[0], *HEALTH])
    probe = probe_report(report, "faults")
    (why,) = [u for u in probe["unverified"] if u["reason"] == "too_few_samples"]
    assert why["location"] == f"GET /items/{{id}} → {deps.dependency}" and why["count"] == 1
    assert probe["findings"] == [] and probe["rounds"] == []


def test_a_dependency_only_the_candidate_calls_is_faulted_and_named(
    tmp_path: Path, deps: Deps
) -> None:
    """The baseline answers without the inventory; the candidate now asks it and fails
    when it fails: a new_error, which says the baseline never called it."""
    with _builds(deps, baseline=("offline",), candidate=("reports", *CLIENT_TIMEOUT)) as (
        baseline,
        candidate,
    ):
        _, report = _probe(tmp_path, deps, baseline, candidate)
    dep = deps.dependency
    found = _findings(report)
    assert set(found) == {f"{dep} 503", f"{dep} timeout", f"{dep} reset"}
    assert {f["kind"] for f in found.values()} == {"new_error"}
    message = str(found[f"{dep} 503"]["message"])
    assert "candidate 503, baseline 200" in message
    assert message.endswith("; only the candidate called it, without the fault")


#: The hanging candidate costs the probe's timeout on each of the 5 requests of the
#: timeout round: a shorter one than TIMEOUT here, still twice the baseline's own.
HANG_TIMEOUT = 1.0


@pytest.mark.timing
def test_a_candidate_without_a_client_timeout_hangs(tmp_path: Path, deps: Deps) -> None:
    baseline_timeout = ("--client-timeout", f"{HANG_TIMEOUT / 2:g}")
    with _builds(deps, baseline=("reports", *baseline_timeout), candidate=("reports",)) as (
        baseline,
        candidate,
    ):
        code, report = _probe(tmp_path, deps, baseline, candidate, timeout=HANG_TIMEOUT)
    dep = deps.dependency
    found = _findings(report)
    assert set(found) == {f"{dep} timeout"}
    hang = found[f"{dep} timeout"]
    assert hang["kind"] == "new_error"
    assert (
        f"the candidate hung (no answer within {HANG_TIMEOUT:g} s), the baseline answered 502"
        in (hang["message"])
    )
    assert code == 1


def test_without_deps_proxies_nothing_is_sent_and_the_report_says_why(tmp_path: Path) -> None:
    """Builds given by URL have no deps proxy of the replay's; the probe is asked for in
    the configuration file (``probe = ["faults"]``)."""
    tape = write_tape(tmp_path / "tape", [*ITEMS, *HEALTH])
    config = tmp_path / "shadowtape.toml"
    config.write_text('[replay]\nprobe = ["faults"]\n')
    with serve(_inventory) as candidate, serve(_inventory) as baseline:
        code = main(
            ["replay", str(tape), "--candidate", candidate.url, "--baseline", baseline.url,
             "--out", str(tmp_path / "run"), "--pace", "asap", "--progress", "off",
             "--config", str(config)]
        )  # fmt: skip
        received = len(candidate.received)
    report = orjson.loads((tmp_path / "run" / "report.json").read_bytes())
    probe = probe_report(report, "faults")
    assert probe["sent"] == {"candidate": 0, "baseline": 0}
    (why,) = probe["unverified"]
    assert (why["reason"], why["location"]) == ("no_deps_proxy", "every endpoint")
    assert "--candidate-cmd and --baseline-cmd" in why["detail"]
    assert received == len(ITEMS) + len(HEALTH)  # the replay's requests only
    assert code == 0
    summary = (tmp_path / "run" / "summary.md").read_text()
    assert "no deps proxy" in summary


@pytest.mark.timing
def test_faults_are_cleared_when_the_probe_is_cancelled(tmp_path: Path, deps: Deps) -> None:
    with _builds(deps, baseline=("reports", *CLIENT_TIMEOUT), candidate=("reports",)) as (
        baseline,
        candidate,
    ):
        tape = write_tape(tmp_path / "tape", ITEMS)
        run = tmp_path / "run"
        main(
            ["replay", str(tape), "--candidate", candidate, "--baseline", baseline,
             "--out", str(run), "--pace", "asap", "--progress", "off"]
        )  # fmt: skip
        options = ProbeOptions(
            probes=(Probe.FAULTS,),
            candidate=candidate,
            baseline=baseline,
            timeout=TIMEOUT,
            deps={role: deps.files(role) for role in ("baseline", "candidate")},
        )
        faults = deps.files("candidate").faults

        async def cancel_in_the_timeout_round() -> list[str]:
            from shadowtape.probe import run_probes_async

            task = asyncio.create_task(run_probes_async(run, options))
            while "timeout" not in (faults.read_text() if faults.exists() else ""):
                assert not task.done()
                await asyncio.sleep(0.05)
            held = json.loads(faults.read_text())
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return list(held)

        held = asyncio.run(cancel_in_the_timeout_round())
    assert held == [f"host={deps.dependency},timeout={TIMEOUT + 2:g}s"]
    for role in ("baseline", "candidate"):
        assert json.loads(deps.files(role).faults.read_text()) == []


def test_with_the_recorded_baseline_nothing_is_sent(tmp_path: Path) -> None:
    tape = write_tape(tmp_path / "tape", ITEMS)
    with serve(_inventory) as candidate:
        code = main(
            ["replay", str(tape), "--candidate", candidate.url, "--out", str(tmp_path / "run"),
             "--pace", "asap", "--progress", "off", "--probe", "faults"]
        )  # fmt: skip
    probe = probe_report(orjson.loads((tmp_path / "run" / "report.json").read_bytes()), "faults")
    (why,) = probe["unverified"]
    assert (why["reason"], why["count"]) == ("needs_live_baseline", 1)
    assert probe["sent"] == {"candidate": 0}
    assert (tmp_path / "run" / "probes" / "exchanges.jsonl").read_bytes() == b""
    assert code == 1  # the replay's body differences from the recording, not the probe's


def test_launched_builds_get_their_proxies_probed_in_one_command(tmp_path: Path) -> None:
    """`shadowtape replay --candidate-cmd … --baseline-cmd … --probe faults`: the probe
    finds each build's deps proxy in run.json and flags the swallowed 503."""
    tape = write_tape(tmp_path / "tape", [*ITEMS, *HEALTH])
    run = tmp_path / "run"

    def build(handling: str) -> str:
        flags = shlex.join(CLIENT_TIMEOUT)
        return f"{sys.executable} {SERVICE} {{port}} {inventory.url} {handling} {flags}"

    with serve(_inventory) as inventory:
        code = main(
            ["replay", str(tape), "--candidate-cmd", build("swallows"),
             "--baseline-cmd", build("reports"), "--out", str(run), "--pace", "asap",
             "--progress", "off", "--timeout", str(TIMEOUT), "--probe", "faults"]
        )  # fmt: skip
    dependency = f"127.0.0.1:{inventory.port}"
    report = orjson.loads((run / "report.json").read_bytes())
    found = _findings(report)
    assert set(found) == {f"{dependency} {fault}" for fault in ("503", "timeout", "reset")}
    assert {f["kind"] for f in found.values()} == {"swallowed_error"}
    assert code == 1
    for role in ("baseline", "candidate"):
        assert json.loads((run / "deps" / f"{role}.faults.json").read_text()) == []
