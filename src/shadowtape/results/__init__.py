"""The run folder: what a replay writes and the report reads.

    schema.py        the results' Arrow schema, target names and version (the one copy)
    heads.py         a response's head bytes read as header pairs (Arrow column, or Python)
    rows.py          result rows gathered on the event loop into buffers Arrow takes over
    writer.py        the results thread: assembles rows, writes Parquet parts and run.json
    priority.py      that thread's place below the event loop
    reader.py        the one reader: run.json, result parts, one exchange's row; versions checked
    completeness.py  whether run folders make a whole picture (finished, every shard once)
    deps.py          run.json's ``deps``: the deps proxy beside each launched build

docs/results-format.md documents the format. This package imports neither replay nor
diff: replay writes through it and diff reads through it.
"""

from __future__ import annotations

from shadowtape.results.deps import DepsProxy, deps_proxies
from shadowtape.results.reader import read_results, read_run
from shadowtape.results.schema import RESULTS_VERSION, SCHEMA, TARGETS

__all__ = [
    "RESULTS_VERSION",
    "SCHEMA",
    "TARGETS",
    "DepsProxy",
    "deps_proxies",
    "read_results",
    "read_run",
]
