"""The ``shadowtape`` command as a user runs it: a real process, its output as text."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def shadowtape(
    *args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m shadowtape ARGS``: its exit code, stdout and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "shadowtape", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
    )
