"""`shadowtape show ID [RUN_DIR | TAPES]` on a real tape and a real run folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from shadowtape.cli import main
from tests.commands.helpers import shadowtape
from tests.replay.helpers import ex, write_tape
from tests.servers import Received, Reply, serve

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _app(request: Received) -> Reply:
    # /p/1 answers as recorded; /p/2 changed a field's type.
    body = b'{"recorded":true}' if request.path == "/p/1" else b'{"recorded":"yes"}'
    return Reply(200, body=body)  # no Content-Type, as recorded


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, list[str]]:
    monkeypatch.chdir(tmp_path)
    exchanges = [
        ex("/p/1", at=0.0, headers=[("Accept", "application/json")]),
        ex("/p/2", at=0.001),
        ex("/p/3", at=0.002, method="POST", body=b'{"qty":1}'),
    ]
    tape = write_tape(tmp_path / "tape", exchanges)
    with serve(_app) as server:
        code = main(
            ["replay", "tape", "--candidate", server.url, "--out", "run", "--progress", "off"]
        )
    assert code == 1  # /p/2 is a regression
    return tape, tmp_path / "run", [e.id for e in exchanges]


def shown(run_dir: Path, *args: str) -> str:
    """``shadowtape show ARGS`` from the run folder's parent, which must succeed: its output."""
    done = shadowtape("show", *args, cwd=run_dir.parent)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_show_with_a_run_folder_gives_the_recording_the_answers_and_the_diff(
    run: tuple[Path, Path, list[str]],
) -> None:
    _, run_dir, ids = run
    out = shown(run_dir, ids[1], "run")
    assert out.startswith(f"exchange {ids[1]}\n")
    assert "GET http://api.prod.test/p/2 HTTP/1.1" in out  # as recorded, from the tapes
    assert "recorded response\n  200" in out
    assert "candidate (http://127.0.0.1:" in out and '{"recorded":"yes"}' in out
    assert "baseline (recorded): the recorded response above" in out
    assert "1 difference, baseline -> candidate" in out
    assert "body_type  $.recorded: True -> 'yes'" in out

    same = shadowtape("show", ids[0], "run", cwd=run_dir.parent)
    assert "no differences between the baseline and the candidate" in same.stdout
    assert "Accept: application/json" in same.stdout


def test_an_exchange_the_run_did_not_send_says_why(run: tuple[Path, Path, list[str]]) -> None:
    _, run_dir, ids = run
    out = shown(run_dir, ids[2], str(run_dir))
    assert "not sent: mutating (--allow-mutating sends it)" in out
    assert '{"qty":1}' in out


def test_show_with_tapes_only_and_as_json(run: tuple[Path, Path, list[str]]) -> None:
    tape, run_dir, ids = run
    out = shown(run_dir, ids[0], str(tape))
    assert "recorded response" in out and "run " not in out

    data = json.loads(shadowtape("show", ids[1], "run", "--json", cwd=run_dir.parent).stdout)
    assert data["id"] == ids[1]
    assert data["recorded"]["request"]["url"] == "http://api.prod.test/p/2"
    assert data["answers"]["candidate"]["body"]["text"] == '{"recorded":"yes"}'
    assert data["differences"] == [
        {"kind": "body_type", "location": "$.recorded", "baseline": True, "candidate": "yes"}
    ]


def test_a_run_whose_tapes_moved_still_shows_its_answers_and_takes_tapes(
    run: tuple[Path, Path, list[str]], tmp_path: Path
) -> None:
    tape, run_dir, ids = run
    moved = tmp_path / "moved"
    shutil.move(tape, moved)
    out = shown(run_dir, ids[1], "run")
    assert "give --tapes to show the recording" in out
    assert "1 difference" in out
    found = shadowtape("show", ids[1], "run", "--tapes", str(moved), cwd=run_dir.parent)
    assert "recorded response" in found.stdout


def test_an_unknown_id_or_no_place_is_one_line_and_exit_2(
    run: tuple[Path, Path, list[str]],
) -> None:
    _, run_dir, _ = run
    done = shadowtape("show", "01NOSUCHEXCHANGE", "run", cwd=run_dir.parent)
    assert done.returncode == 2
    assert done.stderr.startswith("shadowtape show: error: no exchange 01NOSUCHEXCHANGE")
    assert len(done.stderr.strip().splitlines()) == 1
    bare = shadowtape("show", "01NOSUCHEXCHANGE", cwd=run_dir.parent)
    assert bare.returncode == 2 and "name a run folder or the tapes" in bare.stderr


def test_tapes_that_do_not_hold_the_exchange_are_said_so(
    run: tuple[Path, Path, list[str]], tmp_path: Path
) -> None:
    _, run_dir, ids = run
    other = write_tape(tmp_path / "other", [ex("/elsewhere")])
    out = shown(run_dir, ids[1], "run", "--tapes", str(other))
    assert f"the recording: not in {other}" in out
    assert "1 difference" in out
