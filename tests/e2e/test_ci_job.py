"""The CI replay job and the incident recipe, run locally against the demo services.

The workflow's own `run:` scripts are executed (read from replayer/github-workflow.yml),
with the committed demo tape (fixtures/tapes/demo) and a real candidate build, so the
file a team copies into .github/workflows is the file that is tested.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from fixtures.demo.processes import DemoStack, demo_stack
from shadowtape import TapeReader

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "replayer" / "github-workflow.yml"
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


def steps() -> dict[str, dict[str, object]]:
    workflow = YAML(typ="safe").load(WORKFLOW.read_text())
    job = workflow["jobs"]["replay"]
    return {step.get("id") or step.get("name"): step for step in job["steps"]} | {
        "_env": job["env"]
    }


def test_the_workflow_replay_step_fails_on_the_gate_and_feeds_the_summary(
    stack: DemoStack, tmp_path: Path
) -> None:
    found = steps()
    job_env = {k: str(v) for k, v in found["_env"].items()}  # type: ignore[union-attr]
    summary_file = tmp_path / "step-summary.md"
    env = shell_env(
        **{
            **job_env,
            "CANDIDATE_URL": stack.candidate.url,
            "TAPES": str(TAPE),
            "RUN_DIR": str(tmp_path / "run"),
            "GITHUB_STEP_SUMMARY": str(summary_file),
        }
    )
    replay = subprocess.run(
        ["bash", "-e", "-c", str(found["replay"]["run"])],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # The candidate carries planted gaps: the gate fails the step, and says why.
    assert replay.returncode == 1, replay.stderr[-2000:]
    run = tmp_path / "run"
    for name in ("report.html", "report.json", "junit.xml", "summary.md"):
        assert (run / name).is_file(), name
    report = json.loads((run / "report.json").read_text())
    assert report["gate"]["passed"] is False
    flagged = {e["endpoint"] for e in report["endpoints"] if e["verdict"] == "regression"}
    assert "GET /api/products/{id}" in flagged  # price became a string

    # The summary step runs even after the failure (if: always()) and appends summary.md.
    assert found["Step summary"]["if"] == "always()"
    subprocess.run(
        ["bash", "-e", "-c", str(found["Step summary"]["run"])], env=env, check=True, timeout=30
    )
    assert summary_file.read_text() == (run / "summary.md").read_text()


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
        )
        command += " --progress off" if " replay " in f" {command} " else ""
        result = subprocess.run(
            command, shell=True, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
        )
        assert result.returncode in (0, 1), (command, result.stderr[-2000:])

    by_window = json.loads((tmp_path / "incident-run" / "run.json").read_text())
    expected = sum(
        1 for e in exchanges if window[0].recorded_at <= e.recorded_at < window[-1].recorded_at
    )
    assert by_window["counts"]["selected"] == expected
    by_ids = json.loads((tmp_path / "incident-ids" / "run.json").read_text())
    assert by_ids["counts"]["selected"] == len(ids)
    assert (tmp_path / "incident-run" / "report.html").is_file()
