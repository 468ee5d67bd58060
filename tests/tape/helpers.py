"""Small builders for tape tests."""

from __future__ import annotations

from datetime import UTC, datetime

from shadowtape import Exchange, Request, Response


def exchange(
    *,
    method: str = "GET",
    path: str = "/api/items/1",
    status: int | None = 200,
    host: str = "api.test",
    source: str = "edge",
    at: datetime | None = None,
    body: bytes = b'{"ok": true}',
) -> Exchange:
    response = Response(status=status, body=body, body_size=len(body)) if status else None
    return Exchange(
        request=Request(method=method, host=host, path=path),
        response=response,
        source=source,
        recorded_at=at or datetime.now(UTC),
    )
