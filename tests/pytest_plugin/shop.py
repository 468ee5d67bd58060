"""A small shop, as an ASGI app and as a WSGI app, each in a current and a changed build.

The same handler answers in all four; the changed build (``_v2``) prices product 2 at 99
instead of 20. The plugin's tests record a tape from the WSGI app served by a real
server, then replay it against these apps in-process.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

Answer = tuple[int, list[tuple[str, str]], bytes]


def handle(method: str, path: str, body: bytes, *, changed: bool = False) -> Answer:
    def reply(status: int, data: object) -> Answer:
        raw = json.dumps(data).encode()
        return status, [("Content-Type", "application/json")], raw

    parts = path.strip("/").split("/")
    if method == "GET" and path == "/api/health":
        return reply(200, {"status": "ok"})
    if method == "GET" and len(parts) == 3 and parts[:2] == ["api", "products"]:
        if not parts[2].isdigit():
            return reply(404, {"error": "no such product"})
        pid = int(parts[2])
        price = 99 if changed and pid == 2 else pid * 10
        return reply(200, {"id": pid, "name": f"product {pid}", "price": price})
    if method == "POST" and path == "/api/orders":
        return reply(201, {"order": 1, "items": json.loads(body or b"[]")})
    return reply(404, {"error": "not found"})


def make_asgi(changed: bool = False) -> Callable[..., Any]:
    async def app(
        scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
    ) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status, headers, raw = handle(scope["method"], scope["path"], body, changed=changed)
        encoded = [(n.lower().encode(), v.encode()) for n, v in headers]
        encoded.append((b"content-length", str(len(raw)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": encoded})
        await send({"type": "http.response.body", "body": raw})

    return app


def make_wsgi(changed: bool = False) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        status, headers, raw = handle(
            environ["REQUEST_METHOD"], environ["PATH_INFO"], body, changed=changed
        )
        phrase = {200: "OK", 201: "Created", 404: "Not Found"}[status]
        start_response(f"{status} {phrase}", [*headers, ("Content-Length", str(len(raw)))])
        return [raw]

    return app


app = make_asgi()
app_v2 = make_asgi(changed=True)
wsgi_app = make_wsgi()
wsgi_app_v2 = make_wsgi(changed=True)
