"""run.json's ``deps`` key: the deps proxy started beside each launched build.

``shadowtape replay --candidate-cmd …`` starts a ``shadowtape deps`` proxy per build
(deps/beside.py) and notes it here (``note_deps``), before any probe runs; probes and the
side-effect ledger find each role's calls log and faults file with ``deps_proxies``.
The key is absent when no build was launched. docs/results-format.md documents it::

    "deps": {"candidate": {"mode": "mock", "proxy": "http://127.0.0.1:PORT",
                           "calls": "deps/candidate.calls.jsonl",
                           "faults": "deps/candidate.faults.json"}}
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shadowtape.errors import RunFolderError
from shadowtape.results.reader import read_run
from shadowtape.results.writer import write_run_json

KEY = "deps"


@dataclass(frozen=True, slots=True)
class DepsProxy:
    """The deps proxy one launched build's outbound calls went through."""

    role: str
    #: ``mock`` (answered from the --deps tapes) or ``passthrough``.
    mode: str
    #: Its URL, http://127.0.0.1:PORT (stopped once the run is over).
    proxy: str
    #: Its calls log, one JSON line per call (docs/deps.md).
    calls: Path
    #: Its faults file: ``deps.control.write_faults`` changes its fault rules while it runs.
    faults: Path


def deps_proxies(run_dir: str | os.PathLike[str]) -> dict[str, DepsProxy]:
    """Role -> its deps proxy, paths absolute; empty when the run launched no build."""
    folder = Path(run_dir).absolute()
    entries = read_run(folder).get(KEY) or {}
    try:
        return {
            role: DepsProxy(
                role=role,
                mode=str(entry["mode"]),
                proxy=str(entry["proxy"]),
                calls=folder / str(entry["calls"]),
                faults=folder / str(entry["faults"]),
            )
            for role, entry in entries.items()
        }
    except (AttributeError, KeyError, TypeError) as exc:
        raise RunFolderError(
            f"{folder / 'run.json'}: its 'deps' entry is not what shadowtape replay writes "
            f"({exc!r})"
        ) from None


def note_deps(run_dir: str | os.PathLike[str], started: Mapping[str, Mapping[str, str]]) -> None:
    """Add ``started`` (role -> mode, proxy, calls, faults) to run.json as ``deps``."""
    folder = Path(run_dir)
    if not started or not (folder / "run.json").exists():
        return
    info = read_run(folder)
    info[KEY] = {role: dict(entry) for role, entry in started.items()}
    write_run_json(folder, info)
