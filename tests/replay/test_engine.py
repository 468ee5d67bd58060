"""The run's ending: what happens to requests already sent when it stops or fails, and
what the progress view says about it."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path

import pyarrow as pa
import pytest

from shadowtape.errors import TapeFormatError
from shadowtape.replay import read_results, read_run, replay
from shadowtape.replay.engine import STOP_GRACE, Run
from shadowtape.replay.prepare.jobs import Plan
from shadowtape.replay.prepare.stream import selected
from shadowtape.replay.progress import PlainProgress
from shadowtape.replay.rules.options import Pace, ReplayOptions
from shadowtape.tape import TapeFilter
from tests.replay.aserver import Arrival, aserve
from tests.replay.helpers import ex, write_tape
from tests.servers import Reply


def _rows(run_dir: Path) -> list[dict[str, object]]:
    return pa.Table.from_batches(list(read_results(run_dir))).to_pylist()


def test_a_part_damaged_mid_run_ends_it_and_every_request_sent_keeps_its_row(
    tmp_path: Path,
) -> None:
    async def slow(_: Arrival) -> Reply:
        await asyncio.sleep(0.05)  # requests are in flight when the damage is met
        return Reply(200, body=b"{}")

    early = [ex(f"/i/{i}", at=i * 0.001) for i in range(1500)]
    late = [ex(f"/j/{i}", at=3600 + i) for i in range(10)]  # another hour: another part
    tape = write_tape(tmp_path / "tape", early + late)
    damaged = sorted(tape.rglob("part-*.parquet"))[-1]
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
    with aserve(slow) as server:
        with pytest.raises(TapeFormatError, match="part-"):
            replay(
                tape,
                candidate=server.url,
                out=tmp_path / "run",
                pace="asap",
                concurrency=64,
                repeat_sample=0,
                handle_signals=False,
            )
        sent = len(server.arrivals)
    info = read_run(tmp_path / "run")
    rows = _rows(tmp_path / "run")
    # Every exchange read before the damaged part was sent, and has its row and answer.
    assert info["counts"]["selected"] == len(rows) == sent == len(early)
    assert info["error"] and "part-" in info["error"] and info["finished_at"]
    answered = [r for r in rows if r["candidate_status"] == 200]
    assert len(answered) == sent


def test_a_stop_while_the_last_replies_come_in_waits_only_the_grace(tmp_path: Path) -> None:
    async def hang(_: Arrival) -> Reply:
        await asyncio.sleep(5)
        return Reply(200, body=b"{}")

    tape = write_tape(tmp_path / "tape", [ex(f"/h/{i}", at=i * 0.001) for i in range(3)])
    with aserve(hang) as server:
        options = ReplayOptions(
            candidate=server.url, pace=Pace.ASAP, concurrency=4, timeout=20, repeat_sample=0
        )
        jobs = selected([str(tape)], TapeFilter(), plan=Plan.of(options))
        run = Run(jobs, options, tmp_path / "run", tapes=[str(tape)])

        async def stop_once_all_arrived() -> float:
            for _ in range(1000):  # at most 10 s; all 3 arrive at once on any host
                if len(server.arrivals) == 3:
                    break
                await asyncio.sleep(0.01)
            run.stop()
            return time.monotonic()

        async def main() -> float:
            stopping = asyncio.ensure_future(stop_once_all_arrived())
            await run.run(handle_signals=False)
            return time.monotonic() - await stopping

        took = asyncio.run(main())
    assert took < STOP_GRACE + 1.4  # not until the replies (5 s) or the timeout (20 s)
    info = read_run(tmp_path / "run")
    assert info["interrupted"] is True and info["skipped"] == {"interrupted": 3}
    assert len(_rows(tmp_path / "run")) == 3


@pytest.mark.parametrize(
    ("pace", "pacing"),
    [(Pace.ASAP, {}), (Pace.RECORDED, {"speed": 2.0}), (None, {"rate": 500.0})],
)
def test_the_progress_lines_agree_with_run_json(
    tmp_path: Path, pace: Pace | None, pacing: dict[str, float]
) -> None:
    """Errors are exchanges some target sent no response to, in both places; lag is shown
    only for a schedule, and the last line gives the run's p99 and maximum, as run.json
    (whose schedule is null without one)."""

    async def flaky(arrival: Arrival) -> Reply | None:
        n = int(arrival.path.rsplit("/", 1)[1])
        if n % 10 == 0:
            return None  # reset: no response, an error
        if n % 10 == 1:
            return Reply(503, body=b"down")  # a response (the report judges it)
        return Reply(200, body=b"{}")

    tape = write_tape(tmp_path / "tape", [ex(f"/i/{i}", at=i * 0.002) for i in range(100)])
    out = io.StringIO()
    with aserve(flaky) as server:
        options = ReplayOptions(
            candidate=server.url, pace=pace, concurrency=4, repeat_sample=0, **pacing
        )
        run = Run(
            selected([str(tape)], TapeFilter(), plan=Plan.of(options)),
            options,
            tmp_path / "run",
            tapes=[str(tape)],
            progress=PlainProgress(out, interval=0.05),
        )
        asyncio.run(run.run(handle_signals=False))
    lines = out.getvalue().splitlines()
    info = read_run(tmp_path / "run")
    assert lines[-1].startswith("shadowtape replay: 100 replayed (")
    if pace is Pace.ASAP:
        assert not any("lag" in line for line in lines)  # no schedule, nothing late
        assert info["schedule"] is None  # not a schedule of zeros
    else:
        schedule = info["schedule"]
        assert set(schedule) == {
            "max_lag_ms",
            "p99_lag_ms",
            "fell_behind",
            "order_waits",
            "p99_order_wait_ms",
            "max_order_wait_ms",
        }
        assert lines[-1].endswith(
            f"lag p99 {schedule['p99_lag_ms']:.1f} ms, max {schedule['max_lag_ms']:.1f} ms"
        )
    failed = [r for r in _rows(tmp_path / "run") if r["candidate_error_kind"] is not None]
    assert ", 10 errors, 0 skipped" in lines[-1]
    assert info["counts"]["errors"] == len(failed) == 10
