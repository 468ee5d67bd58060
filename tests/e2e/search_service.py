"""A search service in its own process, for latency tests: 2-4 ms of jitter per answer,
and with ``slow`` 25 ms more when ``limit=500``. Run as
``python -m tests.e2e.search_service PORT clean|slow``; it listens on 127.0.0.1 only.

A process of its own keeps the test's client threads from adding their GIL waits to the
service's answers."""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from subprocess import Popen
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.servers import Received, Reply, free_port, serve


def main(port: int, slow: bool) -> None:
    rng = random.Random()

    def search(request: Received) -> Reply:
        limit = parse_qs(urlsplit(request.path).query).get("limit", ["10"])[0]
        delay = 0.002 + rng.uniform(0, 0.002) + (0.025 if slow and limit == "500" else 0)
        return Reply(200, [("Content-Type", "application/json")], b'{"hits": []}', delay)

    with serve(search, port=port):
        threading.Event().wait()  # until the test terminates this process


@contextmanager
def search_service(*, slow: bool) -> Iterator[str]:
    """Start the service on a free port; its URL; stopped whatever happens."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    mode = "slow" if slow else "clean"
    process = Popen([sys.executable, "-m", "tests.e2e.search_service", str(port), mode])
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(url + "/api/search", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(5)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2] == "slow")
