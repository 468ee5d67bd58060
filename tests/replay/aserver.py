"""An asyncio HTTP/1.1 server on 127.0.0.1 in its own thread, for tests that need timing.

tests/servers.py answers from a thread per connection, which is fine for what reached the
server but adds scheduling noise; this one notes each request's arrival on the monotonic
clock and can freeze, delay or reset on cue.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.servers import Reply


@dataclass
class Arrival:
    at: float
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes


Handler = Callable[[Arrival], Awaitable[Reply | None]]


async def ok(_: Arrival) -> Reply:
    return Reply(200, [("Content-Type", "application/json")], b'{"ok":true}')


class AsyncServer:
    """``handler`` returns a Reply, or None to reset the connection without answering."""

    def __init__(self, handler: Handler = ok) -> None:
        self.handler = handler
        self.arrivals: list[Arrival] = []
        #: TCP connections accepted.
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._conn, "127.0.0.1", 0, backlog=512)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._server.close()
        # Handlers still holding a reply back (a target that hangs) are cancelled, so
        # stopping does not wait for them: each one closes its connection as it ends.
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.run_until_complete(self._server.wait_closed())
        self._loop.close()

    async def _conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                at = time.monotonic()
                method, path, _ = line.decode("latin-1").split(" ", 2)
                headers = []
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = h.decode("latin-1").partition(":")
                    headers.append((name.strip(), value.strip()))
                length = int(next((v for n, v in headers if n.lower() == "content-length"), 0))
                body = await reader.readexactly(length) if length else b""
                arrival = Arrival(at, method, path, headers, body)
                self.arrivals.append(arrival)
                reply = await self.handler(arrival)
                if reply is None:
                    sock = writer.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    writer.transport.abort()
                    return
                if reply.delay:
                    await asyncio.sleep(reply.delay)
                head = [f"HTTP/1.1 {reply.status} X"]
                head += [f"{n}: {v}" for n, v in reply.headers]
                head.append(f"Content-Length: {len(reply.body)}")
                body = b"" if method == "HEAD" else reply.body
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            return
        finally:
            writer.close()

    def start(self) -> AsyncServer:
        self._thread.start()
        self._ready.wait(5)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


@contextmanager
def aserve(handler: Handler = ok) -> Iterator[AsyncServer]:
    server = AsyncServer(handler).start()
    try:
        yield server
    finally:
        server.stop()
