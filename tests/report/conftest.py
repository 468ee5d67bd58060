"""Fixtures for the renderer tests: sample reports and a headless Chromium."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.report import chromium
from tests.report.sample import sample_report

ENSURE = Path(__file__).resolve().parents[2] / "scripts" / "ensure-chromium"


@pytest.fixture
def report() -> dict[str, Any]:
    return sample_report()


@pytest.fixture(scope="session")
def chromium_ready() -> None:
    """Install Debian's chromium when missing; skip only when that cannot be done."""
    if chromium.available():
        return
    if ENSURE.exists():
        done = subprocess.run([str(ENSURE)], capture_output=True, text=True, check=False)
        if not chromium.available():
            pytest.skip(
                f"chromium is not installed and scripts/ensure-chromium failed "
                f"(exit {done.returncode}): {done.stderr.strip()[-300:]}"
            )
    else:
        pytest.skip("chromium is not installed and scripts/ensure-chromium is missing")


@pytest.fixture(scope="module")
def browser(chromium_ready: None) -> Iterator[chromium.Page]:
    with chromium.browser() as page:
        yield page
