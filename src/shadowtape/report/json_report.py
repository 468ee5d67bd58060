"""Write report.json: the typed report serialized in the documented structure.

orjson with two-space indentation, non-string keys allowed, as report.json has always been
written; ``Report.to_json`` gives the keys in their documented order.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from shadowtape.diff.json import dumps
from shadowtape.report.model import Report

FILENAME = "report.json"


def render(report: Report, out_dir: Path) -> Path:
    """Write `report` to out_dir/report.json atomically (a reader never sees half a file)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FILENAME
    tmp = out_dir / f".{FILENAME}.{os.getpid()}.tmp"
    tmp.write_bytes(dumps(report.to_json(), orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    tmp.replace(path)
    return path
