"""``shadowtape ARGS`` run by ``cli.main`` in the test's own process, read back as a
finished process would be (exit code, stdout, stderr), for the many checks whose subject
is a refusal's line and code, not the process; each test file keeps real processes for that.

What ``main`` changes in the process is put back: the working folder, the root logger's
handlers and level (``logging.basicConfig``) and rich's broken-pipe hook."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from shadowtape.cli import main


@dataclass(frozen=True)
class Ran:
    """What a finished ``shadowtape`` run left: as ``subprocess.CompletedProcess`` names it."""

    returncode: int
    stdout: str
    stderr: str


class InProcess:
    """Calls ``shadowtape ARGS`` through ``cli.main``; one per test (its fixtures)."""

    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
        self._capsys = capsys
        self._monkeypatch = monkeypatch
        # As a pipe reads it: argparse and rich take their width from COLUMNS, else 80.
        monkeypatch.setenv("COLUMNS", os.environ.get("COLUMNS", "80"))
        monkeypatch.setattr(Console, "on_broken_pipe", Console.on_broken_pipe)

    def __call__(self, *args: str, cwd: Path | None = None) -> Ran:
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        self._capsys.readouterr()  # only this run's output
        with self._monkeypatch.context() as patch:
            if cwd is not None:
                patch.chdir(cwd)
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse: a usage error, --help
                code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
            finally:
                for handler in root.handlers[:]:
                    if handler not in handlers:
                        root.removeHandler(handler)
                root.setLevel(level)
        out, err = self._capsys.readouterr()
        return Ran(code, out, err)


def process(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m shadowtape ARGS`` (from the folder ``cwd``), a real process: where
    the process itself (its exit code, its one stderr line) is what a test checks."""
    return subprocess.run(
        [sys.executable, "-m", "shadowtape", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )
