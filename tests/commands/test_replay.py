"""`shadowtape replay`'s flags with a config file: pacing chosen on the command line
replaces the file's, and a combination in which a flag would do nothing is refused."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from shadowtape.cli import main
from shadowtape.commands import replay as command
from shadowtape.replay import read_run
from tests.replay.helpers import ex, write_tape
from tests.servers import Reply, self_signed, serve

EXAMPLE = Path(__file__).resolve().parents[2] / "replayer" / "shadowtape.toml"

pytestmark = [
    pytest.mark.e2e,
    # cli.main imports every command, and mitmproxy (imported by another command) uses
    # pyparsing names that pyparsing 3.3 deprecates: not this command's warning to fix.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


@pytest.fixture(autouse=True)
def _no_report(monkeypatch: pytest.MonkeyPatch) -> None:
    # The report is another stage with its own tests.
    monkeypatch.setattr(command, "_write_reports", lambda run_dir, args: 0)


def _ok(_: object) -> Reply:
    return Reply(200, body=b"{}")


def _replay(tmp_path: Path, config: str | Path, *flags: str) -> int:
    """A replay of three exchanges, with ``config`` as the [replay] table's text, or a
    configuration file."""
    tape = write_tape(tmp_path / "tape", [ex(f"/api/{i}", at=i * 0.001) for i in range(3)])
    if isinstance(config, str):
        (tmp_path / "shadowtape.toml").write_text(f"[replay]\n{config}")
        config = tmp_path / "shadowtape.toml"
    return main(
        [
            "replay",
            str(tape),
            "--config",
            str(config),
            "--out",
            str(tmp_path / "run"),
            "--progress",
            "off",
            *flags,
        ]
    )


@pytest.mark.parametrize(
    ("config", "flags", "expected"),
    [
        # replayer/shadowtape.toml's pacing, and the README's "--pace asap" for a quick run.
        ('pace = "recorded"\nspeed = 4.0\n', ["--pace", "asap"], ("asap", None, None)),
        ("speed = 4.0\n", ["--rate", "500"], ("rate", None, 500.0)),
        ("rate = 500.0\n", ["--pace", "asap"], ("asap", None, None)),
        ("rate = 500.0\n", ["--pace", "recorded"], ("recorded", 1.0, None)),
        ('pace = "recorded"\n', ["--rate", "500"], ("rate", None, 500.0)),
        ("rate = 500.0\n", [], ("rate", None, 500.0)),
        ('pace = "asap"\n', ["--speed", "8"], ("recorded", 8.0, None)),
        ("speed = 4.0\n", [], ("recorded", 4.0, None)),
        ("speed = 4.0\n", ["--concurrency", "8"], ("recorded", 4.0, None)),
    ],
)
def test_pacing_on_the_command_line_replaces_the_config_files_pacing(
    tmp_path: Path, config: str, flags: list[str], expected: tuple[object, ...]
) -> None:
    with serve(_ok) as server:
        assert _replay(tmp_path, config, "--candidate", server.url, *flags) == 0
    settings = read_run(tmp_path / "run")["settings"]
    assert (settings["pace"], settings["speed"], settings["rate"]) == expected


@pytest.mark.parametrize("flags", [[], ["--pace", "asap"], ["--rate", "500"]])
def test_the_example_configuration_takes_each_pacing_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: list[str]
) -> None:
    monkeypatch.setenv("STAGING_TOKEN", "staging")
    with serve(_ok) as server:
        assert _replay(tmp_path, EXAMPLE, "--candidate", server.url, *flags) == 0
    assert read_run(tmp_path / "run")["counts"]["replayed"] == 3


def test_a_live_baseline_on_the_command_line_sets_the_files_repeat_sample_aside(
    tmp_path: Path,
) -> None:
    with serve(_ok) as candidate, serve(_ok) as baseline:
        flags = ["--candidate", candidate.url, "--baseline", baseline.url]
        assert _replay(tmp_path, "repeat-sample = 0.5\n", *flags) == 0
    info = read_run(tmp_path / "run")
    assert info["baseline"] == baseline.url and info["settings"]["repeat_sample"] is None


@pytest.mark.parametrize(
    ("config", "flags", "expected"),
    [
        ("", [], "recorded"),
        ('ordering = "strict"\n', [], "strict"),
        ('ordering = "strict"\n', ["--ordering", "none"], "none"),
    ],
)
def test_the_ordering_comes_from_the_file_or_the_command_line(
    tmp_path: Path, config: str, flags: list[str], expected: str
) -> None:
    with serve(_ok) as server:
        assert _replay(tmp_path, config, "--candidate", server.url, *flags) == 0
    assert read_run(tmp_path / "run")["settings"]["ordering"] == expected


@pytest.mark.parametrize(("config", "flags"), [("insecure = true\n", []), ("", ["--insecure"])])
def test_insecure_from_the_file_or_the_command_line_reaches_a_self_signed_https_candidate(
    tmp_path: Path, config: str, flags: list[str]
) -> None:
    with serve(_ok, tls=self_signed(tmp_path)) as server:
        assert _replay(tmp_path, config, "--candidate", server.url, *flags) == 0
    info = read_run(tmp_path / "run")
    assert info["settings"]["verify_tls"] is False
    assert info["counts"] == {"selected": 3, "replayed": 3, "skipped": 0, "errors": 0}


@pytest.mark.parametrize(
    ("config", "flags", "message"),
    [
        ('pace = "asap"\nspeed = 2.0\n', [], "drop --speed"),
        # The file's two keys make the choice the two flags would: one too many.
        (
            'pace = "recorded"\nrate = 500.0\n',
            [],
            "--pace recorded keeps the recorded gaps and --rate replaces them",
        ),
        ("speed = 2.0\n", ["--pace", "asap", "--speed", "3"], "drop --speed"),
        ('baseline = "http://127.0.0.1:2"\n', ["--repeat-sample", "0.5"], "drop --repeat-sample"),
        ("", ["--insecure"], "--insecure only matters for https:// targets"),
        ('insecure = "false"\n', [], "[replay] insecure must be true or false"),
        ('ordering = "loose"\n', [], "[replay] ordering: 'loose' is not one of recorded, strict"),
        (
            'baseline = "http://127.0.0.1:2"\n',
            ["--secondary", "http://127.0.0.1:3", "--insecure"],
            "drop --insecure",
        ),
    ],
)
def test_a_conflict_in_the_file_or_on_the_command_line_is_one_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    config: str,
    flags: list[str],
    message: str,
) -> None:
    code = _replay(tmp_path, config, "--candidate", "http://127.0.0.1:1", *flags)
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_insecure_with_the_files_own_http_targets_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _replay(tmp_path, 'candidate = "http://127.0.0.1:1"\ninsecure = true\n')
    err = capsys.readouterr().err
    assert code == 2
    assert "--insecure only matters for https:// targets" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "run").exists()


def test_the_files_insecure_is_set_aside_for_an_http_candidate_named_on_the_command_line(
    tmp_path: Path,
) -> None:
    # The file's staging candidate is https with a self-signed certificate; this run
    # points at a local http build instead, where the file's insecure means nothing.
    config = 'candidate = "https://staging.invalid"\ninsecure = true\n'
    with serve(_ok) as server:
        assert _replay(tmp_path, config, "--candidate", server.url) == 0
    info = read_run(tmp_path / "run")
    assert info["candidate"] == server.url and info["settings"]["verify_tls"] is True
    assert info["counts"]["replayed"] == 3


def test_probes_come_from_the_file_and_are_checked_before_the_replay(tmp_path: Path) -> None:
    with serve(_ok) as server:
        config = 'probe = ["concurrency"]\nprobe-concurrency = 4\n'
        assert _replay(tmp_path, config, "--candidate", server.url) == 0
        summary = orjson.loads((tmp_path / "run" / "probes" / "probes.json").read_bytes())
        assert summary["probes"][0]["settings"] == {"sample": 20, "concurrency": 4}
        flags = ("--candidate", server.url, "--probe", "scale")
        assert _replay(tmp_path / "b", "", *flags) == 2  # a one-line error, no replay
        assert not (tmp_path / "b" / "run").exists()


def test_the_shapes_cap_comes_from_the_file(tmp_path: Path) -> None:
    with serve(_ok) as server, serve(_ok) as baseline:
        config = 'probe = ["shapes"]\nprobe-shapes = 7\n'
        flags = ("--candidate", server.url, "--baseline", baseline.url)
        assert _replay(tmp_path, config, *flags) == 0
        summary = orjson.loads((tmp_path / "run" / "probes" / "probes.json").read_bytes())
    assert summary["probes"][0]["settings"]["shapes"] == 7
