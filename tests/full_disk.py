"""A real full disk for tests: a tiny tmpfs mounted for the test, always unmounted.

Mounting needs root (CI and these machines run as root); elsewhere the test skips and says
why, rather than faking ENOSPC.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tiny_disk(path: Path, size: str = "256k") -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("a real full disk needs root to mount a small tmpfs")
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)
