from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shadowtape import ExchangeError, Request, Response, TapeReader, TapeWriter
from shadowtape.errors import TapeError
from shadowtape.tape.schema import SCHEMA, STATISTICS_COLUMNS
from tests.tape.helpers import column_chunks, exchange, footer


def parts(root: Path) -> list[Path]:
    return sorted(root.rglob("*.parquet"))


def wait_for_open_part(root: Path) -> None:
    deadline = time.monotonic() + 10
    while not list(root.rglob(".part-*.tmp")):
        assert time.monotonic() < deadline, "the writer should have opened a temporary part"
        time.sleep(0.01)


def test_eight_threads_and_a_polling_reader_never_see_a_partial_part(tmp_path: Path) -> None:
    total, threads = 20_000, 8
    writer = TapeWriter(tmp_path, max_rows=1_000, row_group_rows=250, max_age=0.5)
    stop = threading.Event()
    seen: list[int] = []
    problems: list[BaseException] = []

    def poll() -> None:
        while not stop.is_set():
            try:
                seen.append(TapeReader(tmp_path).count())
                seen.append(sum(1 for _ in TapeReader(tmp_path).batches(columns=["id"])))
            except TapeError as exc:  # the folder may not exist for the first few polls
                if "no such file" not in str(exc):
                    problems.append(exc)
            except BaseException as exc:
                problems.append(exc)

    def produce(n: int) -> None:
        for i in range(n):
            assert writer.write(exchange(path=f"/t/{threading.get_ident()}/{i}"))

    poller = threading.Thread(target=poll)
    poller.start()
    producers = [threading.Thread(target=produce, args=(total // threads,)) for _ in range(threads)]
    for thread in producers:
        thread.start()
    for thread in producers:
        thread.join()
    assert writer.close(timeout=30)
    stop.set()
    poller.join()

    assert problems == []
    assert len(seen) > 4, "the reader should have polled while the writer ran"
    assert all(0 <= n <= total for n in seen)
    ids = [
        row
        for batch in TapeReader(tmp_path).batches(columns=["id"])
        for row in batch.column(0).to_pylist()
    ]
    assert len(ids) == len(set(ids)) == total
    stats = writer.stats
    assert (stats.written, stats.dropped, stats.failed, stats.queued) == (total, 0, 0, 0)
    assert len(parts(tmp_path)) >= total // 1_000


def test_an_open_part_is_invisible_until_flush(tmp_path: Path) -> None:
    writer = TapeWriter(tmp_path, max_age=3600)
    writer.write(exchange())
    wait_for_open_part(tmp_path)
    assert parts(tmp_path) == []
    assert TapeReader(tmp_path).count() == 0
    assert writer.flush(timeout=10)
    assert TapeReader(tmp_path).count() == 1
    assert list(tmp_path.rglob("*.tmp")) == []
    writer.close()


def test_parts_are_hive_partitioned_by_source_date_and_hour(tmp_path: Path) -> None:
    with TapeWriter(tmp_path) as writer:
        writer.write(exchange(source="edge", at=datetime(2026, 3, 1, 9, 59, tzinfo=UTC)))
        writer.write(exchange(source="edge", at=datetime(2026, 3, 1, 10, 0, tzinfo=UTC)))
        writer.write(exchange(source="billing/v2", at=datetime(2026, 3, 1, 10, 5, tzinfo=UTC)))
    folders = sorted(str(p.parent.relative_to(tmp_path)) for p in parts(tmp_path))
    assert folders == [
        "source=billing_v2/date=2026-03-01/hour=10",
        "source=edge/date=2026-03-01/hour=09",
        "source=edge/date=2026-03-01/hour=10",
    ]


def test_parts_roll_by_rows_bytes_and_age(tmp_path: Path) -> None:
    with TapeWriter(tmp_path / "rows", max_rows=100, row_group_rows=50) as writer:
        for _ in range(1_000):
            writer.write(exchange())
    assert len(parts(tmp_path / "rows")) == 10

    big = b"x" * 100_000
    with TapeWriter(tmp_path / "bytes", max_bytes=150_000, row_group_rows=1) as writer:
        for _ in range(6):
            writer.write(exchange(body=os.urandom(len(big))))
    assert len(parts(tmp_path / "bytes")) >= 3

    writer = TapeWriter(tmp_path / "age", max_age=0.2)
    writer.write(exchange())
    deadline = time.monotonic() + 5
    while not parts(tmp_path / "age") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert TapeReader(tmp_path / "age").count() == 1, "an aged part closes without a flush"
    writer.close()


def test_a_full_queue_drops_and_counts_and_never_raises(tmp_path: Path) -> None:
    writer = TapeWriter(tmp_path, queue_size=10)
    accepted = sum(writer.write(exchange()) for _ in range(20_000))
    assert writer.close(timeout=30)
    stats = writer.stats
    assert stats.dropped > 0
    assert stats.written == accepted
    assert stats.written + stats.dropped == 20_000
    assert TapeReader(tmp_path).count() == accepted
    infos = list(TapeReader(tmp_path).part_infos())
    assert sum(i.dropped for i in infos) == stats.dropped, "drops are recorded in the tape"
    assert writer.write(exchange()) is False, "a closed writer drops too"


def test_an_unwritable_folder_is_counted_and_logged_once_per_interval(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the tape folder should be")
    with caplog.at_level(logging.WARNING, logger="shadowtape.tape"):
        writer = TapeWriter(blocker, log_interval=60)
        for _ in range(50):
            assert writer.write(exchange()) is True
        writer.close(timeout=10)
    assert writer.stats.failed == 50
    assert writer.stats.written == 0
    warnings = [r for r in caplog.records if r.name == "shadowtape.tape"]
    assert len(warnings) == 1
    assert "cannot open a tape part" in warnings[0].getMessage()


def test_a_folder_deleted_mid_run_loses_only_the_open_part(tmp_path: Path) -> None:
    root = tmp_path / "tapes"
    writer = TapeWriter(root, max_age=3600)
    for _ in range(10):
        writer.write(exchange())
    assert writer.flush(timeout=10)
    for _ in range(5):
        writer.write(exchange())
    wait_for_open_part(root)
    shutil.rmtree(root)
    writer.flush(timeout=10)
    for _ in range(7):
        writer.write(exchange())
    assert writer.close(timeout=10)
    assert writer.stats.failed == 5
    assert TapeReader(root).count() == 7, "the writer recovers once the folder is gone"


def test_a_blocking_write_waits_for_room_instead_of_dropping(tmp_path: Path) -> None:
    writer = TapeWriter(tmp_path, queue_size=10, row_group_rows=100)
    assert all(writer.write(exchange(), block=True) for _ in range(5_000))
    assert writer.close(timeout=30)
    assert (writer.stats.written, writer.stats.dropped) == (5_000, 0)


def test_a_full_disk_is_counted_never_raised_and_earlier_parts_still_read(tmp_path: Path) -> None:
    from tests.full_disk import tiny_disk

    with tiny_disk(tmp_path / "disk", size="512k") as disk:
        writer = TapeWriter(disk / "tapes", row_group_rows=2, max_rows=4)
        for _ in range(4):  # incompressible bodies: about 64 KB a part
            assert writer.write(exchange(body=os.urandom(16_000)), block=True)
        assert writer.flush(timeout=10)
        kept = TapeReader(disk / "tapes").count()
        assert kept == 4
        for _ in range(60):  # about 1 MB more: the disk fills up
            writer.write(exchange(body=os.urandom(16_000)), block=True)
        assert writer.close(timeout=30)
        stats = writer.stats
        assert stats.failed > 0, "a full disk must be counted"
        assert stats.written + stats.failed == 64
        # Every part left on the full disk still reads, and nothing written before is lost.
        assert TapeReader(disk / "tapes").count() == stats.written >= kept
        assert list((disk / "tapes").rglob("*.tmp")) == [], "failed parts are cleaned up"


def test_an_exchange_arrow_cannot_hold_costs_only_itself(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """One exchange from a library caller with a value no column holds (a path with a
    lone surrogate, a status past any integer) used to lose its whole part."""
    with caplog.at_level(logging.WARNING, logger="shadowtape.tape"):
        writer = TapeWriter(tmp_path / "tapes", row_group_rows=4)
        good = [exchange(path=f"/ok/{i}") for i in range(6)]
        bad = [exchange(path="/caf\udcff"), exchange(status=10**12)]
        for item in [*good[:3], bad[0], *good[3:], bad[1]]:
            assert writer.write(item, block=True)
        assert writer.close(timeout=10)
    assert writer.stats.written == 6 and writer.stats.failed == 2
    paths = [
        row["path"]
        for batch in TapeReader(tmp_path / "tapes").batches()
        for row in batch.to_pylist()
    ]
    assert sorted(paths) == sorted(e.request.path for e in good)
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "shadowtape.tape"]
    assert "cannot store an exchange in tape part" in warning


PLANTED = "planted-Zq9xW4"


def test_no_footer_repeats_a_request_or_response_value(tmp_path: Path) -> None:
    """Min/max statistics would copy values into the footer, which is never compressed:
    only columns that cannot hold a request or response value keep them."""
    headers = (("X-Planted", PLANTED),)
    planted = exchange().replace(
        request=Request(
            method=f"M{PLANTED}",
            host=f"{PLANTED}.test",
            path=f"/{PLANTED}",
            query=f"q={PLANTED}",
            headers=headers,
            body=PLANTED.encode(),
        ),
        response=Response(status=200, reason=PLANTED, headers=headers, body=PLANTED.encode()),
        error=ExchangeError(kind="reset", message=PLANTED),
        redactions=(PLANTED,),
        tags={PLANTED: PLANTED},
    )
    with TapeWriter(tmp_path) as writer:
        writer.write(planted)
        writer.write(exchange())
    (part,) = parts(tmp_path)
    assert PLANTED.encode() not in footer(part)
    safe = set(STATISTICS_COLUMNS)
    for path, top, stats_set in column_chunks(part):
        assert top in SCHEMA.names
        if top in safe:
            assert stats_set, path
        else:
            assert not stats_set, path
