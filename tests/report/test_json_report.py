"""report.json, byte for byte: the demo's run folder gives the committed golden report.

The golden file was written by the report code before the typed model; any change to a
key, its order, a number or its formatting fails here. To accept an intended change,
regenerate it: ``REGENERATE_GOLDEN=1 pytest tests/report/test_json_report.py``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

import shadowtape.report.build as build
from shadowtape.report import analyze, json_report

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "fixtures" / "runs" / "demo"
GOLDEN = Path(__file__).parent / "golden" / "demo-report.json"


class _FixedClock(datetime):
    @classmethod
    def now(cls, tz: object = None) -> _FixedClock:  # type: ignore[override]
        return cls(2026, 12, 6, 20, 30, 0, tzinfo=UTC)


def test_report_json_matches_the_golden_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build, "datetime", _FixedClock)
    written = json_report.render(analyze([RUN]), tmp_path).read_bytes()
    if os.environ.get("REGENERATE_GOLDEN"):
        GOLDEN.write_bytes(written)
    assert written == GOLDEN.read_bytes()
