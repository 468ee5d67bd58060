"""The public surface is shadowtape/__init__.py; this fails when a name leaks or goes missing."""

from __future__ import annotations

import subprocess
import sys

import shadowtape


def test_all_names_are_exported_and_nothing_private_leaks() -> None:
    for name in shadowtape.__all__:
        assert hasattr(shadowtape, name), name
    public = {
        name
        for name, value in vars(shadowtape).items()
        if not name.startswith("_")
        # Submodules set themselves here; shadowtape.replay is one, callable.
        and (not isinstance(value, type(shadowtape)) or callable(value))
        and name not in {"annotations"}
    }
    assert public == set(shadowtape.__all__) - {"__version__"}


def test_the_replay_and_report_names_load_lazily() -> None:
    """The recorder's proxy process imports shadowtape and must not pay for pyarrow."""
    code = (
        "import sys, shadowtape; assert 'pyarrow' not in sys.modules, 'eager'; "
        "assert callable(shadowtape.replay) and callable(shadowtape.analyze); "
        "assert shadowtape.Report.write; "
        "import shadowtape.replay.engine; assert callable(shadowtape.replay)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
