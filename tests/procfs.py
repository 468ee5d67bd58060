"""Which processes a test started, and how much memory they hold, from /proc: for checks
that nothing is left running and that a process stays small."""

from __future__ import annotations

import threading
from pathlib import Path


def children(pid: int) -> list[int]:
    """Direct children of `pid` (every thread's children file, so none is missed)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return sorted(set(found))


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def rss_mb(pid: int) -> float:
    """A process's resident memory (VmRSS) in MiB; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class PeakRss:
    """Samples resident memory every `interval` seconds while its ``with`` block runs;
    ``mb`` is the peak. With `descendants`, the process and all its descendants together."""

    def __init__(self, pid: int, *, interval: float = 0.05, descendants: bool = False) -> None:
        self.pid = pid
        self.mb = 0.0
        self._interval = interval
        self._descendants = descendants
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample)

    def now(self) -> float:
        pids = {self.pid, *descendants(self.pid)} if self._descendants else {self.pid}
        return sum(rss_mb(p) for p in pids)

    def _sample(self) -> None:
        while not self._done.wait(self._interval):
            self.mb = max(self.mb, self.now())

    def __enter__(self) -> PeakRss:
        self._sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._sampler.join()
