"""`shadowtape inspect` as a user runs it: real files, exit codes. Most checks call the
command in this process (``cli.main``); a real process still gives the JSON a script reads
and a refusal's exit code, single stderr line and no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shadowtape import TapeWriter
from shadowtape.tape import SCHEMA, to_batch
from tests.cli_in_process import InProcess, process
from tests.tape.helpers import exchange

pytestmark = [
    # cli.main imports every command, and mitmproxy (imported by another command) uses
    # pyparsing names that pyparsing 3.3 deprecates: not this command's warning to fix.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


@pytest.fixture
def shadowtape(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> InProcess:
    """``shadowtape ARGS`` run by ``cli.main`` in this process."""
    return InProcess(capsys, monkeypatch)


@pytest.fixture
def tape(tmp_path: Path) -> Path:
    root = tmp_path / "tape"
    with TapeWriter(root) as writer:
        for i in range(30):
            writer.write(exchange(path=f"/api/items/{i % 3}", status=500 if i % 10 == 0 else 200))
        writer.write(exchange(status=None))
    return root


def test_inspect_json_reports_counts_a_script_can_use(tape: Path) -> None:
    result = process("inspect", "--json", str(tape))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["exchanges"] == 31
    assert summary["status_classes"] == {"2xx": 27, "5xx": 3, "no response": 1}
    assert summary["top_paths"] == {"/api/items/0": 10, "/api/items/1": 11, "/api/items/2": 10}
    assert summary["methods"] == {"GET": 31}


def test_a_sample_is_written_as_a_fraction_or_a_percentage(
    tape: Path, shadowtape: InProcess
) -> None:
    # As `record --sample 10%` takes it.
    counts = [
        json.loads(shadowtape("inspect", "--json", str(tape), "--sample", rate).stdout)
        for rate in ("0.5", "50%")
    ]
    assert counts[0] == counts[1] and 0 < counts[0]["exchanges"] < 31


def test_inspect_prints_a_summary_for_people(tape: Path, shadowtape: InProcess) -> None:
    result = shadowtape("inspect", str(tape), "--status", "5xx")
    assert result.returncode == 0, result.stderr
    assert "3 exchanges" in result.stdout
    assert "/api/items/0" in result.stdout


def _future_version(path: Path) -> None:
    batch = to_batch([exchange()])
    schema = SCHEMA.with_metadata({b"shadowtape.schema_version": b"2.0"})
    pq.write_table(pa.Table.from_batches([batch]).cast(schema), path)


def _damage(tape: Path, path: Path, how: str) -> None:
    source = next(tape.rglob("*.parquet")).read_bytes()
    if how == "truncated":
        path.write_bytes(source[: len(source) // 2])
    elif how == "corrupt":
        middle = len(source) // 2
        path.write_bytes(source[:200] + b"\xff" * (middle - 200) + source[middle:])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "not parquet":
        path.write_text("id,method\n1,GET\n")
    elif how == "not a tape":
        pq.write_table(pa.table({"a": [1, 2]}), path)
    elif how == "future version":
        _future_version(path)
    elif how == "missing column":
        table = pa.Table.from_batches([to_batch([exchange()])]).drop_columns(["path"])
        pq.write_table(table, path)


@pytest.mark.parametrize(
    ("how", "says"),
    [
        ("truncated", "corrupt or truncated"),
        ("corrupt", "corrupt or truncated"),
        ("empty", "empty file"),
        ("not parquet", "corrupt or truncated"),
        ("not a tape", "not a shadowtape tape"),
        ("future version", "upgrade shadowtape"),
        ("missing column", "the required column path is missing"),
    ],
)
def test_bad_files_give_one_line_naming_the_file_and_exit_2(
    tape: Path, tmp_path: Path, how: str, says: str, shadowtape: InProcess
) -> None:
    bad = tmp_path / "bad.parquet"
    _damage(tape, bad, how)
    for args in (["inspect", str(bad)], ["inspect", "--json", str(tape), str(bad)]):
        result = shadowtape(*args)
        assert result.returncode == 2
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert str(bad) in lines[0] and says in lines[0]
        assert "Traceback" not in result.stderr


def test_usage_errors_and_missing_paths_exit_2_with_one_line(
    tmp_path: Path, shadowtape: InProcess
) -> None:
    missing = process("inspect", str(tmp_path / "missing"))  # as a user's process ends
    assert missing.returncode == 2
    assert len(missing.stderr.strip().splitlines()) == 1, missing.stderr
    assert "Traceback" not in missing.stderr
    for args in (
        ["inspect", str(tmp_path / "missing")],
        ["inspect", "--bogus", str(tmp_path)],
        ["inspect", str(tmp_path), "--since", "yesterday"],
        ["inspect", str(tmp_path), "--status", "2xxx"],
        ["inspect", str(tmp_path), "--status", "299-200"],
        ["inspect", str(tmp_path), "--top", "0"],
        ["inspect", str(tmp_path), "--sample", "150%"],
    ):
        result = shadowtape(*args)
        assert result.returncode == 2, args
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr


def test_inspect_ids_lists_every_exchange_kept_and_json_has_their_ids(
    tape: Path, monkeypatch: pytest.MonkeyPatch, shadowtape: InProcess
) -> None:
    from shadowtape import TapeReader, inspect

    errors = sorted(
        e.id for e in TapeReader(tape).exchanges() if e.response and e.response.status == 500
    )
    listed = shadowtape("inspect", str(tape), "--status", "5xx", "--ids")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert sorted(line.split()[0] for line in lines) == errors
    assert all(line.endswith("  500") and " GET /api/items/" in line for line in lines)

    summary = json.loads(shadowtape("inspect", "--json", str(tape), "--status", "5xx").stdout)
    assert sorted(summary["ids"]) == errors and summary["ids_omitted"] == 0
    # The summary holds the first ids only, and says how many it left out; --ids, all.
    monkeypatch.setattr(inspect, "MAX_IDS", 5)
    capped = inspect.summarize([str(tape)], max_ids=5)
    assert len(capped["ids"]) == 5 and capped["ids_omitted"] == 26
    every = json.loads(shadowtape("inspect", "--json", "--ids", str(tape)).stdout)
    assert len(every["ids"]) == 31 and every["ids_omitted"] == 0
