"""The `shadowtape` command's own conventions: unknown flags, closed pipes, paths the
machine refuses. Real processes, as users run them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_TAPE = ROOT / "fixtures" / "tapes" / "demo"


def shadowtape(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shadowtape", *args], capture_output=True, text=True, timeout=60
    )


def test_a_misspelled_flag_is_the_commands_error_with_the_flag_it_meant() -> None:
    done = shadowtape(
        "replay", str(DEMO_TAPE), "--candidate", "http://127.0.0.1:1", "--concurency", "4"
    )
    assert done.returncode == 2
    assert done.stderr.startswith("shadowtape replay: error: unrecognized argument --concurency")
    assert "did you mean --concurrency?" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    far = shadowtape("inspect", str(DEMO_TAPE), "--bogus")
    assert far.returncode == 2 and "did you mean" not in far.stderr
    # Never taken as an abbreviation: here it would switch on mutating requests.
    short = shadowtape("replay", str(DEMO_TAPE), "--candidate", "http://127.0.0.1:1", "--allow")
    assert short.returncode == 2 and "did you mean --allow-mutating?" in short.stderr


def test_a_closed_pipe_is_not_read_as_regressions() -> None:
    """`shadowtape inspect | head -1`: exit 141 (as a shell says SIGPIPE), not 1 (the
    gate's regressions), and no traceback."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "shadowtape", "inspect", str(DEMO_TAPE)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # gone before the command (still importing) writes a byte
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 141
    assert b"Traceback" not in err and b"Exception ignored" not in err


def test_a_path_the_machine_refuses_is_one_line_not_an_internal_error(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    done = shadowtape(
        "replay", str(DEMO_TAPE), "--candidate", "http://127.0.0.1:1",
        "--out", str(tmp_path / "afile" / "run"),
    )  # fmt: skip
    assert done.returncode == 2
    assert "afile/run: Not a directory" in done.stderr and "internal error" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
