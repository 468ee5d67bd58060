from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from shadowtape.results.priority import NICER, lower_this_thread
from shadowtape.results.writer import ResultsWriter

IDLE = getattr(os, "SCHED_IDLE", None)


def _policy(tid: int) -> int:
    return os.sched_getscheduler(tid)


def _lowered(tid: int, main_nice: int) -> bool:
    if IDLE is not None and hasattr(os, "sched_getscheduler"):
        return _policy(tid) == IDLE
    return os.getpriority(os.PRIO_PROCESS, tid) == min(main_nice + NICER, 19)


def test_a_thread_lowers_its_own_priority_and_no_one_elses() -> None:
    me = threading.get_native_id()
    main_nice = os.getpriority(os.PRIO_PROCESS, me)
    seen: list[bool] = []

    def work() -> None:
        lower_this_thread()
        seen.append(_lowered(threading.get_native_id(), main_nice))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == [True]
    # The loop's thread keeps its own.
    assert os.getpriority(os.PRIO_PROCESS, me) == main_nice
    if IDLE is not None:
        assert _policy(me) == os.SCHED_OTHER


@pytest.mark.skipif(IDLE is None, reason="SCHED_IDLE is Linux's")
def test_the_results_writer_runs_only_on_idle_cycles(tmp_path: Path) -> None:
    writer = ResultsWriter(tmp_path)
    try:
        tid = writer._thread.native_id
        assert tid is not None
        for _ in range(100):  # the thread lowers itself as it starts
            if _policy(tid) == IDLE:
                break
            threading.Event().wait(0.01)
        assert _policy(tid) == IDLE
        assert _policy(threading.get_native_id()) == os.SCHED_OTHER
    finally:
        writer.close()
