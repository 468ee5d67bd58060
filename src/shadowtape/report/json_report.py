"""Write report.json: the versioned, documented structure every other format renders."""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from shadowtape.diff.json import dumps

FILENAME = "report.json"


def render(report: dict[str, object], out_dir: Path) -> Path:
    """Write `report` to out_dir/report.json atomically (a reader never sees half a file)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FILENAME
    tmp = out_dir / f".{FILENAME}.{os.getpid()}.tmp"
    tmp.write_bytes(dumps(report, orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    tmp.replace(path)
    return path


def load(path: Path) -> dict[str, object]:
    data = orjson.loads(path.read_bytes())
    assert isinstance(data, dict)
    return data
