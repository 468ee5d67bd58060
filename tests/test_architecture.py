"""docs/architecture.md is the map of the code: its table names every part of the package,
and what each part must never import holds in the tree (checked on every module's imports,
including those inside functions)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "shadowtape"
MAP = ROOT / "docs" / "architecture.md"
ROW = re.compile(r"^\|\s*`shadowtape\.(\w+)`\s*\|(?P<owns>[^|]*)\|(?P<never>[^|]*)\|\s*$")


def _table() -> dict[str, set[str]]:
    rows: dict[str, set[str]] = {}
    for line in MAP.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            never = set(re.findall(r"`(\w+)`", match["never"]))
            rows[match[1]] = never
    return rows


def _parts() -> set[str]:
    names = {p.stem for p in PACKAGE.glob("*.py")} | {
        p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()
    }
    return names - {"__init__", "__main__"}


def _modules(part: str) -> list[Path]:
    folder = PACKAGE / part
    return sorted(folder.rglob("*.py")) if folder.is_dir() else [PACKAGE / f"{part}.py"]


def _imported_parts(path: Path) -> set[str]:
    """The top-level parts of shadowtape that one module imports, relative imports resolved."""
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    if path.name == "__init__.py":
        package = path.relative_to(PACKAGE.parent).parts[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                names = [".".join((*base, node.module or ""))]
            else:
                names = [node.module or ""]
            if names[0].rstrip(".") == "shadowtape":
                names = [f"shadowtape.{alias.name}" for alias in node.names]
        for name in names:
            bits = name.strip(".").split(".")
            if bits[0] == "shadowtape" and len(bits) > 1:
                found.add(bits[1])
    return found


def test_the_map_names_every_part_of_the_package_and_nothing_else() -> None:
    assert set(_table()) == _parts()


@pytest.mark.parametrize("part", sorted(_table()))
def test_no_part_imports_what_the_map_forbids(part: str) -> None:
    forbidden = _table()[part]
    assert forbidden <= _parts() | {"*"}, f"the map names parts that do not exist: {forbidden}"
    broken = {
        f"{path.relative_to(PACKAGE)} imports shadowtape.{name}"
        for path in _modules(part)
        for name in _imported_parts(path) - {part}
        if name in forbidden
    }
    assert not broken, sorted(broken)
