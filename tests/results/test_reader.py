"""The run-folder reader refuses what it cannot read, naming the file."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shadowtape.errors import ReplayError
from shadowtape.results.reader import read_results, read_run


def test_a_newer_major_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    table = pa.table({"x": [1]}).replace_schema_metadata({"shadowtape.results_version": "2.0"})
    pq.write_table(table, tmp_path / "results" / "part-1.parquet")
    with pytest.raises(ReplayError, match="newer"):
        list(read_results(tmp_path))


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(ReplayError, match="not a replay run folder"):
        list(read_results(tmp_path))
    with pytest.raises(ReplayError, match=r"run\.json"):
        read_run(tmp_path)
