"""`shadowtape record`: starts mitmdump, records, stops cleanly on Ctrl-C; a port, a tape
path, a recorder value or a --set that cannot be used is one line on stderr and exit 2,
before mitmdump starts; a failure of mitmdump itself is one line with its own reason.

The many wrong values and --set settings run the command in this process (``cli.main``),
where starting any process fails the test; the refusals a real process makes (its exit
code, its streams) are held by the port, tape path and upstream tests."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import httpx
import pytest

from shadowtape.cli import main
from tests.e2e.record_support import (
    MITMDUMP,
    ROOT,
    SCRIPT,
    read_tapes,
    record_command,
)
from tests.servers import App, Received, Reply, free_port, serve

pytestmark = pytest.mark.e2e

SHADOWTAPE = [sys.executable, "-m", "shadowtape"]


def _env() -> dict[str, str]:
    return dict(os.environ, SHADOWTAPE_SANITIZE_KEY="cli-test-key", PYTHONPATH=str(ROOT / "src"))


def _record(tmp_path: Path, app: App, paths: list[str], *flags: str) -> tuple[str, str]:
    """Run `shadowtape record` in front of ``app``, send ``paths`` through it, then Ctrl-C.

    Returns stdout and stderr after asserting the command exited 0.
    """
    port = free_port()
    with (
        serve(app) as upstream,
        record_command(
            upstream.url, tmp_path / "tapes", *flags, port=port, key="cli-test-key"
        ) as proc,
    ):
        for path in paths:
            assert httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5).status_code == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    assert f"listening on http://127.0.0.1:{port} -> {upstream.url}" in out.decode()
    return out.decode(), err.decode()


def _hi(_: Received) -> Reply:
    return Reply(200, [("Content-Type", "text/plain")], b"hi there")


def test_record_starts_records_and_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    tapes = tmp_path / "tapes"
    out, _ = _record(tmp_path, _hi, [f"/n/{i}" for i in range(9)], "--source", "cli")
    assert str(tapes) in out
    assert "on disk 10" in out
    exchanges = read_tapes(tapes)
    assert len(exchanges) == 10
    assert {ex.source for ex in exchanges} == {"cli"}


def test_a_set_option_replaces_the_value_the_command_would_give(tmp_path: Path) -> None:
    # record passes --set shadowtape_max_body=1m itself; mitmdump refuses two values.
    _record(tmp_path, _hi, [], "--set", "shadowtape_max_body=2", "--set", "flow_detail=1")
    (exchange,) = read_tapes(tmp_path / "tapes")
    assert exchange.response is not None
    assert exchange.response.body == b"hi" and exchange.response.body_truncated


def _one_line_exit_2(args: list[str], *, before_start: bool = True) -> str:
    """The one stderr line of a refused `shadowtape` run (exit 2, quickly, no traceback).

    ``before_start``: refused before mitmdump started, so nothing was printed on stdout.
    """
    started = time.monotonic()
    done = subprocess.run([*SHADOWTAPE, *args], capture_output=True, env=_env(), timeout=60)
    assert done.returncode == 2, done
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert time.monotonic() - started < 20
    if before_start:
        assert not done.stdout.strip(), done.stdout.decode()
    return lines[0]


def _refused_in_process(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> str:
    """``_one_line_exit_2`` of a refusal made before mitmdump starts, run by ``cli.main`` in
    this process, where starting mitmdump (or any process) fails the test."""

    launched: list[object] = []

    def started(*args: object, **kwargs: object) -> None:
        launched.append(args)
        raise AssertionError(f"a process was started: {args}")

    monkeypatch.setenv("SHADOWTAPE_SANITIZE_KEY", "cli-test-key")
    monkeypatch.setattr(subprocess, "Popen", started)
    started_at = time.monotonic()
    code = main(args)
    out, err = capsys.readouterr()
    assert launched == [], err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    assert time.monotonic() - started_at < 20
    assert not out.strip(), out
    return lines[0]


def _refused_args(listen: str, tapes: Path, *flags: str) -> list[str]:
    """`record` in front of a port nothing answers on: only refusals are tested here."""
    return [
        "record",
        "--upstream",
        "http://127.0.0.1:9",
        "--listen",
        listen,
        "--tapes",
        str(tapes),
        *flags,
    ]


def test_a_busy_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = _one_line_exit_2(_refused_args(f"127.0.0.1:{port}", tmp_path / "tapes"))
    assert f"127.0.0.1:{port}" in line and "in use" in line


def test_an_unwritable_tape_path_is_one_line_and_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    line = _one_line_exit_2(_refused_args(str(free_port()), blocker / "tapes"))
    assert "--tapes" in line and "cannot write there" in line


def test_a_bad_upstream_is_one_line_and_exit_2(tmp_path: Path) -> None:
    line = _one_line_exit_2(
        ["record", "--upstream", "localhost:8080", "--tapes", str(tmp_path / "tapes")]
    )
    assert "--upstream" in line


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--sample", "abc"], "--sample: 'abc' is not a rate in (0, 1]; use e.g. 0.1 or 10%"),
        (["--sample", "2"], "--sample: '2' is not a rate in (0, 1]"),
        (["--max-body", "big"], "--max-body: 'big' is not a size; use bytes or a k/m/g suffix"),
        (["--roll-bytes", "0"], "--roll-bytes: '0' is not a size"),
        (["--include-path", "["], "--include-path: '[' is not a valid regex"),
        (["--exclude-path", "(a"], "--exclude-path: '(a' is not a valid regex"),
        (["--roll-rows", "-1"], "--roll-rows: -1 is too small; use a whole number, at least 1"),
        (["--roll-age", "0"], "--roll-age: 0 is too small; use a whole number of seconds"),
        (["--rules", "MALFORMED"], "are not valid TOML"),
        (["--rules", "INVALID"], "unknown key 'nope'"),
        (["--rules", "MISSING"], "No such file or directory"),
        (["--set", "shadowtape_max_body=big"], "--set shadowtape_max_body: 'big' is not a size"),
        (["--set", "shadowtape_worker=fork"], "--set shadowtape_worker: 'fork' is not one of"),
    ],
)
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # mitmproxy's pyparsing use, as above
def test_a_wrong_recorder_value_is_refused_before_anything_starts(
    tmp_path: Path,
    flags: list[str],
    says: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rules = {"MALFORMED": "[redact\n", "INVALID": "[redact]\nnope = 1\n", "MISSING": None}
    for i, flag in enumerate(flags):
        if flag in rules:
            flags[i] = str(tmp_path / f"{flag.lower()}.toml")
            text = rules[flag]
            if text is not None:
                Path(flags[i]).write_text(text)
    line = _refused_in_process(
        _refused_args(str(free_port()), tmp_path / "tapes", *flags), capsys, monkeypatch
    )
    assert line.startswith("shadowtape record: error: ")
    assert says in line
    if flags[0] == "--rules":
        assert "--rules: " in line and flags[1] in line
    assert not (tmp_path / "tapes").exists()


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ("nonsense_option=1", "--set nonsense_option=1: mitmdump has no option 'nonsense_option'"),
        ("keep_host_headr=true", "did you mean keep_host_header?"),
        ("noequals", "--set noequals: expected OPTION=VALUE"),
        ("flow_detail", "--set flow_detail: expected OPTION=VALUE"),
        ("keep_host_header=maybe", "--set keep_host_header=maybe: Failed to parse option"),
        ("connection_strategy", "--set connection_strategy: expected OPTION=VALUE"),
        # The command's own: a --set would be overridden by its flags, or break its counts.
        ("listen_port=9999", "this command sets listen_port itself; use --listen"),
        ("shadowtape_tapes=/tmp/x", "sets shadowtape_tapes itself; use --tapes"),
        ("shadowtape_stats_file=/tmp/s", "sets shadowtape_stats_file itself"),
    ],
)
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # mitmproxy's pyparsing use, as above
def test_an_unknown_or_malformed_set_is_refused_before_anything_starts(
    tmp_path: Path,
    setting: str,
    says: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = _refused_args(str(free_port()), tmp_path / "tapes", "--set", setting)
    line = _refused_in_process(args, capsys, monkeypatch)
    assert says in line


def test_the_command_knows_every_option_mitmdump_has(tmp_path: Path) -> None:
    """So a --set that mitmdump would take is never refused, nor one it would ignore taken."""
    listed = subprocess.run(
        [MITMDUMP, "-s", SCRIPT, "--options"],
        capture_output=True,
        env=_env(),
        timeout=60,
        check=True,
    ).stdout.decode()
    names = set(re.findall(r"^([a-z0-9_]+):", listed, flags=re.MULTILINE))
    assert "shadowtape_max_body" in names and "keep_host_header" in names
    with warnings.catch_warnings():
        # mitmproxy 12.2's flowfilter still calls pyparsing's deprecated camelCase API on import.
        warnings.simplefilter("ignore", DeprecationWarning)
        from shadowtape.record.launcher import mitmdump_options

        known = set(mitmdump_options().keys())
    assert known == names


def test_a_failed_start_is_explained_by_what_mitmdump_said(tmp_path: Path) -> None:
    """Whatever stops mitmdump at start, the one line is its reason, not its closing words."""
    flows = tmp_path / "flows"
    flows.write_bytes(b"not a flow file")  # mitmdump reads it when it starts, and fails
    line = _one_line_exit_2(
        _refused_args(str(free_port()), tmp_path / "tapes", "--set", f"rfile={flows}"),
        before_start=False,
    )
    assert f"Failed to read {flows}: Invalid data format." in line
    assert "logged during startup" not in line


def test_a_failed_start_shows_no_traceback_of_mitmdumps(tmp_path: Path) -> None:
    """An option mitmdump takes but one of its addons then fails on: its traceback stays
    out of the output, the one error line names the cause."""
    done = subprocess.run(
        [
            *SHADOWTAPE,
            *_refused_args(str(free_port()), tmp_path / "tapes", "--set", "ignore_hosts=("),
        ],
        capture_output=True,
        env=_env(),
        timeout=60,
    )
    assert done.returncode == 2
    assert b"Traceback" not in done.stdout + done.stderr
    assert not done.stdout.strip(), done.stdout.decode()
    assert b"missing ), unterminated subpattern" in done.stderr
