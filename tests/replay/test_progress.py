from __future__ import annotations

import io

from rich.console import Console

from shadowtape.replay.progress import PlainProgress, RichProgress, Snapshot


def _line(snap: Snapshot, final: bool = False) -> str:
    out = io.StringIO()
    view = PlainProgress(out, interval=1)
    (view.close if final else view.update)(snap)
    return out.getvalue().strip()


def test_a_scheduled_run_shows_the_latest_lag_then_the_runs_p99_and_maximum() -> None:
    going = Snapshot(done=10, selected=12, skipped=2, errors=1, lag_ms=3.25)
    assert _line(going).endswith("1 errors, 2 skipped, lag 3.2 ms")
    done = Snapshot(
        done=10, selected=12, skipped=2, errors=1, lag_ms=0.1, lag_p99_ms=4.08, lag_max_ms=6.022
    )
    assert _line(done, final=True).endswith("1 errors, 2 skipped, lag p99 4.1 ms, max 6.0 ms")


def test_without_a_schedule_no_lag_is_shown() -> None:
    """--pace asap: a request is due when a slot frees up, so nothing can be late."""
    snap = Snapshot(done=10, selected=10, skipped=0, errors=0, lag_ms=None)
    line = _line(snap, final=True)
    assert line.endswith(" 0 errors, 0 skipped") and "lag" not in line
    out = io.StringIO()
    bar = RichProgress(Console(file=out, force_terminal=True, width=120))
    bar.close(snap)
    assert "0 errors" in out.getvalue() and "lag" not in out.getvalue()


def test_the_last_line_gives_the_whole_runs_rate() -> None:
    """The last interval is only what was left of one: its rate would read low."""
    now = [100.0]
    out = io.StringIO()
    view = PlainProgress(out, interval=10, clock=lambda: now[0])
    now[0] = 110.0
    view.update(Snapshot(done=5_000, selected=5_000, skipped=0, errors=0, lag_ms=None))
    now[0] = 110.5  # 100 more in the last half second of a 10.5 s run
    view.close(Snapshot(done=5_100, selected=5_100, skipped=0, errors=0, lag_ms=None))
    going, last = out.getvalue().splitlines()
    assert "(500 req/s)" in going
    assert "5100 replayed (486 req/s on average)" in last
