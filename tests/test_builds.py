"""shadowtape.builds with real processes: a build is served on its port with the
replayer's environment, a build that fails to start says why with its output, and every
process a build started is gone when ``launched`` is left, however it is left."""

from __future__ import annotations

import contextlib
import os
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from shadowtape.builds import Build, BuildCommand, launched, plan
from shadowtape.errors import ConfigError, ReplayError
from tests.procfs import alive, descendants

SERVER = Path(__file__).with_name("build_server.py")
SERVE = f"{sys.executable} {SERVER} {{port}}"


def _builds(tmp_path: Path, command: str, role: str = "candidate") -> list[Build]:
    return plan([BuildCommand(role, command)], tmp_path / "run")


def _get(build: Build) -> tuple[int, str]:
    with urllib.request.urlopen(build.url + "/x", timeout=5) as answer:
        return answer.status, answer.headers["X-Foo"]


def _gone(pids: set[int], within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not any(alive(pid) for pid in pids)


def test_a_build_serves_on_its_port_with_the_replayers_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUILD_STATUS", "201")
    builds = _builds(tmp_path, f"env FOO=bar {SERVE}")
    before = descendants(os.getpid())  # a fixture's server may already run here
    with launched(builds) as running:
        assert running[0].url == f"http://127.0.0.1:{builds[0].port}"
        assert _get(running[0]) == (201, "bar")
        started = descendants(os.getpid()) - before
        assert started
    assert _gone(started)
    assert "serving on" in (tmp_path / "run" / "builds" / "candidate.log").read_text()


def test_port_is_also_in_the_environment(tmp_path: Path) -> None:
    builds = _builds(tmp_path, f'{sys.executable} {SERVER} "$PORT"')
    with launched(builds):
        assert _get(builds[0])[0] == 200


def test_each_build_has_its_own_port_and_log(tmp_path: Path) -> None:
    builds = plan(
        [BuildCommand("candidate", SERVE), BuildCommand("baseline", SERVE)], tmp_path / "run"
    )
    assert builds[0].port != builds[1].port
    with launched(builds):
        assert [_get(b)[0] for b in builds] == [200, 200]
    assert sorted(p.name for p in (tmp_path / "run" / "builds").iterdir()) == [
        "baseline.log",
        "candidate.log",
    ]


def test_a_build_that_exits_at_once_says_so_with_its_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    builds = _builds(tmp_path, "echo starting; echo 'no such module: app' >&2; exit 3")
    with pytest.raises(ReplayError) as raised, launched(builds):
        pytest.fail("a build that exited is not running")
    message = str(raised.value)
    assert "\n" not in message
    assert "the candidate build exited (code 3) before listening on port" in message
    assert "candidate.log (last lines above)" in message
    err = capsys.readouterr().err
    assert "candidate| starting" in err and "candidate| no such module: app" in err


def test_a_build_that_never_listens_times_out_and_is_stopped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    builds = _builds(tmp_path, "echo waiting; sleep 1000")
    started = time.monotonic()
    never = r"did not listen on port \d+ within 0.5 s"
    with pytest.raises(ReplayError, match=never), launched(builds, timeout=0.5):
        pass
    assert time.monotonic() - started < 5
    assert builds[0].process is not None and builds[0].process.poll() is not None
    assert "candidate| waiting" in capsys.readouterr().err


def test_a_bad_timeout_or_command_is_a_config_error(tmp_path: Path) -> None:
    with (
        pytest.raises(ConfigError, match="--build-timeout"),
        launched(_builds(tmp_path, SERVE), timeout=0),
    ):
        pass
    with pytest.raises(ConfigError, match="--baseline-cmd is empty"):
        BuildCommand("baseline", "  ")


def _with_grandchild(tmp_path: Path) -> str:
    return f"sleep 1000 & echo $! > {tmp_path}/pids; echo $$ >> {tmp_path}/pids; exec {SERVE}"


def _pids(tmp_path: Path) -> set[int]:
    return {int(line) for line in (tmp_path / "pids").read_text().split()}


def test_children_and_grandchildren_are_stopped_after_the_run(tmp_path: Path) -> None:
    builds = _builds(tmp_path, _with_grandchild(tmp_path))
    with launched(builds):
        pids = _pids(tmp_path)
        assert len(pids) == 2 and all(alive(pid) for pid in pids)
    assert _gone(pids)


def test_children_are_stopped_when_the_run_fails_or_is_interrupted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for error in (ReplayError("the target answered nothing"), KeyboardInterrupt()):
        builds = _builds(tmp_path, _with_grandchild(tmp_path))
        with pytest.raises(type(error)), launched(builds):
            pids = _pids(tmp_path)
            raise error
        assert _gone(pids)
    # A failed run shows the builds' output; an interrupted one does not.
    assert capsys.readouterr().err.count("the candidate build's last output") == 1


def test_a_build_that_ignores_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    builds = _builds(tmp_path, f"trap '' TERM; sleep 1000 & exec {SERVE}")
    before = descendants(os.getpid())  # a fixture's server may already run here
    with launched(builds, grace=0.3):
        started = descendants(os.getpid()) - before
    assert _gone(started, within=2)


def test_a_build_that_crashed_during_the_run_shows_its_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    builds = _builds(tmp_path, f"{SERVE} & sleep 0.5; echo 'segfault'; exit 139")
    with launched(builds):
        time.sleep(1)
    assert builds[0].exited == 139
    assert "last output (it had exited, code 139)" in capsys.readouterr().err


def test_a_build_environment_is_entered_before_and_left_after_its_build(
    tmp_path: Path,
) -> None:
    events: list[str] = []

    @contextlib.contextmanager
    def proxy(role: str) -> Iterator[Mapping[str, str]]:
        events.append(f"enter {role}")
        yield {"FOO": f"proxy-of-{role}"}
        events.append(f"leave {role}: build running={builds[0].process.poll() is None}")  # type: ignore[union-attr]

    builds = _builds(tmp_path, SERVE)
    with launched(builds, environments=[proxy]):
        assert _get(builds[0]) == (200, "proxy-of-candidate")
    assert events == ["enter candidate", "leave candidate: build running=False"]
