"""The shop's traffic, recorded from a real server: ``serve(app)`` runs a WSGI app under
wsgiref on 127.0.0.1 (which adds Date and Server, as any server does), and ``record``
sends TRAFFIC to it and writes what came back as a tape."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx

from shadowtape import Exchange, Request, Response, TapeWriter

#: (method, path, body) of each recorded request.
TRAFFIC = [
    *(("GET", f"/api/products/{n}", b"") for n in (1, 2, 3, 4, 5, 6, 2, 3)),
    ("GET", "/api/health", b""),
    ("GET", "/api/health", b""),
    ("POST", "/api/orders", b"[1, 2]"),
]
T0 = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(app: Callable[..., Any]) -> Iterator[str]:
    """``app`` on a loopback port; its base URL."""
    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    # A short poll: serve_forever sees shutdown() only every poll_interval (0.5 s by default).
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def record(folder: Path, base_url: str) -> Path:
    """Send TRAFFIC to ``base_url`` and write what came back as a tape in ``folder``."""
    with httpx.Client(base_url=base_url, trust_env=False) as client, TapeWriter(folder) as tape:
        for i, (method, path, body) in enumerate(TRAFFIC):
            headers = [("Accept", "application/json")]
            if body:
                headers.append(("Content-Type", "application/json"))
            answer = client.request(method, path, content=body, headers=headers)
            assert answer.headers["server"]  # the server's own header, recorded
            exchange = Exchange(
                request=Request(
                    method=method,
                    host="shop.test",
                    path=path,
                    headers=tuple(headers),
                    body=body,
                    body_size=len(body),
                ),
                response=Response(
                    status=answer.status_code,
                    reason=answer.reason_phrase,
                    headers=_dated(answer.headers.multi_items(), T0 + timedelta(seconds=i)),
                    body=answer.content,
                    body_size=len(answer.content),
                ),
                recorded_at=T0 + timedelta(seconds=i),
                source="edge",
                duration_us=1000,
            )
            assert tape.write(exchange)
    return folder


def _dated(headers: list[tuple[str, str]], when: datetime) -> tuple[tuple[str, str], ...]:
    """The server's headers with its Date set to when the exchange was recorded: a tape is
    from the past, so a replay's Date always differs (recorded now, it could fall in the
    same second as the replay and compare equal)."""
    date = format_datetime(when, usegmt=True)
    return tuple((n, date if n.lower() == "date" else v) for n, v in headers)
