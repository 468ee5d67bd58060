"""Tape throughput and memory (issue 2 targets).

- writer: exchanges/s with 2 KB JSON bodies through TapeWriter (target >= 100,000/s on one
  core), against pyarrow alone writing the same rows as 5,000-row zstd batches;
- streaming read without bodies: rows/s (target >= 500,000/s), against pyarrow's own
  iter_batches over the same columns;
- peak memory of a streaming read (with bodies) over a 1,000,000-exchange tape, in a fresh
  process (target < 500 MB), against the same process's memory after importing pyarrow.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from shadowtape import Exchange, Request, Response, TapeReader, TapeWriter
from shadowtape.tape import to_batch

N_WRITE = 200_000
N_BIG = 1_000_000


def _bodies(count: int) -> list[bytes]:
    rng = random.Random(7)
    out = []
    for _ in range(count):
        items = []
        while True:
            items.append(
                {
                    "id": rng.randrange(10**6),
                    "name": f"user-{rng.randrange(10**4)}",
                    "score": rng.random(),
                    "active": rng.random() < 0.5,
                }
            )
            body = json.dumps({"items": items}).encode()
            if len(body) >= 2000:
                out.append(body)
                break
    return out


def _exchanges(n: int) -> list[Exchange]:
    bodies = _bodies(500)
    headers = (("Content-Type", "application/json"), ("Server", "nginx"), ("X-Request-Id", "r"))
    return [
        Exchange(
            request=Request(
                method="GET",
                host="api.test",
                path=f"/api/users/{i % 1000}",
                headers=(("Accept", "*/*"), ("User-Agent", "bench")),
            ),
            response=Response(status=200, headers=headers, body=bodies[i % 500], body_size=2048),
            source="bench",
            duration_us=1234,
        )
        for i in range(n)
    ]


def bench_write(folder: Path) -> None:
    exchanges = _exchanges(N_WRITE)
    ref_dir = folder / "ref"
    ref_dir.mkdir()
    batches = [to_batch(exchanges[i : i + 5_000]) for i in range(0, N_WRITE, 5_000)]
    start = time.perf_counter()
    with pq.ParquetWriter(ref_dir / "ref.parquet", batches[0].schema, compression="zstd") as w:
        for batch in batches:
            w.write_batch(batch)
    ref = N_WRITE / (time.perf_counter() - start)

    start = time.perf_counter()
    writer = TapeWriter(folder / "tape", queue_size=N_WRITE + 1)
    for ex in exchanges:
        writer.write(ex)
    writer.close()
    ours = N_WRITE / (time.perf_counter() - start)
    assert writer.stats.written == N_WRITE, writer.stats
    print(f"write: {ours:,.0f} exchanges/s through TapeWriter (target >= 100,000)")
    print(f"       pyarrow alone, prebuilt 5,000-row zstd batches: {ref:,.0f} rows/s")
    print(f"       ratio {ours / ref:.2f} of pyarrow alone")


def bench_read(folder: Path) -> None:
    tape = folder / "tape"
    columns = [c for c in to_batch(_exchanges(1)).schema.names if not c.endswith("_body")]
    files = sorted(tape.rglob("*.parquet"))
    start = time.perf_counter()
    rows = 0
    for file in files:
        for batch in pq.ParquetFile(file).iter_batches(columns=columns, batch_size=4096):
            rows += batch.num_rows
    ref = rows / (time.perf_counter() - start)
    start = time.perf_counter()
    ours_rows = sum(b.num_rows for b in TapeReader(tape).batches(bodies=False))
    ours = ours_rows / (time.perf_counter() - start)
    print(f"read:  {ours:,.0f} rows/s streaming without bodies (target >= 500,000)")
    print(f"       pyarrow iter_batches alone: {ref:,.0f} rows/s; ratio {ours / ref:.2f}")


_READ_CHILD = """
import sys
import pyarrow, pyarrow.dataset
from shadowtape import TapeReader


def peak_kb():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork/exec.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])


base = peak_kb()
rows = body = 0
for batch in TapeReader(sys.argv[1]).batches(bodies=True):
    rows += batch.num_rows
    body += batch.column("response_body").nbytes
print(rows, body, base, peak_kb())
"""


def bench_memory(folder: Path) -> None:
    tape = folder / "big"
    exchanges = _exchanges(5_000)
    start = time.perf_counter()
    writer = TapeWriter(tape, queue_size=N_BIG + 1, max_rows=250_000)
    for i in range(N_BIG):
        writer.write(exchanges[i % 5_000].replace(id=f"{i:026d}"))
    writer.close()
    size = sum(f.stat().st_size for f in tape.rglob("*.parquet"))
    print(
        f"memory: wrote {N_BIG:,} exchanges ({size / 2**20:,.0f} MB on disk) in "
        f"{time.perf_counter() - start:.1f} s"
    )
    out = subprocess.run(
        [sys.executable, "-c", _READ_CHILD, str(tape)], capture_output=True, text=True, check=True
    )
    rows, body, base, peak = (int(x) for x in out.stdout.split())
    print(
        f"        streaming read of {rows:,} exchanges with {body / 2**30:.1f} GB of bodies: "
        f"peak RSS {peak / 1024:,.0f} MB (target < 500 MB)"
    )
    print(
        f"        reference: the same process after importing pyarrow: {base / 1024:,.0f} MB; "
        f"the read added {(peak - base) / 1024:,.0f} MB"
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="shadowtape-bench-") as tmp:
        folder = Path(tmp)
        bench_write(folder)
        bench_read(folder)
        if os.environ.get("SHADOWTAPE_BENCH_QUICK") != "1":
            bench_memory(folder)
