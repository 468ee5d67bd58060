"""The in-process client: an ASGI or WSGI app answers through httpx's transports, and
the replies are the lean client's, errors included."""

from __future__ import annotations

import asyncio
import gzip
import logging
from typing import Any

import pytest
from flask import Flask

from shadowtape.errors import ConfigError, ReplayError
from shadowtape.exchange import ErrorKind
from shadowtape.replay.http.inprocess import AppClient, app_kind, load_app
from shadowtape.replay.prepare.jobs import serialize

KEY = ("http", "testserver", 80)


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers with what it was sent, as text lines; /gzip answers gzip-encoded."""
    message = await receive()
    headers = dict(scope["headers"])
    lines = [
        scope["method"],
        scope["path"],
        scope["query_string"].decode(),
        headers.get(b"host", b"").decode(),
        headers.get(b"x-name", b"").decode("utf-8"),
        message.get("body", b"").decode(),
    ]
    body = "\n".join(lines).encode()
    extra = []
    if scope["path"] == "/gzip":
        body, extra = gzip.compress(body), [(b"content-encoding", b"gzip")]
    await send({"type": "http.response.start", "status": 201, "headers": extra})
    await send({"type": "http.response.body", "body": body})


def fetch(app: Any, data: bytes, method: str = "GET", **options: Any) -> Any:
    async def go() -> Any:
        async with AppClient(app, **options) as client:
            return await client.fetch_wire(KEY, data, method)

    return asyncio.run(go())


def test_the_request_reaches_the_app_as_recorded() -> None:
    data = serialize(
        "POST", "/a%20b/c?x=1&y=%C3%A9", (("Host", "testserver"), ("X-Name", "Zoë")), b"hi"
    )
    reply = fetch(echo, data, "POST")
    assert reply.status == 201 and reply.reason == "Created"
    assert reply.body.decode().split("\n") == [
        "POST",
        "/a b/c",
        "x=1&y=%C3%A9",
        "testserver",
        "Zoë",
        "hi",
    ]
    assert reply.body_size == len(reply.body) and reply.body_truncated is False


def test_bodies_are_kept_decoded_and_capped() -> None:
    reply = fetch(echo, serialize("GET", "/gzip", (), b""), body_cap=5)
    assert reply.body == b"GET\n/"
    assert reply.body_size > 5 and reply.body_truncated
    assert all(name.lower() != "content-encoding" for name, _ in reply.headers)


def test_an_app_that_raises_answers_500_and_the_traceback_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise ValueError("boom")

    with caplog.at_level(logging.WARNING, "shadowtape.replay"):
        reply = fetch(broken, serialize("GET", "/x", (), b""))
    assert reply.status == 500 and reply.error_kind is None
    assert "boom" in caplog.text and "GET /x" in caplog.text


def test_a_slow_app_times_out() -> None:
    async def slow(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":  # not the lifespan: the client waits for its startup
            await asyncio.sleep(5)

    reply = fetch(slow, serialize("GET", "/", (), b""), timeout=0.05)
    assert reply.error_kind is ErrorKind.TIMEOUT and reply.status is None


def test_a_wsgi_app() -> None:
    flask = Flask("shop")

    @flask.post("/items/<int:n>")
    def item(n: int) -> dict[str, int]:
        return {"n": n}

    assert app_kind(flask) == "wsgi"
    reply = fetch(flask, serialize("POST", "/items/7", (("Host", "testserver"),), b""), "POST")
    assert reply.status == 200 and reply.body == b'{"n":7}\n'
    assert dict(reply.headers)["Content-Type"] == "application/json"


def test_the_asgi_lifespan_runs_around_the_replay() -> None:
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                seen.append(message["type"])
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        await echo(scope, receive, send)

    fetch(app, serialize("GET", "/", (), b""))
    assert seen == ["lifespan.startup", "lifespan.shutdown"]

    async def failing(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    with pytest.raises(ReplayError, match="no database"):
        fetch(failing, serialize("GET", "/", (), b""))


def test_app_kinds() -> None:
    class Asgi:
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None: ...

    def wsgi(environ: Any, start_response: Any) -> list[bytes]:
        return []

    assert app_kind(echo) == "asgi" and app_kind(Asgi()) == "asgi"
    assert app_kind(wsgi) == "wsgi"
    for wrong in (42, lambda: None):
        with pytest.raises(ConfigError):
            app_kind(wrong)


def test_load_app_names_what_is_wrong() -> None:
    assert load_app("tests.pytest_plugin.shop:app") is not None
    for spec, words in (
        ("tests.pytest_plugin.shop", "module:attribute"),
        ("no_such_module_here:app", "no module named"),
        ("tests.pytest_plugin.shop:nope", "'nope' not found"),
        ("tests.pytest_plugin.shop:json", "not callable"),
    ):
        with pytest.raises(ConfigError, match=words):
            load_app(spec)
