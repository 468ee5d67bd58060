"""The CI replay jobs and the incident recipe, run locally against the demo services.

The jobs' own scripts are executed (the GitHub workflow's `run:` steps read from
replayer/github-workflow.yml, the GitLab job's `script:` from replayer/gitlab-ci.yml),
with the committed demo tape (fixtures/tapes/demo) and a real candidate build, so the
files a team copies are the files that are tested. Only the window's start moves: the
jobs replay the last hour, the demo tape was recorded once.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from fixtures.demo.processes import DemoStack, demo_stack
from shadowtape import TapeReader
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "replayer" / "github-workflow.yml"
GITLAB = ROOT / "replayer" / "gitlab-ci.yml"
README = ROOT / "replayer" / "README.md"
TAPE = ROOT / "fixtures" / "tapes" / "demo"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoStack]:
    with demo_stack(log_dir=tmp_path_factory.mktemp("logs")) as running:
        yield running


def shell_env(**extra: str) -> dict[str, str]:
    """The job's shell: shadowtape on PATH (this venv), the sanitize key set."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PATH": path, "SHADOWTAPE_SANITIZE_KEY": "ci", **extra}


def job_env(variables: Mapping[str, object], candidate: str, **extra: str) -> dict[str, str]:
    """A replay job's shell: its variables, then the candidate, the demo tape, its window
    and a token, then ``extra``."""
    return shell_env(
        **{
            **{k: str(v) for k, v in variables.items()},
            "CANDIDATE_URL": candidate,
            "TAPES": str(TAPE),
            "REPLAY_WINDOW": demo_window(),
            "STAGING_TOKEN": "ci-token",
            **extra,
        }
    )


def steps() -> dict[str, dict[str, object]]:
    workflow = YAML(typ="safe").load(WORKFLOW.read_text())
    job = workflow["jobs"]["replay"]
    return {step.get("id") or step.get("name"): step for step in job["steps"]} | {
        "_env": job["env"],
        "_job": job,
    }


def demo_window() -> str:
    """The demo tape's first exchange, as the jobs' window start (theirs: an hour ago)."""
    first = min(e.recorded_at for e in TapeReader(TAPE).exchanges(bodies=False))
    return first.strftime("%Y-%m-%dT%H:%M:%SZ")


