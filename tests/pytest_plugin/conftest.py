"""A tape recorded from the shop's WSGI app behind a real server (wsgiref, which adds
Date and Server as any server does), and that server for --shadowtape-candidate."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pytest

from shadowtape import Exchange, Request, Response, TapeWriter
from tests.pytest_plugin import shop

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


@pytest.fixture(scope="session")
def shop_server() -> Iterator[str]:
    """The current shop (WSGI) on a loopback port; its base URL."""
    server: WSGIServer = make_server("127.0.0.1", 0, shop.wsgi_app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
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
                    headers=tuple(answer.headers.multi_items()),
                    body=answer.content,
                    body_size=len(answer.content),
                ),
                recorded_at=T0 + timedelta(seconds=i),
                source="edge",
                duration_us=1000,
            )
            assert tape.write(exchange)
    return folder


@pytest.fixture(scope="session")
def shop_tape(shop_server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record(tmp_path_factory.mktemp("shop") / "tape", shop_server)
