"""`shadowtape replay` as a user runs it: flags, exit codes, default folder, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from shadowtape.cli import main
from shadowtape.commands import replay as replay_command
from shadowtape.replay import read_results, read_run
from tests.replay.helpers import ex, write_tape
from tests.servers import Reply, serve

pytestmark = [
    pytest.mark.e2e,
    # cli.main imports every command, and mitmproxy (imported by another command) uses
    # pyparsing names that pyparsing 3.3 deprecates: not this command's warning to fix.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_report(monkeypatch: pytest.MonkeyPatch) -> None:
    # The report is another stage with its own tests; these test the replay command alone.
    monkeypatch.setattr(replay_command, "_write_reports", lambda run_dir, args: 0)


def _ok(_: object) -> Reply:
    return Reply(200, body=b"{}")


def _paths(run_dir: Path, replayed_only: bool = True) -> list[str]:
    rows = [row for batch in read_results(run_dir) for row in batch.to_pylist()]
    return [str(r["path"]) for r in rows if not replayed_only or r["skip_reason"] is None]


def test_replay_prints_where_results_went_in_a_new_timestamped_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tape = write_tape(tmp_path / "tape", [ex(f"/a/{i}", at=i * 0.001) for i in range(5)])
    monkeypatch.chdir(tmp_path)
    with serve(_ok) as server:
        code = main(["replay", str(tape), "--candidate", server.url, "--progress", "off"])
    assert code == 0
    (run_dir,) = (tmp_path / "shadowtape-runs").iterdir()
    out = capsys.readouterr().out
    assert "5 replayed, 0 skipped" in out and str(Path("shadowtape-runs") / run_dir.name) in out
    assert read_run(run_dir)["counts"]["replayed"] == 5


def test_selection_flags_and_filter_map_onto_the_tape_filter(tmp_path: Path) -> None:
    tape = write_tape(
        tmp_path / "tape",
        [
            ex("/api/a/orders", at=0.0),
            ex("/api/b/orders", at=0.001, status=500),
            ex("/api/c/users", at=0.002),
            ex("/other", at=0.003),
            ex("/api/d/orders", at=0.004, method="HEAD"),
        ],
    )
    with serve(_ok) as server:
        code = main(
            [
                "replay",
                str(tape),
                "--candidate",
                server.url,
                "--out",
                str(tmp_path / "run"),
                "--filter",
                "path=/api/*/orders",
                "--method",
                "get",
                "--filter",
                "status=2xx",
                "--progress",
                "off",
            ]
        )
    assert code == 0
    assert _paths(tmp_path / "run") == ["/api/a/orders"]
    filters = read_run(tmp_path / "run")["settings"]["filters"]
    assert filters["path"] == "/api/*/orders" and filters["methods"] == ["GET"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--candidate", "localhost:8080"], "is not an http:// or https:// URL"),
        (["--candidate", "http://127.0.0.1:1", "--shard", "5/4"], "shard"),
        (["--candidate", "http://127.0.0.1:1", "--header", "X: $NOPE_NOT_SET"], "NOPE_NOT_SET"),
        (["--candidate", "http://127.0.0.1:1", "--pace", "asap", "--rate", "5"], "contradict"),
        (
            ["--candidate", "http://127.0.0.1:1", "--pace", "asap", "--speed", "2"],
            "--speed applies to --pace recorded only (with --pace asap requests go as fast as "
            "--concurrency allows): drop --speed",
        ),
        (["--candidate", "http://127.0.0.1:1", "--rate", "5", "--speed", "2"], "drop --speed"),
        (
            ["--candidate", "http://127.0.0.1:1", "--pace", "recorded", "--rate", "5"],
            "--pace recorded keeps the recorded gaps and --rate replaces them",
        ),
        (
            [
                *("--candidate", "http://127.0.0.1:1", "--baseline", "http://127.0.0.1:2"),
                *("--repeat-sample", "0.5"),
            ],
            "drop --repeat-sample",
        ),
        (["--candidate", "http://127.0.0.1:1", "--filter", "colour=red"], "KEY=VALUE"),
        (
            ["--candidate", "http://127.0.0.1:1", "--insecure"],
            "--insecure only matters for https:// targets; none of "
            "--candidate/--baseline/--secondary is https: drop --insecure",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    tape = write_tape(tmp_path / "tape", [ex()])
    code = main(["replay", str(tape), "--out", str(tmp_path / "run"), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()  # nothing started


@pytest.mark.parametrize(("pacing", "planned"), [(["--pace", "asap"], False), ([], True)])
def test_run_json_has_a_schedule_only_when_sends_were_planned_and_report_reads_both(
    tmp_path: Path, pacing: list[str], planned: bool
) -> None:
    tape = write_tape(tmp_path / "tape", [ex(f"/a/{i}", at=i * 0.001) for i in range(5)])
    run_dir = tmp_path / "run"
    # The recorded answer, so that the gate passes and exit 0 means the report was written.
    with serve(lambda _: Reply(200, body=b'{"recorded":true}')) as server:
        flags = ["--candidate", server.url, "--out", str(run_dir), "--progress", "off"]
        assert main(["replay", str(tape), *flags, *pacing]) == 0
    written = read_run(run_dir)["schedule"]
    # Its keys are test_engine's; here, whether there is one.
    assert (written is not None and written["fell_behind"] is False) is planned
    assert main(["report", str(run_dir)]) == 0
    runs = orjson.loads((run_dir / "report.json").read_bytes())["runs"]
    assert [run["schedule"] for run in runs] == [written]


def test_missing_tape_and_used_out_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(tmp_path / "nope"), "--candidate", "http://127.0.0.1:1"]) == 2
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("")
    tape = write_tape(tmp_path / "tape", [ex()])
    args = ["replay", str(tape), "--candidate", "http://127.0.0.1:1", "--out"]
    assert main([*args, str(tmp_path / "used")]) == 2
    assert "already exists" in capsys.readouterr().err


def test_shards_split_the_tape_and_keep_sessions_together(tmp_path: Path) -> None:
    exchanges = [
        ex(f"/s/{i}", at=i * 0.001, headers=[("Cookie", f"session=u{i % 20}")]) for i in range(60)
    ]
    tape = write_tape(tmp_path / "tape", exchanges)
    runs = []
    with serve(_ok) as server:
        for index in (1, 2, 3):
            out = tmp_path / f"shard{index}"
            args = ["replay", str(tape), "--candidate", server.url, "--out", str(out)]
            assert (
                main([*args, "--shard", f"{index}/3", "--pace", "asap", "--progress", "off"]) == 0
            )
            runs.append(out)
    per_shard = [set(_paths(run)) for run in runs]
    assert sum(len(s) for s in per_shard) == 60
    assert set().union(*per_shard) == {f"/s/{i}" for i in range(60)}
    assert all(per_shard)  # twenty sessions over three shards: none empty
    for session in range(20):
        owners = {n for n, s in enumerate(per_shard) if f"/s/{session}" in s}
        members = {f"/s/{i}" for i in range(session, 60, 20)}
        assert len(owners) == 1 and members <= per_shard[owners.pop()]
    assert len(_paths_all(runs)) == 60
    assert read_run(runs[0])["shard"] == "1/3"


def _paths_all(runs: list[Path]) -> list[str]:
    return [p for b in read_results(runs) for p in b.column("path").to_pylist()]


def test_ctrl_c_stops_cleanly_and_keeps_the_results(tmp_path: Path) -> None:
    tape = write_tape(tmp_path / "tape", [ex(f"/c/{i}", at=i * 0.02) for i in range(1000)])
    out = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["PYTHONPATH"] = str(ROOT / "src")
    with serve(_ok) as server:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shadowtape",
                "replay",
                str(tape),
                "--candidate",
                server.url,
                "--out",
                str(out),
                "--progress",
                "lines",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        try:
            deadline = time.monotonic() + 20
            while len(server.received) < 40 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert proc.poll() is None, proc.communicate()
            proc.send_signal(signal.SIGINT)
            stopped = time.monotonic()
            stdout, stderr = proc.communicate(timeout=15)
            took = time.monotonic() - stopped
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        sent = len(server.received)
    assert proc.returncode == 130, stderr
    assert took < 5
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert f"'shadowtape report {out} --allow-partial' reports them" in stderr
    assert str(out) in stdout
    info = read_run(out)
    assert info["interrupted"] is True and info["finished_at"]
    rows = _paths(out, replayed_only=False)
    # Every request the server saw has its row (about 10% of them were repeats).
    assert sent * 0.8 <= len(rows) < 1000
    assert info["counts"]["replayed"] == len(_paths(out))
    assert info["counts"]["selected"] == info["counts"]["replayed"] + info["counts"]["skipped"]


@pytest.mark.parametrize(
    "flag", [["--fail-on", "statuss"], ["--tolerance", "-1"], ["--latency-ms", "-5"]]
)
def test_a_bad_report_flag_fails_before_anything_is_sent(
    tmp_path: Path, flag: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    tape = write_tape(tmp_path / "tape", [ex("/a", at=0.0)])
    with serve(_ok) as server:
        code = main(
            ["replay", str(tape), "--candidate", server.url, "--out", str(tmp_path / "r"), *flag]
        )
        assert server.received == []
    assert code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_a_full_disk_stops_the_replay_with_one_line_and_keeps_what_was_written(
    tmp_path: Path,
) -> None:
    from tests.full_disk import tiny_disk

    tape = write_tape(tmp_path / "tape", [ex(f"/d/{i}", at=i * 0.002) for i in range(1500)])
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["PYTHONPATH"] = str(ROOT / "src")
    with (
        tiny_disk(tmp_path / "disk", size="2m") as disk,
        serve(
            lambda _: Reply(200, body=os.urandom(16_000))  # incompressible: fills the disk
        ) as server,
    ):
        out = disk / "run"
        done = subprocess.run(
            [sys.executable, "-m", "shadowtape", "replay", str(tape), "--candidate", server.url,
             "--out", str(out), "--progress", "off", "--speed", "4", "--repeat-sample", "0"],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
        )  # fmt: skip
        assert done.returncode not in (0, 130), (done.returncode, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert "Traceback" not in done.stderr and "never retrieved" not in done.stderr
        errors = [line for line in lines if "error" in line]
        assert errors == lines[-1:], done.stderr  # one line, saying what and where
        assert "No space left" in errors[0] and str(out / "results") in errors[0]
        # Every part that reached the disk whole still reads (the one being written
        # when the disk filled is lost: it never got its footer).
        rows = _paths(out, replayed_only=False)
        assert len(rows) < 1500
        assert rows == [f"/d/{i}" for i in range(len(rows))]
