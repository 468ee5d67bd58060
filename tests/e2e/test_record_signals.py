"""Stopping the recorder: SIGTERM under load loses nothing already answered; SIGKILL loses
at most the last roll window, and every part left on disk still reads."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.record_support import Proxy, proxy, read_tapes
from tests.servers import Reply, serve

pytestmark = pytest.mark.e2e


def _ok(_: object) -> Reply:
    return Reply(200, [("Content-Type", "text/plain")], b"ok")


class Load:
    """Clients sending requests until the proxy goes away; each answer's time is kept."""

    def __init__(self, p: Proxy, clients: int = 4) -> None:
        self.answered: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._client, args=(p.url, n), daemon=True)
            for n in range(clients)
        ]
        for thread in self._threads:
            thread.start()

    def _client(self, url: str, n: int) -> None:
        with httpx.Client(base_url=url, timeout=5) as client:
            i = 0
            while not self._stop.is_set():
                path = f"/load/{n}/{i}"
                i += 1
                try:
                    response = client.get(path)
                    response.read()
                except httpx.HTTPError:
                    time.sleep(0.01)
                    continue
                done = time.monotonic()
                if response.status_code == 200:
                    with self._lock:
                        self.answered[path] = done

    def stop(self) -> dict[str, float]:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)
        return self.answered


def test_sigterm_under_load_loses_no_answered_exchange(tmp_path: Path) -> None:
    tapes = tmp_path / "tapes"
    # Parts never roll on their own here: everything rests on the flush at shutdown.
    with (
        serve(_ok) as upstream,
        proxy(upstream.url, tapes, options={"shadowtape_roll_age": 600}) as p,
    ):
        load = Load(p)
        # Until the load has got going (slow to start on a busy host), then a little more.
        deadline = time.monotonic() + 30
        while len(load.answered) <= 20 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        signalled = time.monotonic()
        p.proc.send_signal(signal.SIGTERM)
        assert p.proc.wait(40) == 0
        answered = load.stop()
    before = {path for path, at in answered.items() if at < signalled}
    assert len(before) > 20, "the load did not get going"
    recorded = {ex.request.path for ex in read_tapes(tapes)}
    missing = before - recorded
    assert not missing, f"{len(missing)} answered exchanges were lost, e.g. {sorted(missing)[:3]}"
    assert not list(tapes.rglob(".*.tmp")), "a part was left open"


# The roll window is seconds of wall time: a worker starved of CPU by a busy host falls
# behind it (seen: 520 exchanges older than the window lost while two workers ran).
@pytest.mark.timing
def test_sigkill_loses_at_most_the_last_roll_window_and_parts_still_read(tmp_path: Path) -> None:
    tapes = tmp_path / "tapes"
    roll = 1.0
    with (
        serve(_ok) as upstream,
        proxy(upstream.url, tapes, options={"shadowtape_roll_age": 1}) as p,
    ):
        load = Load(p)
        # Until a part has rolled (the worker may take a while to start on a busy machine),
        # then some more load, so there are closed parts and an open one at the kill.
        assert p.wait_stats("parts", 1, timeout=30).get("parts", 0) >= 1
        time.sleep(2.0)
        killed = time.monotonic()
        os.killpg(p.proc.pid, signal.SIGKILL)  # the proxy and its worker, with no warning
        p.proc.wait(10)
        answered = load.stop()
    recorded = {ex.request.path for ex in read_tapes(tapes)}  # raises if a part is damaged
    assert recorded, "no part was closed before the kill"
    # A row is safe once its part has rolled: parts roll every `roll` seconds, checked by
    # the writer about every 0.2 s, after a hand-off of up to 0.05 s; allow some slack.
    window = 2 * roll + 1.0
    old = {path for path, at in answered.items() if at < killed - window}
    missing = old - recorded
    assert not missing, f"{len(missing)} exchanges older than the roll window were lost"
