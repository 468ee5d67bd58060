from __future__ import annotations

import os
import threading
from pathlib import Path

from shadowtape.replay.priority import NICER, lower_this_thread
from shadowtape.replay.results import ResultsWriter


def _nice(tid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, tid)


def test_a_thread_lowers_its_own_priority_and_no_one_elses() -> None:
    main = _nice(threading.get_native_id())
    seen: list[int] = []

    def work() -> None:
        lower_this_thread()
        seen.append(_nice(threading.get_native_id()))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == [min(main + NICER, 19)]
    assert _nice(threading.get_native_id()) == main  # the loop's thread keeps its own


def test_the_results_writer_runs_nicer_than_the_loop(tmp_path: Path) -> None:
    writer = ResultsWriter(tmp_path)
    try:
        tid = writer._thread.native_id
        assert tid is not None
        for _ in range(100):  # the thread lowers itself as it starts
            if _nice(tid) != _nice(threading.get_native_id()):
                break
            threading.Event().wait(0.01)
        assert _nice(tid) == min(_nice(threading.get_native_id()) + NICER, 19)
    finally:
        writer.close()
