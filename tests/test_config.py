"""Configuration as a user writes it: real files, the real CLI, flags winning over files.
The CLI runs in this process (``cli.main``, in the project's folder); a wrong value in
the file is also refused by a real process, with its exit code."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from shadowtape import TapeWriter
from tests.cli_in_process import InProcess, Ran, process
from tests.tape.helpers import exchange

pytestmark = [
    # cli.main imports every command, and mitmproxy (imported by another command) uses
    # pyparsing names that pyparsing 3.3 deprecates: not this command's warning to fix.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Ran]:
    """``shadowtape ARGS`` run from the folder CWD by ``cli.main`` in this process."""
    shadowtape = InProcess(capsys, monkeypatch)

    def run(cwd: Path, *args: str) -> Ran:
        return shadowtape(*args, cwd=cwd)

    return run


@pytest.fixture
def project(tmp_path: Path) -> Path:
    with TapeWriter(tmp_path / "tapes") as writer:
        for i in range(12):
            writer.write(exchange(path=f"/p/{i % 4}", status=500 if i < 3 else 200))
    return tmp_path


def test_shadowtape_toml_sets_defaults_and_flags_override_it(
    project: Path, run: Callable[..., Ran]
) -> None:
    (project / "shadowtape.toml").write_text('[inspect]\njson = true\nstatus = "5xx"\ntop = 1\n')
    summary = json.loads(run(project, "inspect", "tapes").stdout)
    assert summary["exchanges"] == 3
    assert len(summary["top_paths"]) == 1
    overridden = json.loads(run(project, "inspect", "tapes", "--status", "2xx").stdout)
    assert overridden["exchanges"] == 9


def test_pyproject_tool_table_is_found_from_a_subfolder(
    project: Path, run: Callable[..., Ran]
) -> None:
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.shadowtape.inspect]\njson = true\nmethod = ["POST"]\n'
    )
    sub = project / "deep" / "er"
    sub.mkdir(parents=True)
    summary = json.loads(run(sub, "inspect", str(project / "tapes")).stdout)
    assert summary["exchanges"] == 0


def test_config_flag_names_a_file_anywhere(
    project: Path, tmp_path: Path, run: Callable[..., Ran]
) -> None:
    other = tmp_path / "elsewhere.toml"
    other.write_text("[inspect]\njson = true\nlimit = 5\n")
    for args in (
        ("--config", str(other), "inspect", "tapes"),
        ("inspect", "tapes", f"--config={other}"),
    ):
        result = run(project, *args)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["exchanges"] == 5


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[inspect]\ntopp = 3\n", "[inspect] has no option 'topp' (did you mean 'top'?)"),
        ("[inspect]\ntop = 'many'\n", "[inspect] top: 'many' is not valid"),
        ("[inspect]\njson = 'yes'\n", "[inspect] json must be true or false"),
        ("[inspect]\nstatus = '2xxx'\n", "[inspect] status"),
        (
            "[inspcet]\njson = true\n",
            "[inspcet] is not a shadowtape command (did you mean 'inspect'?)",
        ),
        ("[inspect\n", "not valid TOML"),
        ("speed = 2\n", "'speed = ...' is outside any table: put options under their command"),
    ],
)
def test_config_errors_name_the_file_and_the_key(
    project: Path, text: str, says: str, run: Callable[..., Ran]
) -> None:
    (project / "shadowtape.toml").write_text(text)
    result = run(project, "inspect", "tapes")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(project / "shadowtape.toml") in lines[0]
    assert says in lines[0]


@pytest.mark.parametrize(
    ("table", "argv", "sent"),
    [
        ("", [], True),
        ("traceparent = false\n", [], False),
        ("traceparent = false\n", ["--traceparent"], True),
        ("", ["--no-traceparent"], False),
    ],
)
def test_traceparent_is_on_unless_the_file_or_a_flag_turns_it_off(
    tmp_path: Path, table: str, argv: list[str], sent: bool
) -> None:
    from shadowtape.cli import build_parser
    from shadowtape.commands.replay import sending
    from shadowtape.config import load_config

    path = tmp_path / "shadowtape.toml"
    path.write_text("[replay]\n" + table)
    args = build_parser(load_config(path)).parse_args(
        ["replay", "tapes", "--candidate", "http://127.0.0.1:1", *argv]
    )
    assert sending(args)["traceparent"] is sent


def test_traceparent_in_the_file_must_be_true_or_false(project: Path) -> None:
    (project / "shadowtape.toml").write_text('[replay]\ntraceparent = "no"\n')
    result = process("replay", "tapes", "--candidate", "http://127.0.0.1:1", cwd=project)
    assert result.returncode == 2
    assert "[replay] traceparent must be true or false" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
