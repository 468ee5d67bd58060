from __future__ import annotations

import glob as globmod
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shadowtape import ConfigError, TapeFilter, TapeReader, TapeWriter
from shadowtape.errors import TapeError, TapeFormatError
from shadowtape.tape import parse_statuses
from tests.tape.helpers import exchange

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def tape(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tape")
    rows = [
        ("GET", "/api/users/1", 200, "a.test", "edge", 0),
        ("GET", "/api/users/2", 404, "a.test", "edge", 10),
        ("POST", "/api/orders", 201, "b.test", "edge", 20),
        ("GET", "/api/orders/7/items", 500, "b.test", "billing", 65),
        ("DELETE", "/api/users/1", 503, "a.test", "billing", 70),
        ("GET", "/health", 200, "a.test", "edge", 130),
        ("GET", "/api/users/3", None, "a.test", "edge", 140),
    ]
    with TapeWriter(root) as writer:
        for method, path, status, host, source, minutes in rows:
            writer.write(
                exchange(
                    method=method,
                    path=path,
                    status=status,
                    host=host,
                    source=source,
                    at=T0 + timedelta(minutes=minutes),
                )
            )
    return root


def paths(reader: TapeReader) -> list[str]:
    return sorted(e.request.path for e in reader.exchanges(bodies=False))


@pytest.mark.parametrize(
    ("filt", "expected"),
    [
        (TapeFilter(methods=("get",)), 5),
        (TapeFilter(hosts=("b.test",)), 2),
        (TapeFilter(path="/api/users/"), 4),
        (TapeFilter(path="/api/*/7/*"), 1),
        (TapeFilter(path="/api/**"), 6),
        (TapeFilter(path=r"re:^/api/users/\d+$"), 4),
        (TapeFilter(statuses=parse_statuses("5xx")), 2),
        (TapeFilter(statuses=parse_statuses("200,404")), 3),
        (TapeFilter(statuses=parse_statuses("200-299")), 3),
        (TapeFilter(sources=("billing",)), 2),
        (TapeFilter(since=T0 + timedelta(minutes=60)), 4),
        (TapeFilter(since=T0 + timedelta(minutes=60), until=T0 + timedelta(minutes=120)), 2),
        (TapeFilter(methods=("GET",), sources=("edge",), statuses=parse_statuses("2xx")), 2),
        (TapeFilter(limit=3), 3),
    ],
)
def test_filters_select_exactly_the_matching_exchanges(
    tape: Path, filt: TapeFilter, expected: int
) -> None:
    assert TapeReader(tape, filter=filt).count() == expected
    assert len(list(TapeReader(tape, filter=filt).exchanges())) == expected


def test_ids_filter_and_exchange_without_response(tape: Path) -> None:
    everything = list(TapeReader(tape).exchanges())
    no_response = [e for e in everything if e.response is None]
    assert [e.request.path for e in no_response] == ["/api/users/3"]
    picked = TapeReader(tape, filter=TapeFilter(ids=(no_response[0].id,)))
    assert [e.id for e in picked] == [no_response[0].id]


def test_time_and_source_filters_prune_whole_partitions(tape: Path) -> None:
    assert len(TapeReader(tape).parts) == 3  # edge 10h, billing 11h, edge 12h
    late = TapeReader(tape, filter=TapeFilter(since=T0 + timedelta(minutes=125)))
    assert [p.hour_start.hour for p in late.parts if p.hour_start] == [12]
    assert all(
        p.source == "billing"
        for p in TapeReader(tape, filter=TapeFilter(sources=("billing",))).parts
    )


def test_a_reader_splits_into_one_reader_per_source(tape: Path) -> None:
    """Each source's parts read as their own stream, with the reader's filter."""
    reader = TapeReader(tape, filter=TapeFilter(methods=("GET",)), batch_size=2)
    assert reader.sources() == ["billing", "edge"]  # in the order the parts are found
    billing, edge = (reader.for_source(source) for source in reader.sources())
    assert [p.source for p in edge.parts] == ["edge", "edge"]
    assert edge.batch_size == 2 and edge.filter == reader.filter
    assert paths(billing) == ["/api/orders/7/items"]
    assert sorted(paths(edge) + paths(billing)) == paths(reader)
    assert len(reader.parts) == 3  # the whole reader is untouched
    assert reader.for_source("nowhere").parts == []


def test_a_source_name_that_is_not_a_path_segment_is_found_by_its_own_name(
    tmp_path: Path,
) -> None:
    # `record --source team/edge`: the partition folder cannot hold the slash, the rows do.
    with TapeWriter(tmp_path, source="team/edge") as writer:
        writer.write(exchange(path="/a", source="team/edge"))
    with TapeWriter(tmp_path, source="team_edge") as writer:
        writer.write(exchange(path="/b", source="team_edge"))
    assert [p.name for p in tmp_path.iterdir()] == ["source=team_edge"]
    assert paths(TapeReader(tmp_path, filter=TapeFilter(sources=("team/edge",)))) == ["/a"]
    assert paths(TapeReader(tmp_path, filter=TapeFilter(sources=("team_edge",)))) == ["/b"]


def test_sampling_is_deterministic_and_roughly_proportional(tmp_path: Path) -> None:
    with TapeWriter(tmp_path) as writer:
        for i in range(4_000):
            writer.write(exchange(path=f"/p/{i}"))
    first = paths(TapeReader(tmp_path, filter=TapeFilter(sample=0.25)))
    again = paths(TapeReader(tmp_path, filter=TapeFilter(sample=0.25)))
    assert first == again
    assert 800 < len(first) < 1_200


def test_a_file_a_folder_a_glob_and_a_file_uri_read_the_same_tape(tape: Path) -> None:
    files = sorted(globmod.glob(f"{tape}/**/*.parquet", recursive=True))
    assert TapeReader(tape).count() == 7
    assert TapeReader(files).count() == 7
    assert TapeReader(f"{tape}/source=edge/**/*.parquet").count() == 5
    assert TapeReader(f"file://{tape}").count() == 7
    assert TapeReader(f"file://{files[0]}").count() >= 1


def test_reads_without_bodies_leave_body_columns_on_disk(tape: Path) -> None:
    batch = next(TapeReader(tape).batches(bodies=False))
    assert "response_body" not in batch.schema.names
    assert "status" in batch.schema.names
    full = next(iter(TapeReader(tape).exchanges()))
    assert full.response is not None and full.response.body == b'{"ok": true}'


def test_missing_locations_and_bad_filters_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(TapeError, match="no such file or folder"):
        TapeReader(tmp_path / "nope")
    with pytest.raises(TapeError, match="no file matches"):
        TapeReader(f"{tmp_path}/*.parquet")
    with pytest.raises(ConfigError, match="5xx"):
        parse_statuses("5xxx")
    with pytest.raises(ConfigError, match=r"runs backwards .* e\.g\. 200-299"):
        parse_statuses("299-200")  # matched nothing, silently
    with pytest.raises(ConfigError, match="does not compile"):
        TapeFilter(path="re:(")
    with pytest.raises(ConfigError, match="sample"):
        TapeFilter(sample=1.5)


def _rewrite(source: Path, target: Path, change: Callable[[pa.Table], pa.Table]) -> Path:
    """The tape's rows as one part with its columns changed and the shadowtape metadata
    kept, as another tool (or a hand edit) could leave it."""
    table = change(pa.concat_tables(pq.read_table(p) for p in source.rglob("*.parquet")))
    metadata = {b"shadowtape.schema_version": b"1.0"}
    target.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table.replace_schema_metadata(metadata), target)
    return target


