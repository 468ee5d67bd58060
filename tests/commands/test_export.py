"""`shadowtape export har` as a user runs it: a real process, the demo tape, and a check
that no --out ever costs recorded data. The many-paths check calls the command in this
process (``cli.main``): its subject is which paths are refused, and a real process's exit
code and single error line are held by the other tests here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from shadowtape import TapeReader
from shadowtape.cli import main

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "tapes" / "demo"
DEMO_COUNT = 457


def shadowtape(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "shadowtape", *args], capture_output=True, timeout=60
    )


def one_line(result: subprocess.CompletedProcess[bytes]) -> str:
    """The single error line a failed command prints, checked to be just that."""
    assert result.returncode == 2, result.stderr
    assert result.stdout == b""
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def one_line_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """``one_line`` of ``shadowtape ARGS`` run by ``cli.main`` in this process."""
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def tape(tmp_path: Path) -> Path:
    copy = tmp_path / "tape"
    shutil.copytree(DEMO, copy)
    return copy


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_tape_part_is_never_overwritten(tape: Path) -> None:
    [part] = tape.rglob("*.parquet")
    before = _snapshot(tape)
    for args in (["--out", str(part)], ["--out", str(part), "--force"]):
        line = one_line(shadowtape("export", "har", str(tape), *args))
        assert line.startswith(f"shadowtape export: error: --out {part}: tape readers would")
    assert _snapshot(tape) == before
    assert TapeReader(tape).count() == DEMO_COUNT


def test_nothing_is_written_into_a_tape_folder(
    tape: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not into the tape being exported, nor a .parquet name into any folder, where the
    next read of that folder would fail on it."""
    other = tmp_path / "other"
    shutil.copytree(DEMO, other)
    [part] = tape.rglob("*.parquet")
    cases = {
        str(other / "x.parquet"): "tape readers would take a .parquet file for a tape part",
        str(tape / "x.har"): f"is inside the tape {tape}",
        str(part.parent / "x.har"): f"is inside the tape {tape}",
        str(other / part.relative_to(tape).parent / ".x.har"): "inside a tape's partition",
        # Another tape, not the one exported: its root, and its source= folder.
        str(other / "x.har"): f"is inside the tape {other}",
        str(other / part.relative_to(tape).parts[0] / "x.har"): "inside a tape's partition",
    }
    before = _snapshot(tape), _snapshot(other)
    for out, says in cases.items():
        for tapes in (str(tape), str(part), f"{tape}/**/*.parquet"):
            line = one_line_in_process(capsys, "export", "har", tapes, "--out", out, "--force")
            assert line.startswith("shadowtape export: error: --out "), line
            assert says in line, line
    assert (_snapshot(tape), _snapshot(other)) == before
    assert TapeReader([tape, other]).count() == 2 * DEMO_COUNT


def test_a_har_may_go_beside_a_loose_part_file(tape: Path, tmp_path: Path) -> None:
    """A part copied out of its tape's layout: its folder is no tape."""
    [part] = tape.rglob("*.parquet")
    loose = tmp_path / "loose"
    loose.mkdir()
    shutil.copy(part, loose / "p.parquet")
    done = shadowtape("export", "har", str(loose / "p.parquet"), "--out", str(loose / "p.har"))
    assert done.returncode == 0, done.stderr
    assert (loose / "p.har").stat().st_size > 0


def test_an_existing_file_is_kept_unless_force(tape: Path, tmp_path: Path) -> None:
    out = tmp_path / "capture.har"
    out.write_text("my notes")
    line = one_line(shadowtape("export", "har", str(tape), "--out", str(out)))
    assert line == (
        f"shadowtape export: error: --out {out}: already exists; give a new file name, or "
        "add --force to replace it"
    )
    assert out.read_text() == "my notes"
    result = shadowtape("export", "har", str(tape), "--out", str(out), "--force")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == f"{DEMO_COUNT} exchanges exported to {out}\n"
    assert len(orjson.loads(out.read_bytes())["log"]["entries"]) == DEMO_COUNT
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["capture.har"]


def test_a_folder_or_a_device_is_refused_in_one_line(tape: Path, tmp_path: Path) -> None:
    line = one_line(shadowtape("export", "har", str(tape), "--out", str(tmp_path)))
    assert line.endswith(f"--out {tmp_path}: is a folder; give the name of the HAR file to write")
    line = one_line(shadowtape("export", "har", str(tape), "--out", "/dev/null", "--force"))
    assert "exists and is not a regular file" in line


def test_out_dash_writes_the_har_to_stdout_and_the_summary_to_stderr(
    tape: Path, tmp_path: Path
) -> None:
    # Run from an empty folder, where a file named "-" would show; with this process's
    # import path, so that the same shadowtape runs.
    result = subprocess.run(
        [sys.executable, "-m", "shadowtape", "export", "har", str(tape), "--out", "-"],
        capture_output=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(os.path.abspath(p) for p in sys.path)},
    )
    assert result.returncode == 0, result.stderr
    assert len(orjson.loads(result.stdout)["log"]["entries"]) == DEMO_COUNT
    assert result.stderr.decode() == f"{DEMO_COUNT} exchanges exported to standard output\n"
    assert not (tmp_path / "-").exists()


def test_out_dash_writes_nothing_when_a_part_is_bad(tape: Path) -> None:
    (tape / "zz-bad.parquet").write_bytes(b"not parquet at all")
    line = one_line(shadowtape("export", "har", str(tape), "--out", "-"))
    assert "zz-bad.parquet: not a readable tape part" in line
