from __future__ import annotations

import glob as globmod
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shadowtape import ConfigError, TapeFilter, TapeReader, TapeWriter
from shadowtape.errors import TapeError
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