def run_script(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-e", "-c", script], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def assert_bounded(command: str, job_minutes: float) -> None:
    """A replay that fits the job: a window and a cap, and a pace that is not the
    recorded one (an hour of traffic at recorded pace takes an hour)."""
    assert "--since" in command and "--limit" in command, command
    assert "--pace asap" in command or "--rate" in command or "--speed" in command, command
    timeout = float(re.search(r"--timeout (\S+)", command).group(1))  # type: ignore[union-attr]
    assert timeout * 20 < job_minutes * 60  # --abort-after's 20 timeouts fit, with room


def assert_report(run: Path) -> None:
    report = json.loads((run / "report.json").read_text())
    assert report["gate"]["passed"] is False
    flagged = {e["endpoint"] for e in report["endpoints"] if e["verdict"] == "regression"}
    assert "GET /api/products/{id}" in flagged  # price became a string
    settings = json.loads((run / "run.json").read_text())["settings"]
    assert settings["pace"] == "asap" and settings["filters"]["limit"] == 5000
    assert settings["filters"]["since"] and settings["headers"] == ["Authorization"]


def test_the_workflow_replay_step_fails_on_the_gate_and_feeds_the_summary(
    stack: DemoStack, tmp_path: Path
) -> None:
    found = steps()
    assert_bounded(str(found["replay"]["run"]), found["_job"]["timeout-minutes"])  # type: ignore[index]
    summary_file = tmp_path / "step-summary.md"
    env = job_env(
        found["_env"],
        stack.candidate.url,
        RUN_DIR=str(tmp_path / "run"),
        GITHUB_STEP_SUMMARY=str(summary_file),
    )
    replay = run_script(str(found["replay"]["run"]), env, tmp_path)
    # The candidate carries planted gaps: the gate fails the step, and says why.
    assert replay.returncode == 1, replay.stderr[-2000:]
    run = tmp_path / "run"
    for name in ("report.html", "report.json", "junit.xml", "summary.md"):
        assert (run / name).is_file(), name
    assert_report(run)

    # The summary step runs even after the failure (if: always()) and appends summary.md.
    assert found["Step summary"]["if"] == "always()"
    run_script(str(found["Step summary"]["run"]), env, tmp_path).check_returncode()
    assert summary_file.read_text() == (run / "summary.md").read_text()

    # The upload runs after a failure too, and takes every report the run wrote.
    upload = found["Upload the report"]
    assert upload["if"] == "always()"
    paths = str(upload["with"]["path"]).splitlines()  # type: ignore[index]
    names = {p.strip().replace("${{ env.RUN_DIR }}/", "") for p in paths if p.strip()}
    assert names >= {"report.html", "report.json", "junit.xml", "summary.md"}
    assert all((run / name).is_file() for name in names)


def test_the_workflow_says_why_when_the_candidate_is_not_running(tmp_path: Path) -> None:
    """Exit 2 and one line, not a failed gate; the summary points at the log."""
    found = steps()
    summary_file = tmp_path / "step-summary.md"
    env = job_env(
        found["_env"],
        f"http://127.0.0.1:{free_port()}",
        RUN_DIR=str(tmp_path / "run"),
        GITHUB_STEP_SUMMARY=str(summary_file),
    )
    replay = run_script(str(found["replay"]["run"]), env, tmp_path)
    assert replay.returncode == 2
    assert "connection refused on all of its first 20 requests; is it running?" in replay.stderr
    run_script(str(found["Step summary"]["run"]), env, tmp_path).check_returncode()
    assert "no report" in summary_file.read_text()


def test_the_workflow_fetches_only_the_windows_hour_partitions() -> None:
    script = str(steps()["Fetch tapes"]["run"])
    assert "date=%F/hour=%H" in script and '"$REPLAY_WINDOW" now' in script


def test_the_gitlab_job_replays_the_same_way_and_reports_junit(
    stack: DemoStack, tmp_path: Path
) -> None:
    job = YAML(typ="safe").load(GITLAB.read_text())["shadow-replay"]
    variables = {k: str(v) for k, v in job["variables"].items()}
    fetch, replay_script = job["script"]
    assert "aws s3 sync" in fetch and "date=%F/hour=%H" in fetch
    assert_bounded(replay_script, float(job["timeout"].split()[0]))
    env = job_env(variables, stack.candidate.url)
    # RUN_DIR as the job sets it, relative to the job's folder: the artifacts name it.
    replay = run_script(replay_script, env, tmp_path)
    assert replay.returncode == 1, replay.stderr[-2000:]
    run = tmp_path / variables["RUN_DIR"]
    assert_report(run)
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always"
    junit = tmp_path / artifacts["reports"]["junit"]
    assert junit.is_file() and junit.read_text().startswith("<?xml")
    for path in artifacts["paths"]:
        assert (tmp_path / path).is_file(), path


def _recipe_commands() -> list[str]:
    """The shell commands of the README's incident recipe, continuation lines joined."""
    recipe = README.read_text().split("## Replaying a captured incident", 1)[1]
    block = re.search(r"```sh\n(.*?)```", recipe, re.S)
    assert block, "the recipe's shell block"
    text = block.group(1).replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip().startswith("shadowtape ")]


def test_the_incident_recipe_replays_exactly_a_time_window_or_a_list_of_ids(
    stack: DemoStack, tmp_path: Path
) -> None:
    exchanges = sorted(TapeReader(TAPE).exchanges(bodies=False), key=lambda e: e.recorded_at)
    window = exchanges[len(exchanges) // 3 : len(exchanges) // 3 + 40]
    since = window[0].recorded_at.isoformat()
    until = window[-1].recorded_at.isoformat()
    ids = [e.id for e in exchanges[:3]]
    commands = _recipe_commands()
    assert any("--since" in c and "replay" in c for c in commands)
    assert any("--id" in c and "replay" in c for c in commands)

    env = shell_env()
    for command in commands:
        if "jq" in command or command.startswith("shadowtape report"):
            continue
        command = (
            command.replace("incident-tapes/", str(TAPE))
            .replace("2026-11-21T09:58Z", since)
            .replace("2026-11-21T10:05Z", until)
            .replace("http://127.0.0.1:8080", stack.candidate.url)
            .replace("--id 01JD3Q5... --id 01JD3Q6...", " ".join(f"--id {i}" for i in ids))
            .replace("01JD3Q5...", ids[0])
        )
        command += " --progress off" if " replay " in f" {command} " else ""
        result = subprocess.run(
            command, shell=True, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
        )
        assert result.returncode in (0, 1), (command, result.stderr[-2000:])
        if command.startswith("shadowtape show"):
            assert "candidate (" in result.stdout and ids[0] in result.stdout

    by_window = json.loads((tmp_path / "incident-run" / "run.json").read_text())
    expected = sum(
        1 for e in exchanges if window[0].recorded_at <= e.recorded_at < window[-1].recorded_at
    )
    assert by_window["counts"]["selected"] == expected
    by_ids = json.loads((tmp_path / "incident-ids" / "run.json").read_text())
    assert by_ids["counts"]["selected"] == len(ids)
    assert (tmp_path / "incident-run" / "report.html").is_file()
