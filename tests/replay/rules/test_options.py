from __future__ import annotations

import argparse
import inspect
from pathlib import Path

import pytest

from shadowtape.commands import replay as command
from shadowtape.errors import ConfigError
from shadowtape.replay import read_run, replay, run_folder
from shadowtape.replay.rules.options import Ordering, Pace, ReplayOptions
from tests.replay.helpers import ex, write_tape
from tests.servers import Reply, serve

LIVE = "http://127.0.0.1:2"


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


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"pace": Pace.ASAP, "speed": 2.0}, "--speed applies to --pace recorded only"),
        ({"pace": Pace.ASAP, "speed": 0.5}, "drop --speed"),
        ({"rate": 10.0, "speed": 2.0}, "--speed divides the recorded gaps, which --rate"),
        # Only a pace given says "the recorded gaps"; left unset, it lets a rate in.
        ({"pace": Pace.RECORDED, "rate": 10.0}, "--pace recorded keeps the recorded gaps"),
        ({"baseline": LIVE, "repeat_sample": 0.5}, "--repeat-sample applies to --baseline"),
        # No certificate to verify: every target is http.
        (
            {"verify_tls": False},
            "--insecure only matters for https:// targets; none of "
            "--candidate/--baseline/--secondary is https: drop --insecure",
        ),
        (
            {"baseline": LIVE, "secondary": "http://127.0.0.1:3", "verify_tls": False},
            "drop --insecure",
        ),
    ],
)
def test_a_flag_that_would_do_nothing_in_the_chosen_mode_is_refused(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        ReplayOptions(candidate="http://127.0.0.1:1", **changes)  # type: ignore[arg-type]
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    "changes",
    [
        {"pace": Pace.ASAP},
        {"pace": Pace.ASAP, "speed": 1.0},  # the default: nothing to ignore
        {"rate": 10.0},
        {"speed": 4.0},
        {"baseline": LIVE},
        {"baseline": LIVE, "repeat_sample": 0},  # no repeats: what a live baseline does
        {"repeat_sample": 0.5},
    ],
)
def test_defaults_and_flags_that_apply_are_accepted(changes: dict[str, object]) -> None:
    ReplayOptions(candidate="http://127.0.0.1:1", **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "targets",
    [
        {"candidate": "https://127.0.0.1:1"},
        {"candidate": "HTTPS://127.0.0.1:1"},
        {"candidate": "http://127.0.0.1:1", "baseline": "https://127.0.0.1:2"},
        {"candidate": "http://127.0.0.1:1", "baseline": LIVE, "secondary": "https://127.0.0.1:3"},
    ],
)
def test_insecure_is_accepted_when_any_target_is_https(targets: dict[str, str]) -> None:
    assert not ReplayOptions(verify_tls=False, **targets).verify_tls


def test_insecure_refuses_a_bad_target_url_first() -> None:
    """A URL that is not one says so, rather than that it is not https."""
    with pytest.raises(ConfigError, match="is not an http:// or https:// URL"):
        ReplayOptions(candidate="localhost:8080", verify_tls=False)


def test_the_python_api_refuses_verify_tls_false_without_an_https_target(
    tmp_path: Path,
) -> None:
    tape = write_tape(tmp_path / "tape", [ex()])
    with pytest.raises(ConfigError, match="drop --insecure"):
        replay(tape, candidate="http://127.0.0.1:1", verify_tls=False, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_the_python_api_refuses_a_speed_with_pace_asap_before_anything_starts(
    tmp_path: Path,
) -> None:
    tape = write_tape(tmp_path / "tape", [ex()])
    with pytest.raises(ConfigError, match="--speed applies to --pace recorded only"):
        replay(tape, candidate="http://127.0.0.1:1", pace="asap", speed=2, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_the_python_api_refuses_pace_recorded_with_a_rate_before_anything_starts(
    tmp_path: Path,
) -> None:
    tape = write_tape(tmp_path / "tape", [ex()])
    with pytest.raises(ConfigError, match="--pace recorded keeps the recorded gaps") as refused:
        replay(
            tape, candidate="http://127.0.0.1:1", pace="recorded", rate=100, out=tmp_path / "run"
        )
    assert "\n" not in str(refused.value)
    assert not (tmp_path / "run").exists()


def test_the_python_api_takes_a_rate_with_the_pace_left_unset(tmp_path: Path) -> None:
    tape = write_tape(tmp_path / "tape", [ex(f"/a/{i}", at=i * 0.001) for i in range(3)])
    with serve(lambda _: Reply(200, body=b"{}")) as server:
        run_dir = replay(
            tape, candidate=server.url, rate=100, repeat_sample=0, out=tmp_path / "run"
        )
    info = read_run(run_dir)
    assert info["counts"]["replayed"] == len(server.received) == 3
    settings = info["settings"]
    assert (settings["pace"], settings["speed"], settings["rate"]) == ("rate", None, 100.0)


def test_the_command_line_and_api_defaults_are_the_options_defaults() -> None:
    """Only a value the user set can conflict, so the command line and replay() must
    pass the very defaults ReplayOptions has when a flag is not given (for the pace,
    None: not chosen, so that a "recorded" given can be told from it)."""
    args, defaults = _args(), ReplayOptions(candidate="http://127.0.0.1:1")
    api = inspect.signature(replay).parameters
    assert args.pace is defaults.pace is api["pace"].default is None
    for name in (
        "speed",
        "rate",
        "concurrency",
        "timeout",
        "repeat_sample",
        "baseline",
        "abort_after",
    ):
        assert getattr(args, name) == getattr(defaults, name) == api[name].default, name
    assert args.ordering == defaults.ordering == api["ordering"].default == "recorded"


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


def test_the_ordering_is_parsed_wherever_it_is_given(tmp_path: Path) -> None:
    assert _args("--ordering", "strict").ordering == "strict"
    assert ReplayOptions(candidate=LIVE, ordering="none").ordering is Ordering.NONE  # type: ignore[arg-type]
    tape = write_tape(tmp_path / "tape", [ex()])
    with pytest.raises(ConfigError, match="valid orderings: recorded, strict, none"):
        replay(tape, candidate=LIVE, ordering="loose", out=tmp_path / "run")
    assert not (tmp_path / "run").exists()
