"""A 1,024-row batch made ready to send: batchwire.py's skip column and one target's wire
column (aim: well under 3 ms), against jobs_from_batch and the Preparer doing it in Python.

Rows are GETs with 7 headers and a few POSTs with bodies of 0-2 KB, as a tape holds them.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

import pyarrow as pa

from shadowtape import Exchange, Request
from shadowtape.replay.batchwire import skip_column, wire_column
from shadowtape.replay.jobs import Preparer, jobs_from_batch
from shadowtape.replay.targets import Target
from shadowtape.tape import to_batch

ROWS = 1024
TARGET = Target("http", "127.0.0.1", 8080)
EXTRA = (("Authorization", "Bearer replay"),)


def _batch() -> pa.RecordBatch:
    rng = random.Random(7)
    exchanges = []
    for i in range(ROWS):
        post = rng.random() < 0.1
        body = bytes(rng.randrange(2048)) if post else b""
        headers = (
            ("Host", "api.prod.test"),
            ("User-Agent", "client/1.2"),
            ("Accept", "application/json"),
            ("Accept-Encoding", "gzip, br"),
            ("Connection", "keep-alive"),
            ("Authorization", f"Bearer t{i % 50}"),
            ("X-Request-Id", f"{i:016x}"),
        )
        request = Request(
            method="POST" if post else "GET",
            host="api.prod.test",
            path=f"/api/items/{i}",
            query="page=2" if i % 3 else "",
            headers=headers,
            body=body,
            body_size=len(body),
        )
        exchanges.append(Exchange(request=request))
    return to_batch(exchanges)


def _time(work: Callable[[], object], rounds: int = 50) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    batch = _batch()
    prepare = Preparer(
        {"candidate": TARGET}, allow_mutating=True, keep_host=False, extra=EXTRA,
        repeat_sample=0.0,
    )  # fmt: skip

    def arrow(keep_host: bool = False) -> None:
        skip = skip_column(batch, allow_mutating=True)
        wire_column(batch, TARGET, keep_host=keep_host, extra=EXTRA, send=skip.is_null())

    def python() -> None:
        for job in jobs_from_batch(batch):
            prepare(job)

    arrow()
    print(f"skip_column + wire_column, {ROWS} rows: {_time(arrow) * 1e3:.2f} ms (median)")
    kept = _time(lambda: arrow(keep_host=True)) * 1e3
    print(f"the same with keep_host: {kept:.2f} ms (median)")
    print(f"jobs_from_batch + Preparer, {ROWS} rows: {_time(python, 10) * 1e3:.2f} ms (median)")


if __name__ == "__main__":
    main()
