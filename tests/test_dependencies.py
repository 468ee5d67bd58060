"""Every runtime dependency in pyproject.toml is imported somewhere in src/shadowtape: one
that nothing imports is weight every user installs for nothing (test-only ones go in dev)."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imported_modules() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "src" / "shadowtape").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_runtime_dependency_is_imported_by_the_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    required = {
        _normalized(re.split(r"[<>=!~;\[ ]", dep, maxsplit=1)[0]) for dep in project["dependencies"]
    }
    imported = _imported_modules()
    used = {
        _normalized(dist)
        for module, dists in packages_distributions().items()
        if module in imported
        for dist in dists
    }
    assert required - used == set(), "runtime dependencies nothing in src/ imports"
