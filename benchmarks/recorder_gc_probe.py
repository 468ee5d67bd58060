"""A mitmdump script for bench_recorder: how long the garbage collector runs per flow.

Loaded into every measured mitmdump (with and without the recorder), so both sides carry
the same probe. Writes {"flows", "gc_s", "gen2"} to $BENCH_GC_PROBE every second.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from typing import Any


class GcProbe:
    def __init__(self) -> None:
        self.flows = 0
        self.gc_s = 0.0
        self.gen2 = 0
        self._started = 0.0
        gc.callbacks.append(self._on_gc)
        threading.Thread(target=self._dump, daemon=True).start()

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.gc_s += time.perf_counter() - self._started
            self.gen2 += info.get("generation") == 2

    def response(self, flow: Any) -> None:
        self.flows += 1

    def _dump(self) -> None:
        path = os.environ.get("BENCH_GC_PROBE")
        while path:
            time.sleep(1)
            with open(path + ".tmp", "w") as handle:
                json.dump({"flows": self.flows, "gc_s": self.gc_s, "gen2": self.gen2}, handle)
            os.replace(path + ".tmp", path)


addons = [GcProbe()]
