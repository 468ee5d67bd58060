"""Exit codes that do not cry wolf: a replay that could not judge anything says why, in
one line, with exit 2, instead of failing the gate (exit 1) for the wrong reason."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from shadowtape.cli import main
from shadowtape.replay import read_run
from tests.replay.aserver import Arrival, aserve
from tests.replay.helpers import ex, write_tape
from tests.servers import Reply, free_port

pytestmark = [
    pytest.mark.e2e,
    # cli.main imports every command, and mitmproxy (imported by another command) uses
    # pyparsing names that pyparsing 3.3 deprecates: not this command's warning to fix.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def _tape(folder: Path, n: int = 40, method: str = "GET") -> Path:
    return write_tape(folder, [ex(f"/a/{i}", method=method, at=i * 0.001) for i in range(n)])


def _replay(capsys: pytest.CaptureFixture[str], tape: Path, *flags: str) -> tuple[int, str]:
    code = main(["replay", str(tape), "--progress", "off", *flags])
    err = capsys.readouterr().err
    return code, err


def test_a_closed_port_stops_the_run_after_the_first_n_requests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    run_dir = tmp_path / "run"
    code, err = _replay(
        capsys, _tape(tmp_path / "tape"), "--candidate", dead, "--out", str(run_dir),
        "--abort-after", "5", "--pace", "asap", "--concurrency", "1",
    )  # fmt: skip
    assert code == 2
    assert err == (
        f"shadowtape replay: error: candidate {dead}: connection refused on all of its "
        "first 5 requests; is it running?\n"
    )
    info = read_run(run_dir)
    assert info["counts"]["replayed"] < 40 and info["error"] in err
    assert not (run_dir / "report.json").exists()  # no verdict on a build that was not up


def test_a_target_that_resets_every_connection_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def reset(_: Arrival) -> Reply | None:
        return None

    with aserve(reset) as server:
        code, err = _replay(
            capsys, _tape(tmp_path / "tape"), "--candidate", server.url,
            "--out", str(tmp_path / "run"), "--abort-after", "4",
        )  # fmt: skip
    assert code == 2
    assert f"candidate {server.url}: connection reset on all of its first 4 requests" in err
    assert len(err.strip().splitlines()) == 1


def test_a_target_that_never_answers_is_stopped_within_the_timeouts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Ten times the timeout: never an answer to the replay. Not longer: the test server's
    # stop waits for its pending replies, for up to 5 s.
    async def silent(_: Arrival) -> Reply:
        return Reply(200, body=b"{}", delay=3.0)

    with aserve(silent) as server:
        started = time.monotonic()
        code, err = _replay(
            capsys, _tape(tmp_path / "tape", n=200), "--candidate", server.url,
            "--out", str(tmp_path / "run"), "--abort-after", "3", "--timeout", "0.3",
        )  # fmt: skip
        took = time.monotonic() - started
    assert code == 2
    assert f"candidate {server.url}: timed out on all of its first 3 requests" in err
    assert took < 10


def test_a_live_baseline_that_is_down_is_named_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with aserve() as server:
        code, err = _replay(
            capsys, _tape(tmp_path / "tape", n=10), "--candidate", server.url,
            "--baseline", dead, "--out", str(tmp_path / "run"),
        )  # fmt: skip
    # Fewer requests than --abort-after (20): the whole run, then the same line.
    assert code == 2
    assert f"baseline {dead}: connection refused on all of its 10 requests" in err


def test_the_config_file_sets_abort_after(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "shadowtape.toml").write_text("[replay]\nabort-after = 2\n")
    monkeypatch.chdir(tmp_path)
    dead = f"http://127.0.0.1:{free_port()}"
    code, err = _replay(
        capsys, _tape(tmp_path / "tape"), "--candidate", dead, "--out", "run",
        "--pace", "asap", "--concurrency", "1",
    )  # fmt: skip
    assert code == 2 and "on all of its first 2 requests" in err


def test_a_selection_that_matches_nothing_is_exit_2_not_a_failed_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tape = _tape(tmp_path / "tape", n=3)
    with aserve() as server:
        code, err = _replay(
            capsys, tape, "--candidate", server.url, "--method", "GETT", "--out",
            str(tmp_path / "run"),
        )  # fmt: skip
        assert code == 2
        assert err.startswith("shadowtape replay: error: the selection matched no exchanges")
        assert len(err.strip().splitlines()) == 1
        (tmp_path / "empty").mkdir()
        code, err = _replay(
            capsys, tmp_path / "empty", "--candidate", server.url, "--out",
            str(tmp_path / "run2"),
        )  # fmt: skip
        assert code == 2 and "the selection matched no exchanges" in err
        assert server.arrivals == []


def test_a_selection_of_mutating_requests_names_allow_mutating(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tape = _tape(tmp_path / "tape", n=3, method="POST")
    with aserve() as server:
        code, err = _replay(capsys, tape, "--candidate", server.url, "--out", str(tmp_path / "run"))
        assert server.arrivals == []
    assert code == 2
    assert "every selected request (3) is mutating" in err and "--allow-mutating" in err
    assert len(err.strip().splitlines()) == 1


def test_the_installed_command_says_it_in_one_line(tmp_path: Path) -> None:
    """The same, as a shell runs it: stderr is the one line, exit 2."""
    done = subprocess.run(
        [
            sys.executable, "-m", "shadowtape", "replay", str(_tape(tmp_path / "tape", n=3)),
            "--candidate", f"http://127.0.0.1:{free_port()}", "--out", str(tmp_path / "run"),
            "--progress", "off",
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().endswith(
        "connection refused on all of its 3 requests; is it running?"
    )
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_negative_abort_after_is_refused_before_anything_is_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _replay(
        capsys, _tape(tmp_path / "tape", n=1), "--candidate", "http://127.0.0.1:1",
        "--abort-after", "-1", "--out", str(tmp_path / "run"),
    )  # fmt: skip
    assert code == 2
    assert "--abort-after must be 0 (never stop early) or more, not -1" in err
    assert not (tmp_path / "run").exists()
