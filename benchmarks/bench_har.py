"""HAR import: time per MB and peak memory of `shadowtape import har` on a large HAR
(``BENCH_HAR_MB``, default 300), each in a fresh process, beside the reference in the same
run: the whole-file parse the import used to do (``orjson.loads`` of the file's bytes),
and the streamed parse alone (both passes of har_stream, no sanitizing or writing).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.importers.bighar import MiB, write_har_file
from tests.procfs import PeakRss

SIZE_MB = int(os.environ.get("BENCH_HAR_MB", "300"))

_WHOLE = "import orjson, sys; orjson.loads(open(sys.argv[1], 'rb').read())"
_STREAM = (
    "import sys; from shadowtape.importers.har_stream import entries, outline; "
    "p = sys.argv[1]; sum(1 for _ in entries(p, outline(p)))"
)


def _measure(argv: list[str]) -> tuple[float, float]:
    """(seconds, peak resident MiB) of one process."""
    env = {**os.environ, "SHADOWTAPE_SANITIZE_KEY": "bench-har"}
    started = time.perf_counter()
    pipes = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
    with subprocess.Popen(argv, env=env, **pipes) as proc, PeakRss(proc.pid, interval=0.02) as rss:
        _, err = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"{argv[:4]} failed: {err.decode()[-500:]}")
    return time.perf_counter() - started, rss.mb


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-har-") as folder:
        path = Path(folder) / "session.har"
        entries = len(write_har_file(path, SIZE_MB * MiB))
        size = path.stat().st_size / MiB
        print(f"HAR: {size:.0f} MiB, {entries:,} entries (3 in 4 images in base64, 1 JSON)")
        rows = [
            ("orjson.loads, whole file (reference)", [sys.executable, "-c", _WHOLE, str(path)]),
            ("streamed parse alone (2 passes)", [sys.executable, "-c", _STREAM, str(path)]),
            (
                "shadowtape import har",
                [
                    *(sys.executable, "-m", "shadowtape", "import", "har", str(path)),
                    *("--tapes", str(Path(folder) / "tapes")),
                ],
            ),
        ]
        for name, argv in rows:
            seconds, peak = _measure(argv)
            print(
                f"  {name:<38} {seconds * 1000 / size:6.1f} ms/MiB  {seconds:6.1f} s  "
                f"peak RSS {peak:6.0f} MiB",
                flush=True,
            )


if __name__ == "__main__":
    main()
