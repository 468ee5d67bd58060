"""run.json's ``deps`` key: written as the contract says, read back as typed paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shadowtape.errors import RunFolderError
from shadowtape.results import DepsProxy, deps_proxies
from shadowtape.results.deps import note_deps
from shadowtape.results.writer import write_run_json

ENTRY = {
    "mode": "mock",
    "proxy": "http://127.0.0.1:8123",
    "calls": "deps/candidate.calls.jsonl",
    "faults": "deps/candidate.faults.json",
}


def test_noted_proxies_read_back_with_absolute_paths(tmp_path: Path) -> None:
    write_run_json(tmp_path, {"results_version": "1.3", "run_id": "r"})
    assert deps_proxies(tmp_path) == {}
    note_deps(tmp_path, {"candidate": ENTRY})
    on_disk = json.loads((tmp_path / "run.json").read_text())
    assert on_disk["deps"] == {"candidate": ENTRY} and on_disk["run_id"] == "r"
    assert deps_proxies(tmp_path) == {
        "candidate": DepsProxy(
            role="candidate",
            mode="mock",
            proxy="http://127.0.0.1:8123",
            calls=tmp_path / "deps" / "candidate.calls.jsonl",
            faults=tmp_path / "deps" / "candidate.faults.json",
        )
    }


def test_nothing_is_noted_without_a_run_json_or_proxies(tmp_path: Path) -> None:
    note_deps(tmp_path, {"candidate": ENTRY})
    assert not (tmp_path / "run.json").exists()
    write_run_json(tmp_path, {"run_id": "r"})
    note_deps(tmp_path, {})
    assert "deps" not in json.loads((tmp_path / "run.json").read_text())


def test_a_mangled_entry_is_a_run_folder_error(tmp_path: Path) -> None:
    write_run_json(tmp_path, {"run_id": "r", "deps": {"candidate": {"mode": "mock"}}})
    with pytest.raises(RunFolderError, match="'deps' entry"):
        deps_proxies(tmp_path)
