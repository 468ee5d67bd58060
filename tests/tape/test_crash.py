"""A writer process killed with SIGKILL: every part it left reads, little is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from shadowtape import TapeReader

CHILD = textwrap.dedent(
    """
    import sys
    from shadowtape import TapeWriter
    from tests.tape.helpers import exchange

    writer = TapeWriter(sys.argv[1], max_age=0.3, row_group_rows=100)
    total = 0
    while True:
        for _ in range(500):
            writer.write(exchange(body=b"x" * 2048))
        total += 500
        if total % 2_000 == 0:
            writer.flush()
            print(total, flush=True)
    """
)


def test_sigkill_mid_run_leaves_every_part_readable_and_loses_only_the_open_window(
    tmp_path: Path,
) -> None:
    root = tmp_path / "tapes"
    repo = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    try:
        assert child.stdout is not None
        flushed = 0
        for _ in range(5):
            flushed = int(child.stdout.readline())
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        if child.stdout:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    readable = TapeReader(root).count()  # reads every part's footer and counts its rows
    assert readable >= flushed, "everything flushed before the kill is on disk"
    assert readable == sum(batch.num_rows for batch in TapeReader(root).batches(columns=["id"]))
    # At most what came after the last flush is lost: the next flush is 2,000 away.
    assert readable < flushed + 2_000 + 1
