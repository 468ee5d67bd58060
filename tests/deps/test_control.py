"""Runtime fault control without sockets: what write_faults leaves on disk, and what a
FaultsFile reads back as the file changes (missing, rewritten within one tick, bad)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from shadowtape.deps.control import FaultsFile, clear_faults, parse_file, write_faults
from shadowtape.errors import ConfigError


def _texts(faults: FaultsFile) -> list[str]:
    return [rule.text for rule in faults.rules()]


def test_write_then_clear_is_seen_at_once(tmp_path: Path) -> None:
    path = tmp_path / "svc.faults.json"
    faults = FaultsFile(path)
    assert _texts(faults) == []
    write_faults(path, ["host=inventory.internal:8080,status=503"])
    assert json.loads(path.read_text()) == ["host=inventory.internal:8080,status=503"]
    assert _texts(faults) == ["host=inventory.internal:8080,status=503"]
    # Same size, same second: the next version is still seen.
    write_faults(path, ["host=inventory.internal:8080,status=502"])
    assert _texts(faults) == ["host=inventory.internal:8080,status=502"]
    clear_faults(path)
    assert json.loads(path.read_text()) == []
    assert _texts(faults) == []
    assert [p.name for p in tmp_path.iterdir()] == ["svc.faults.json"]


def test_write_faults_bumps_the_mtime_even_when_the_clock_did_not_move(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    write_faults(path, ["host=a,reset"])
    future = path.stat().st_mtime_ns + 10**12
    os.utime(path, ns=(future, future))
    write_faults(path, ["host=b,reset"])
    assert path.stat().st_mtime_ns > future


def test_a_bad_rule_is_refused_before_the_file_is_touched(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    write_faults(path, ["host=a,reset"])
    with pytest.raises(ConfigError, match="no fault given"):
        write_faults(path, ["host=a"])
    assert json.loads(path.read_text()) == ["host=a,reset"]


def test_a_bad_file_keeps_the_previous_rules_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "f.json"
    write_faults(path, ["host=a,status=503"])
    faults = FaultsFile(path)
    assert _texts(faults) == ["host=a,status=503"]
    path.write_text('["host=a,status=503", ')
    with caplog.at_level(logging.WARNING, logger="shadowtape.deps"):
        assert _texts(faults) == ["host=a,status=503"]
        assert _texts(faults) == ["host=a,status=503"]
    assert len(caplog.records) == 1
    assert "not readable as JSON" in caplog.records[0].getMessage()
    path.unlink()
    assert _texts(faults) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [('{"host": "a"}', "give a JSON list"), ('["host=a,teapot"]', "no field 'teapot'")],
)
def test_parse_file_says_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "f.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        parse_file(path)
