"""The public surface is shadowtape/__init__.py; this fails when a name leaks or goes missing."""

from __future__ import annotations

import shadowtape


def test_all_names_are_exported_and_nothing_private_leaks() -> None:
    for name in shadowtape.__all__:
        assert hasattr(shadowtape, name), name
    public = {
        name
        for name, value in vars(shadowtape).items()
        if not name.startswith("_")
        and not isinstance(value, type(shadowtape))
        and name not in {"annotations"}
    }
    assert public == set(shadowtape.__all__) - {"__version__"}
