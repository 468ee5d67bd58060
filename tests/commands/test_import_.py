"""`shadowtape import` as a user runs it: a real process, so what it prints on stderr
(warnings included) is what a person sees."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import orjson
import pytest

from shadowtape import TapeReader
from tests.commands import helpers

ENTRY = {
    "startedDateTime": "2024-01-02T03:04:05.123Z",
    "time": 5,
    "request": {"method": "GET", "url": "http://shop.test/items", "headers": []},
    "response": {"status": 200, "headers": [], "content": {"text": "[]"}},
}


def shadowtape(
    *args: str, key: str | None = "import-tests-key"
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SHADOWTAPE_SANITIZE_KEY"}
    if key is not None:
        env["SHADOWTAPE_SANITIZE_KEY"] = key
    return helpers.shadowtape(*args, env=env)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def har(tmp_path: Path) -> Path:
    path = tmp_path / "capture.har"
    path.write_bytes(orjson.dumps({"log": {"version": "1.2", "entries": [ENTRY]}}))
    return path


@pytest.mark.parametrize("fmt", ["har", "mitm", "gor"])
def test_an_empty_file_is_one_error_line_in_every_format(tmp_path: Path, fmt: str) -> None:
    empty = tmp_path / "capture"
    empty.write_bytes(b"")
    result = shadowtape("import", fmt, str(empty), "--tapes", str(tmp_path / "tapes"))
    assert one_line(result) == (
        f"shadowtape import: error: {empty}: empty file (0 bytes), nothing to import; check "
        "that it is the capture you meant and that it was written to the end"
    )
    assert result.stdout == ""
    assert not (tmp_path / "tapes").exists()


@pytest.mark.parametrize(
    ("fmt", "content"),
    [("har", b'{"log": {"version": "1.2", "entries": []}}'), ("gor", b"\n\n")],
)
def test_a_capture_without_requests_is_an_error_too(
    tmp_path: Path, fmt: str, content: bytes
) -> None:
    path = tmp_path / "capture"
    path.write_bytes(content)
    line = one_line(shadowtape("import", fmt, str(path), "--tapes", str(tmp_path / "tapes")))
    assert line.endswith(
        f"{path}: holds no requests, nothing to import; check that it is the "
        "capture you meant and that it was written to the end"
    )


def test_an_empty_file_does_not_stop_the_others(har: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.har"
    empty.write_bytes(b"")
    tapes = tmp_path / "tapes"
    result = shadowtape("import", "har", str(empty), str(har), "--tapes", str(tapes))
    assert result.returncode == 2
    assert f"{har}: 1 exchange imported, 0 skipped" in result.stdout
    assert TapeReader(tapes).count() == 1


def test_a_failing_import_prints_only_its_error_not_the_key_warning(
    har: Path, tmp_path: Path
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("")
    line = one_line(shadowtape("import", "har", str(har), "--tapes", str(afile), key=None))
    assert line == (
        f"shadowtape import: error: --tapes {afile}: not a folder; give a tape folder, new "
        "or existing"
    )
    report = tmp_path / "report.json"
    report.write_text('{"summary": {}}')
    line = one_line(
        shadowtape("import", "har", str(report), "--tapes", str(tmp_path / "t"), key=None)
    )
    assert line.endswith(f"{report}: not a HAR file (no log.entries list in the JSON)")
    line = one_line(shadowtape("import", "har", str(har), "--tapes", str(afile / "sub"), key=None))
    assert f"({afile} is a file)" in line
    assert afile.read_text() == ""


def test_a_working_import_without_a_key_still_warns(har: Path, tmp_path: Path) -> None:
    result = shadowtape("import", "har", str(har), "--tapes", str(tmp_path / "t"), key=None)
    assert result.returncode == 0, result.stderr
    assert "SHADOWTAPE_SANITIZE_KEY is not set" in result.stderr
    assert result.stdout == f"{har}: 1 exchange imported, 0 skipped\n"


def test_importing_the_same_export_twice_keeps_ids_unique(tmp_path: Path) -> None:
    demo = Path(__file__).resolve().parents[2] / "fixtures" / "tapes" / "demo"
    har, tapes = tmp_path / "demo.har", tmp_path / "tapes"
    assert shadowtape("export", "har", str(demo), "--out", str(har)).returncode == 0
    first = shadowtape("import", "har", str(har), "--tapes", str(tapes))
    again = shadowtape("import", "har", str(har), "--tapes", str(tapes))
    assert first.stdout == f"{har}: 457 exchanges imported, 0 skipped\n"
    assert again.returncode == 0, again.stderr
    assert again.stdout == (
        f"{har}: 0 exchanges imported, 457 skipped: 457 already in the tape (same exchange "
        "id) (entry 0, entry 1, entry 2, ...)\n"
    )
    ids = [e.id for e in TapeReader(tapes).exchanges(bodies=False)]
    assert len(ids) == len(set(ids)) == 457