def _retype(name: str, type_: pa.DataType) -> Callable[[pa.Table], pa.Table]:
    def change(table: pa.Table) -> pa.Table:
        index = table.schema.get_field_index(name)
        if pa.types.is_null(type_):
            column: pa.Array | pa.ChunkedArray = pa.nulls(table.num_rows)
        else:
            column = table.column(name).cast(type_)
        return table.set_column(index, pa.field(name, type_), column)

    return change


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda t: t.drop_columns(["path"]), "the required column path is missing"),
        (
            lambda t: pa.table({"a": [1, 2, 3]}),
            "the required columns id, recorded_at, source and 24 more are missing",
        ),
        (_retype("path", pa.binary()), "column path is binary where the format has string"),
        (_retype("status", pa.string()), "column status is string where the format has int32"),
        (_retype("path", pa.null()), "column path is null where the format has string"),
    ],
)
def test_a_part_without_the_required_columns_is_refused_naming_file_and_column(
    tape: Path, tmp_path: Path, change: Callable[[pa.Table], pa.Table], says: str
) -> None:
    """Such a part used to read as rows of nulls: every request a GET / on replay."""
    bad = _rewrite(tape, tmp_path / "bad" / "part-x.parquet", change)
    reader = TapeReader(tmp_path / "bad")
    for read in (reader.count, lambda: list(reader.exchanges()), lambda: list(reader.part_infos())):
        with pytest.raises(TapeFormatError) as caught:
            read()
        message = str(caught.value)
        assert message.startswith(f"{bad}: not a valid tape part: {says}"), message
        assert "\n" not in message


@pytest.mark.parametrize(
    "change",
    [
        _retype("path", pa.large_string()),
        _retype("port", pa.int64()),
        _retype("recorded_at", pa.timestamp("ns", tz="UTC")),
        _retype("redactions", pa.large_list(pa.large_string())),
        _retype("status", pa.int64()),
        lambda t: _retype("status", pa.null())(_retype("reason", pa.null())(t)),
    ],
)
def test_a_part_with_compatible_column_types_reads_the_same(
    tape: Path, tmp_path: Path, change: Callable[[pa.Table], pa.Table]
) -> None:
    """Other writers choose other widths and layouts; the values mean the same."""
    _rewrite(tape, tmp_path / "other" / "part-x.parquet", change)
    expected = sorted(TapeReader(tape).exchanges(), key=lambda e: e.id)
    got = sorted(TapeReader(tmp_path / "other").exchanges(), key=lambda e: e.id)
    assert [(e.id, e.request.path, e.recorded_at) for e in got] == [
        (e.id, e.request.path, e.recorded_at) for e in expected
    ]
    assert [e.request.port for e in got] == [e.request.port for e in expected]


def test_a_part_rewritten_by_duckdb_reads_the_same(tape: Path, tmp_path: Path) -> None:
    """docs/tape-format.md says any engine reads a tape; one that writes a part back (a
    filtered copy, with the version kept) must give a part shadowtape still reads."""
    out = tmp_path / "copy" / "part-duck.parquet"
    out.parent.mkdir()
    duckdb.sql(
        f"COPY (SELECT * FROM read_parquet('{tape}/**/*.parquet') WHERE method = 'GET') "
        f"TO '{out}' (FORMAT parquet, KV_METADATA {{'shadowtape.schema_version': '1.0'}})"
    )
    got = sorted(TapeReader(out).exchanges(), key=lambda e: e.id)
    expected = sorted(
        TapeReader(tape, filter=TapeFilter(methods=("GET",))).exchanges(), key=lambda e: e.id
    )
    assert got == expected
