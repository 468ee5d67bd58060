"""A small JSON service on loopback for the probe tests, racy or clean on cue.

``/api/users/{id}`` keeps the user being served in a variable shared by every request,
across an await, when ``racy``: two requests at once answer each other's user.
``/api/random/{id}`` is legitimately random (a fresh token, the time, a counter) in every
build. ``/api/orders`` (POST) creates an order. ``/api/only/{id}`` is one request in the
tape (too few samples). The server counts what it received (``arrivals``).
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import orjson

from tests.replay.aserver import Arrival, AsyncServer, Handler, aserve
from tests.servers import Reply

JSON = [("Content-Type", "application/json")]


def handler(*, racy: bool) -> Handler:
    shared = {"user": ""}
    counter = itertools.count()

    async def handle(arrival: Arrival) -> Reply:
        path = arrival.path.split("?", 1)[0]
        parts = path.strip("/").split("/")
        if parts[:2] == ["api", "users"]:
            if racy:
                shared["user"] = parts[2]
                await asyncio.sleep(0.01)
                user = shared["user"]
            else:
                user = parts[2]
                await asyncio.sleep(0.01)
            return Reply(200, JSON, orjson.dumps({"id": user, "name": f"user-{user}"}))
        if parts[:2] == ["api", "random"]:
            body = {
                "id": parts[2],
                "token": str(uuid.uuid4()),
                "at": time.time(),
                "served": next(counter),
            }
            return Reply(200, JSON, orjson.dumps(body))
        if parts[:2] == ["api", "orders"]:
            return Reply(201, JSON, orjson.dumps({"order": str(uuid.uuid4())}))
        if parts[:2] == ["api", "only"]:
            return Reply(200, JSON, b'{"only":true}')
        return Reply(404, JSON, b'{"error":"not found"}')

    return handle


@contextmanager
def service(*, racy: bool) -> Iterator[AsyncServer]:
    with aserve(handler(racy=racy)) as server:
        yield server
