"""`shadowtape replay --candidate-cmd … --baseline-cmd … --deps TAPES`: each launched build
gets its own deps proxy. A real service (deps_service.py) calls two dependencies, one over
http and one over https (self-signed); its calls are recorded with `shadowtape deps`, the
dependencies are stopped, and the replay's builds are answered by the mocks. Each role's
calls log holds the trace ids the replayer sent (the service propagates them), and no
process the replay started is left, whether the replay passes or fails."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shadowtape.cli import main
from shadowtape.deps.calls import read as read_calls
from shadowtape.replay import read_results, read_run
from shadowtape.results import deps_proxies
from tests.e2e.deps_support import SERVICE, deps_proxy, service
from tests.replay.helpers import ex, write_tape
from tests.servers import Received, Reply, self_signed, serve

pytestmark = [
    pytest.mark.e2e,
    # cli.main imports every command, and mitmproxy uses pyparsing names that pyparsing
    # 3.3 deprecates: not this command's warning to fix.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]
ORDERS = 4


def _inventory(request: Received) -> Reply:
    return Reply(200, [("Content-Type", "application/json")], b'{"stock": 3}')


def _payments(request: Received) -> Reply:
    return Reply(201, [("Content-Type", "application/json")], b'{"charged": 42}')


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The service's dependency calls recorded, its own traffic as a tape; the real
    dependencies are stopped once this returns."""
    folder = tmp_path_factory.mktemp("deps-builds")
    cert, key = self_signed(folder)
    deps = folder / "deps-tapes"
    with serve(_inventory) as inventory, serve(_payments, tls=(cert, key)) as payments:
        urls = (inventory.url, payments.url)
        with (
            deps_proxy(deps, "record", "--upstream-ca", str(cert)) as proxy,
            service(proxy, *urls) as url,
        ):
            answer = httpx.get(f"{url}/order", timeout=20, trust_env=False).content
            assert proxy.stop() == 0, proxy.output()
    assert json.loads(answer)["charge"] == {"status": 201, "body": '{"charged": 42}'}
    tape = write_tape(
        folder / "tape",
        [ex("/order", at=i * 0.01, response_body=answer) for i in range(ORDERS)],
    )
    command = f"{sys.executable} {SERVICE} {{port}} {urls[0]} {urls[1]}"
    yield {"deps": deps, "tape": tape, "answer": answer, "command": command}


def _ours(marker: str) -> list[str]:
    """Command lines of running processes that mention ``marker``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            state = (cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if marker in text and state != "Z":
            found.append(text)
    return found


def _none_left(marker: str, within: float = 10.0) -> list[str]:
    deadline = time.monotonic() + within
    while _ours(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    return _ours(marker)


def test_builds_are_answered_by_their_own_mocks_with_the_dependencies_stopped(
    recorded: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The builds' dependencies are on loopback: they go through the proxies all the same.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    out = tmp_path / "run"
    command = recorded["command"]
    code = main(
        ["replay", str(recorded["tape"]), "--candidate-cmd", command, "--baseline-cmd", command,
         "--deps", str(recorded["deps"]), "--pace", "asap", "--out", str(out)]
    )  # fmt: skip
    assert code == 0, capsys.readouterr()
    rows = [row for batch in read_results([out]) for row in batch.to_pylist()]
    assert len(rows) == ORDERS
    for row in rows:
        # What the service answered with its real dependencies, from the mocks alone.
        assert row["candidate_body"] == row["baseline_body"] == recorded["answer"]

    info = read_run(out)
    assert set(info["deps"]) == {"candidate", "baseline"}
    for role, entry in info["deps"].items():
        assert entry["mode"] == "mock" and entry["proxy"].startswith("http://127.0.0.1:")
        assert entry["calls"] == f"deps/{role}.calls.jsonl"
        assert entry["faults"] == f"deps/{role}.faults.json"
    proxies = deps_proxies(out)
    assert proxies["candidate"].proxy != proxies["baseline"].proxy

    for role, proxy in proxies.items():
        assert proxy.calls == out.absolute() / "deps" / f"{role}.calls.jsonl"
        calls = read_calls(str(proxy.calls))
        assert len(calls) == 2 * ORDERS
        assert {c["match"] for c in calls} == {"exact"}
        assert {(c["scheme"], c["host"]) for c in calls} == {
            ("http", "127.0.0.1"),
            ("https", "127.0.0.1"),
        }
        sent = {row[f"{role}_trace_id"] for row in rows}
        assert len(sent) == ORDERS and None not in sent
        by_trace: dict[str, set[str]] = {}
        for call in calls:
            _, trace, span, _ = call["traceparent"].split("-")
            by_trace.setdefault(trace, set()).add(span)
        # Each request's two calls carry the trace id the replayer sent it, each with a
        # span of its own.
        assert set(by_trace) == sent
        assert all(len(spans) == 2 for spans in by_trace.values())
    assert not _none_left(str(out)), "a deps proxy outlived the replay"
    assert not _none_left(str(SERVICE)), "a build outlived the replay"


def test_a_failed_replay_leaves_no_proxy_running(
    recorded: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    code = main(
        ["replay", str(recorded["tape"]), "--candidate-cmd", recorded["command"],
         "--baseline-cmd", "echo broken; exit 3", "--deps", str(recorded["deps"]),
         "--out", str(out)]
    )  # fmt: skip
    assert code == 2
    assert "the baseline build exited (code 3)" in capsys.readouterr().err
    # Both proxies had started (before the builds), and both are gone.
    assert (out / "deps" / "candidate.log").exists() and (out / "deps" / "baseline.log").exists()
    assert not _none_left(str(out)), "a deps proxy outlived the failed replay"
    assert not _none_left(str(SERVICE)), "a build outlived the failed replay"


def test_deps_needs_launched_builds(
    recorded: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["replay", str(recorded["tape"]), "--candidate", "http://127.0.0.1:9",
         "--deps", str(recorded["deps"])]
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--deps" in err[0] and "needs launched builds" in err[0]


def test_deps_tapes_without_recorded_calls_is_the_mock_s_own_error(
    recorded: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    code = main(
        ["replay", str(recorded["tape"]), "--candidate-cmd", recorded["command"],
         "--deps", str(recorded["tape"]), "--out", str(out)]
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert f"--deps {recorded['tape']}: no recorded dependency calls" in err[0]
    assert not _none_left(str(out))
