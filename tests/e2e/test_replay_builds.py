"""`shadowtape replay --candidate-cmd ...`: a CI job in one command, with real processes.
The builds are launched, replayed against, and gone afterwards: after a passing run, a
failing gate, a build that would not start, and SIGTERM to shadowtape itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shadowtape.cli import main
from shadowtape.replay import read_results, read_run
from tests.procfs import alive
from tests.replay.helpers import ex, write_tape

ROOT = Path(__file__).resolve().parents[2]
SERVE = f"{sys.executable} {ROOT / 'tests' / 'build_server.py'} {{port}}"

pytestmark = [
    pytest.mark.e2e,
    # cli.main imports every command, and mitmproxy (imported by another command) uses
    # pyparsing names that pyparsing 3.3 deprecates: not this command's warning to fix.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def _tape(folder: Path, n: int = 5, gap: float = 0.001) -> Path:
    return write_tape(folder, [ex(f"/api/{i}", at=i * gap) for i in range(n)])


def _with_grandchild(tmp_path: Path, command: str = SERVE) -> str:
    """``command``, started after a background sleep; both note their pid in ``pids``."""
    return f"sleep 1000 & echo $! >> {tmp_path}/pids; echo $$ >> {tmp_path}/pids; exec {command}"


def _pids(tmp_path: Path) -> set[int]:
    return {int(line) for line in (tmp_path / "pids").read_text().split()}


def _gone(pids: set[int], within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not any(alive(pid) for pid in pids)


def _replay(tmp_path: Path, candidate_cmd: str, *flags: str) -> int:
    """`shadowtape replay` of a fresh tape to the build ``candidate_cmd``, into tmp_path/run."""
    tape = _tape(tmp_path / "tape")
    out = tmp_path / "run"
    return main(["replay", str(tape), "--candidate-cmd", candidate_cmd, *flags, "--out", str(out)])


def test_a_ci_job_in_one_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    code = _replay(tmp_path, _with_grandchild(tmp_path), "--baseline-cmd", SERVE, "--pace", "asap")
    assert code == 0, capsys.readouterr()
    info = read_run(out)
    assert info["counts"]["replayed"] == 5
    assert info["candidate"].startswith("http://127.0.0.1:")
    assert info["baseline"].startswith("http://127.0.0.1:")
    assert info["candidate"] != info["baseline"]
    statuses = [s for b in read_results([out]) for s in b.column("candidate_status").to_pylist()]
    assert statuses == [200] * 5
    assert (out / "builds" / "candidate.log").read_text().startswith("serving on")
    assert (out / "report.json").exists()
    assert len(_pids(tmp_path)) == 2 and _gone(_pids(tmp_path))


def test_a_failing_gate_still_stops_the_builds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _replay(
        tmp_path, _with_grandchild(tmp_path, f"env BUILD_STATUS=500 {SERVE}"), "--pace", "asap"
    )
    assert code == 1, capsys.readouterr()
    assert _gone(_pids(tmp_path))


def test_a_build_that_exits_at_once_is_one_line_with_its_output_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _replay(tmp_path, "echo 'Error: address already in use' >&2; exit 7")
    err = capsys.readouterr().err
    assert code == 2
    assert "candidate| Error: address already in use" in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("shadowtape replay: error: the candidate build exited (code 7)")
    assert "builds/candidate.log" in last


def test_a_build_that_never_listens_times_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _replay(tmp_path, _with_grandchild(tmp_path, "sleep 1000"), "--build-timeout", "0.5")
    assert code == 2
    assert "did not listen on port" in capsys.readouterr().err
    assert _gone(_pids(tmp_path))


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--candidate", "http://127.0.0.1:9", "--candidate-cmd", SERVE],
            "--candidate http://127.0.0.1:9 and --candidate-cmd both name the candidate",
        ),
        (
            ["--candidate-cmd", SERVE, "--baseline", "recorded", "--baseline-cmd", SERVE],
            "--baseline recorded and --baseline-cmd both name the baseline",
        ),
        ([], "give the candidate: --candidate URL (a running build) or --candidate-cmd"),
    ],
)
def test_a_target_is_named_once(
    tmp_path: Path, flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(_tape(tmp_path / "tape")), *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_the_command_line_replaces_the_config_files_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "shadowtape.toml"
    both = f'pace = "asap"\nbaseline-cmd = "{SERVE}"\n'
    config.write_text(f'[replay]\ncandidate = "http://127.0.0.1:9"\n{both}')
    tape = _tape(tmp_path / "tape")
    out = tmp_path / "run"
    args = ["replay", str(tape), "--config", str(config), "--out", str(out)]
    assert main([*args, "--candidate-cmd", SERVE]) == 0, capsys.readouterr()
    assert read_run(out)["candidate"] != "http://127.0.0.1:9"

    config.write_text(f'[replay]\ncandidate-cmd = "{SERVE}"\n{both}')
    assert main([*args[:-1], str(tmp_path / "run2")]) == 0, capsys.readouterr()
    assert (tmp_path / "run2" / "builds" / "candidate.log").exists()


def _shadowtape(tmp_path: Path, *flags: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["PYTHONPATH"] = str(ROOT / "src")
    return subprocess.Popen(
        [sys.executable, "-m", "shadowtape", "replay", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )


@pytest.mark.parametrize("when", ["replaying", "starting"])
def test_sigterm_to_shadowtape_stops_the_builds(tmp_path: Path, when: str) -> None:
    tape = _tape(tmp_path / "tape", n=400, gap=0.05)
    command = SERVE if when == "replaying" else "sleep 1000"
    proc = _shadowtape(
        tmp_path,
        str(tape),
        "--candidate-cmd",
        _with_grandchild(tmp_path, command),
        "--out",
        str(tmp_path / "run"),
        "--progress",
        "off",
    )
    try:
        deadline = time.monotonic() + 20
        ready = tmp_path / ("run/results" if when == "replaying" else "pids")
        while time.monotonic() < deadline and not (
            (tmp_path / "pids").exists() and len(_pids(tmp_path)) == 2 and ready.exists()
        ):
            time.sleep(0.05)
        time.sleep(0.5)
        assert proc.poll() is None, proc.communicate()
        pids = _pids(tmp_path)
        assert all(alive(pid) for pid in pids)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    # While replaying, the replay's own handler stops the run (and keeps its results).
    assert ("the results so far are kept" in stderr) == (when == "replaying")
    assert _gone(pids)
