"""The `shadowtape` command's own conventions: unknown flags, closed pipes, paths the
machine refuses. A closed pipe and one misspelled flag are real processes, as users run
them (exit code, one stderr line); the other checks call ``cli.main`` in this process."""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_in_process import InProcess, process

pytestmark = [
    # cli.main imports every command, and mitmproxy (imported by another command) uses
    # pyparsing names that pyparsing 3.3 deprecates: not this command's warning to fix.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

ROOT = Path(__file__).resolve().parents[1]
DEMO_TAPE = ROOT / "fixtures" / "tapes" / "demo"


@pytest.fixture
def shadowtape(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> InProcess:
    """``shadowtape ARGS`` run by ``cli.main`` in this process."""
    return InProcess(capsys, monkeypatch)


def test_a_misspelled_flag_is_the_commands_error_with_the_flag_it_meant(
    shadowtape: InProcess,
) -> None:
    done = process(
        "replay", str(DEMO_TAPE), "--candidate", "http://127.0.0.1:1", "--concurency", "4"
    )
    assert done.returncode == 2
    assert done.stderr.startswith("shadowtape replay: error: unrecognized argument --concurency")
    assert "did you mean --concurrency?" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    far = shadowtape("inspect", str(DEMO_TAPE), "--bogus")
    assert far.returncode == 2 and "did you mean" not in far.stderr
    # Never taken as an abbreviation: here it would switch on mutating requests.
    short = shadowtape("replay", str(DEMO_TAPE), "--candidate", "http://127.0.0.1:1", "--allow")
    assert short.returncode == 2 and "did you mean --allow-mutating?" in short.stderr


def test_a_closed_pipe_is_not_read_as_regressions() -> None:
    """`shadowtape inspect | head -1`: exit 141 (as a shell says SIGPIPE), not 1 (the
    gate's regressions), and no traceback."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "shadowtape", "inspect", str(DEMO_TAPE)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # gone before the command (still importing) writes a byte
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 141
    assert b"Traceback" not in err and b"Exception ignored" not in err


def test_a_path_the_machine_refuses_is_one_line_not_an_internal_error(
    tmp_path: Path, shadowtape: InProcess
) -> None:
    (tmp_path / "afile").write_text("")
    done = shadowtape(
        "replay", str(DEMO_TAPE), "--candidate", "http://127.0.0.1:1",
        "--out", str(tmp_path / "afile" / "run"),
    )  # fmt: skip
    assert done.returncode == 2
    assert "afile/run: Not a directory" in done.stderr and "internal error" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_mistyped_flag_is_named_before_a_missing_required_one(shadowtape: InProcess) -> None:
    done = shadowtape("replay", str(DEMO_TAPE), "--candidat", "http://127.0.0.1:1")
    assert done.returncode == 2
    assert done.stderr == (
        "shadowtape replay: error: unrecognized argument --candidat; did you mean "
        "--candidate? (see 'shadowtape replay --help')\n"
    )


def test_a_mistyped_command_gets_the_closest_one(shadowtape: InProcess) -> None:
    done = shadowtape("replya", str(DEMO_TAPE))
    assert done.returncode == 2
    assert done.stderr.startswith(
        "shadowtape: error: unknown command 'replya'; did you mean replay?"
    )
    assert len(done.stderr.strip().splitlines()) == 1
    far = shadowtape("frobnicate")
    assert far.returncode == 2 and "commands: record, replay, report, show" in far.stderr


def _commands() -> dict[str, argparse.ArgumentParser]:
    from shadowtape.cli import build_parser

    parser = build_parser()
    return parser.commands  # type: ignore[attr-defined, no-any-return]


def _examples(help_text: str) -> list[str]:
    """The example command lines of a --help, continuation lines joined, comments out."""
    block = help_text.split("\nexamples:\n", 1)[1].split("\n\nexit codes:", 1)[0]
    joined = block.replace("\\\n", " ")
    lines = [line.strip() for line in joined.splitlines()]
    return [line for line in lines if "shadowtape " in line and not line.startswith("#")]


def test_every_command_has_examples_that_parse() -> None:
    from shadowtape.cli import build_parser

    for name, command in _commands().items():
        examples = _examples(command.format_help())
        assert len(examples) >= 2, name
        for example in examples:
            words = shlex.split(example.split(" | ", 1)[0])
            words = words[words.index("shadowtape") + 1 :]
            assert words[0] == name, example
            build_parser().parse_args(words)  # exits (and fails the test) if it does not parse


def test_every_default_is_shown(shadowtape: InProcess) -> None:
    for name, command in _commands().items():
        formatter = command.formatter_class(prog=command.prog)
        for action in command._actions:
            default = action.default
            if not action.option_strings or default in (None, False, [], argparse.SUPPRESS):
                continue
            shown = formatter._get_help_string(action)  # type: ignore[attr-defined]
            assert "default" in shown or f"({default})" in shown, (name, action.option_strings)
    help_text = shadowtape("replay", "--help").stdout
    assert "--concurrency N       requests in flight at most (default: 64)" in help_text
    assert "(default: 20)" in help_text  # --abort-after
    assert "exit codes:\n  0    all is well" in help_text


def test_replay_help_starts_with_the_targets(shadowtape: InProcess) -> None:
    text = shadowtape("replay", "--help").stdout
    assert text.startswith("usage: shadowtape replay TAPES [TAPES ...] --candidate URL")
    groups = [line for line in text.splitlines() if line.endswith(":") and not line[0].isspace()]
    assert groups[:3] == ["positional arguments:", "options:", "targets:"]
    assert text.index("--candidate URL ") < text.index("--pace")
