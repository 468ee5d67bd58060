from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shadowtape import Exchange, TapeReader, TapeWriter
from shadowtape.tape import SCHEMA, SCHEMA_VERSION, from_batch, to_batch
from tests.strategies import exchanges


@given(st.lists(exchanges(), min_size=1, max_size=5))
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.data_too_large, HealthCheck.too_slow],
)
def test_exchanges_survive_arrow_conversion_unchanged(items: list[Exchange]) -> None:
    batch = to_batch(items)
    assert batch.schema.equals(SCHEMA)
    assert list(from_batch(batch)) == items


@given(st.lists(exchanges(), min_size=1, max_size=4))
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
        HealthCheck.too_slow,
    ],
)
def test_exchanges_survive_a_real_parquet_tape_unchanged(
    tmp_path_factory: object, items: list[Exchange]
) -> None:
    folder = tmp_path_factory.mktemp("tape")  # type: ignore[attr-defined]
    with TapeWriter(folder) as writer:
        for item in items:
            assert writer.write(item)
    back = sorted(TapeReader(folder).exchanges(), key=lambda e: e.id)
    assert back == sorted(items, key=lambda e: e.id)


def test_schema_version_is_in_the_parquet_metadata(tmp_path: Path) -> None:
    from tests.tape.helpers import exchange

    with TapeWriter(tmp_path) as writer:
        writer.write(exchange())
    [part] = list(tmp_path.rglob("*.parquet"))
    metadata = pq.ParquetFile(part).metadata.metadata
    assert metadata[b"shadowtape.schema_version"] == SCHEMA_VERSION.encode()


@given(st.lists(exchanges(), min_size=2, max_size=5), st.data())
@settings(
    max_examples=60,
    deadline=None,
    # the strategy includes 100 KB bodies on purpose
    suppress_health_check=[HealthCheck.data_too_large, HealthCheck.too_slow],
)
def test_slices_of_a_batch_decode_to_their_own_exchanges(
    items: list[Exchange], data: st.DataObject
) -> None:
    start = data.draw(st.integers(0, len(items) - 1))
    length = data.draw(st.integers(0, len(items) - start))
    batch = to_batch(items).slice(start, length)
    assert list(from_batch(batch)) == items[start : start + length]
