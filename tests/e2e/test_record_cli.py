"""`shadowtape record`: starts mitmdump, records, stops cleanly on Ctrl-C; a port or a
tape path that cannot be used is one line on stderr and exit 2, before mitmdump starts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.record_support import ROOT, kill_group, read_tapes
from tests.servers import Reply, free_port, serve

pytestmark = pytest.mark.e2e

SHADOWTAPE = [sys.executable, "-m", "shadowtape"]


def _env() -> dict[str, str]:
    return dict(os.environ, SHADOWTAPE_SANITIZE_KEY="cli-test-key", PYTHONPATH=str(ROOT / "src"))


def test_record_starts_records_and_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    tapes = tmp_path / "tapes"
    port = free_port()
    with serve(lambda _: Reply(200, [("Content-Type", "text/plain")], b"hi")) as upstream:
        proc = subprocess.Popen(
            [
                *SHADOWTAPE,
                "record",
                "--upstream",
                upstream.url,
                "--listen",
                str(port),
                "--tapes",
                str(tapes),
                "--source",
                "cli",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(),
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    response = httpx.get(f"http://127.0.0.1:{port}/first", timeout=5)
                    break
                except httpx.TransportError:
                    assert proc.poll() is None, proc.communicate()
                    assert time.monotonic() < deadline, "the proxy did not start"
                    time.sleep(0.1)
            assert response.text == "hi"
            for i in range(9):
                assert httpx.get(f"http://127.0.0.1:{port}/n/{i}", timeout=5).text == "hi"
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                kill_group(proc)
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
    assert proc.returncode == 0, err.decode()
    text = out.decode()
    assert f"listening on http://127.0.0.1:{port} -> {upstream.url}" in text
    assert str(tapes) in text
    assert "on disk 10" in text
    exchanges = read_tapes(tapes)
    assert len(exchanges) == 10
    assert {ex.source for ex in exchanges} == {"cli"}


def _one_line_exit_2(args: list[str]) -> str:
    started = time.monotonic()
    done = subprocess.run([*SHADOWTAPE, *args], capture_output=True, env=_env(), timeout=60)
    assert done.returncode == 2, done
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert time.monotonic() - started < 20
    return lines[0]


def test_a_busy_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = _one_line_exit_2(
            [
                "record",
                "--upstream",
                "http://127.0.0.1:9",
                "--listen",
                f"127.0.0.1:{port}",
                "--tapes",
                str(tmp_path / "tapes"),
            ]
        )
    assert f"127.0.0.1:{port}" in line and "in use" in line


def test_an_unwritable_tape_path_is_one_line_and_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    line = _one_line_exit_2(
        [
            "record",
            "--upstream",
            "http://127.0.0.1:9",
            "--listen",
            str(free_port()),
            "--tapes",
            str(blocker / "tapes"),
        ]
    )
    assert "--tapes" in line and "cannot write there" in line


def test_a_bad_upstream_is_one_line_and_exit_2(tmp_path: Path) -> None:
    line = _one_line_exit_2(
        ["record", "--upstream", "localhost:8080", "--tapes", str(tmp_path / "tapes")]
    )
    assert "--upstream" in line
