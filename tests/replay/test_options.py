from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from shadowtape.commands import replay as command
from shadowtape.errors import ConfigError
from shadowtape.replay import run_folder
from shadowtape.replay.options import Pace, ReplayOptions


@pytest.mark.parametrize(
    "changes",
    [
        {"speed": 0},
        {"rate": -1},
        {"concurrency": 0},
        {"timeout": 0},
        {"repeat_sample": 1.5},
        {"pace": Pace.ASAP, "rate": 10},
        # A secondary is a second instance of the live baseline build.
        {"secondary": "http://127.0.0.1:2"},
    ],
)
def test_bad_options_are_config_errors(changes: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        ReplayOptions(candidate="http://127.0.0.1:1", **changes)  # type: ignore[arg-type]


def test_pace_lists_valid_values() -> None:
    with pytest.raises(ConfigError, match="recorded, asap"):
        Pace.parse("fast")


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    return parser.parse_args(["tape", "--candidate", "http://127.0.0.1:1", *argv])


def test_filter_flags_merge_with_selection_flags() -> None:
    f = command.build_filter(
        _args(
            "--method",
            "get",
            "--filter",
            "method=HEAD,OPTIONS",
            "--filter",
            "status=5xx",
            "--filter",
            "since=2026-01-01T00:00:00Z",
            "--id",
            "A",
            "--filter",
            "id=B",
        )
    )
    assert f.methods == ("GET", "HEAD", "OPTIONS")
    assert f.statuses == ((500, 599),)
    assert f.since is not None and f.since.year == 2026
    assert f.ids == ("A", "B")


def test_a_key_given_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match="twice"):
        command.build_filter(_args("--path", "/a", "--filter", "path=/b"))


def test_run_folder(tmp_path: Path) -> None:
    assert run_folder(tmp_path / "new") == tmp_path / "new"
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").touch()
    with pytest.raises(ConfigError, match="already exists"):
        run_folder(tmp_path / "full")
    default = run_folder(None)
    assert default.parent == Path("shadowtape-runs") and default.name[:8].isdigit()
