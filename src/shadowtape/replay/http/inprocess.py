"""Sending to an ASGI or WSGI app in this process, through httpx's ASGI and WSGI
transports: no server, no socket.

``AppClient`` has the lean client's interface (``fetch_wire``, ``fetch``,
``connect_ahead``, ``async with``) and gives the same ``Reply``, so the engine replays to
an app exactly as to a URL; it is used only for app targets, and the lean client's path
is untouched. The transport is called directly, not through ``httpx.AsyncClient``: like
the lean client, nothing follows redirects, keeps cookies or adds headers.

An app that raises answers 500, as a server would, and the traceback is logged. An ASGI
app's lifespan (startup and shutdown) runs around the replay when the app supports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

import httpx

from shadowtape import coding
from shadowtape.errors import ConfigError, ReplayError
from shadowtape.exchange import ErrorKind
from shadowtape.replay.http.client import Reply, classify, decode_capped, decode_error
from shadowtape.replay.rules import tracing
from shadowtape.replay.rules.targets import Outgoing

log = logging.getLogger("shadowtape.replay")

#: An ASGI 3 or WSGI application.
App = Callable[..., Any]
#: The base URL an app target is given: requests carry ``Host: testserver``, as in
#: Starlette's and Django's test clients.
APP_URL = "http://testserver"


def app_kind(app: App) -> Literal["asgi", "wsgi"]:
    """Whether ``app`` is an ASGI 3 app (``async (scope, receive, send)``) or a WSGI app
    (``(environ, start_response)``), from its signature."""
    if not callable(app):
        raise ConfigError(f"{app!r} is not an ASGI or WSGI application: it is not callable")
    call = app if inspect.isfunction(app) or inspect.ismethod(app) else type(app).__call__
    if inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(app):
        return "asgi"
    try:
        params = [
            p
            for p in inspect.signature(app).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    if len(params) == 2:
        return "wsgi"
    if len(params) == 3:
        return "asgi"
    raise ConfigError(
        f"{app!r} is neither an ASGI app (async, (scope, receive, send)) nor a WSGI app "
        "((environ, start_response))"
    )


def load_app(spec: str) -> App:
    """The app named by 'module:attribute' (the attribute may be dotted), as uvicorn and
    gunicorn name one."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise ConfigError(f"app {spec!r} is not 'module:attribute', e.g. myproject.main:app")
    try:
        value: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise ConfigError(f"app {spec!r}: no module named {exc.name!r}") from None
        raise
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise ConfigError(f"app {spec!r}: {part!r} not found in {module_name}") from None
    app_kind(value)
    return value  # type: ignore[no-any-return]


def _parse_wire(key: tuple[str, str, int], data: bytes) -> httpx.Request:
    """The request the engine serialized (prepare/jobs.py), back as an httpx request.
    Header values stay bytes: a recorded value need not be ASCII."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    method, target, _version = lines[0].split(b" ", 2)
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.lower() != b"content-length":
            headers.append((name, value.strip()))
    scheme, host, port = key
    url = httpx.URL(scheme=scheme, host=host, port=port, raw_path=target)
    return httpx.Request(method.decode("ascii"), url, headers=headers, content=body)


class AppClient:
    """Sends to one in-process app; replies are the lean client's ``Reply``."""

    def __init__(
        self,
        app: App,
        *,
        timeout: float = 30.0,
        body_cap: int = 1024 * 1024,
    ) -> None:
        self.app = app
        self.kind = app_kind(app)
        self.timeout = timeout
        self.body_cap = body_cap
        self._asgi = httpx.ASGITransport(app) if self.kind == "asgi" else None
        self._wsgi = httpx.WSGITransport(app) if self.kind == "wsgi" else None
        self._lifespan: _Lifespan | None = None

    async def __aenter__(self) -> AppClient:
        if self.kind == "asgi":
            self._lifespan = _Lifespan(self.app)
            await self._lifespan.startup()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._lifespan is not None:
            await self._lifespan.shutdown()

    async def connect_ahead(self, origin: str) -> bool:
        return True  # nothing to connect to

    async def fetch(self, out: Outgoing) -> Reply:
        return await self._send(out.to_httpx())

    async def fetch_wire(self, key: tuple[str, str, int], data: bytes, method: str) -> Reply:
        data, trace_id = tracing.fill(data)
        reply = await self._send(_parse_wire(key, data))
        reply.trace_id = trace_id
        return reply

    async def _send(self, request: httpx.Request) -> Reply:
        sent = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout):
                status, headers, raw, encoding = await self._call(request)
        except TimeoutError:
            message = f"TimeoutError: no complete response within {self.timeout:g} s"
            return Reply(
                sent, time.monotonic(), error_kind=ErrorKind.TIMEOUT, error_message=message
            )
        except Exception:
            log.warning(
                "the app raised on %s %s",
                request.method,
                request.url.raw_path.decode(),
                exc_info=True,
            )
            body = b"Internal Server Error"
            return Reply(
                sent,
                time.monotonic(),
                status=500,
                reason="Internal Server Error",
                headers=(("content-type", "text/plain; charset=utf-8"),),
                body=body,
                body_size=len(body),
                body_truncated=False,
            )
        try:
            body, size, truncated = decode_capped(raw, encoding, self.body_cap)
        except coding.Undecodable as exc:
            kind, message = classify(decode_error(exc))
            return Reply(sent, time.monotonic(), error_kind=kind, error_message=message)
        ended = time.monotonic()
        return Reply(
            sent,
            ended,
            status=status,
            reason=httpx.codes.get_reason_phrase(status),
            headers=headers,
            body=body,
            body_size=size,
            body_truncated=truncated,
        )

    async def _call(
        self, request: httpx.Request
    ) -> tuple[int, tuple[tuple[str, str], ...], bytes, str]:
        """(status, headers, the body as the app sent it, its Content-Encoding): the body
        is decoded by the caller, within the limit, as the lean client decodes it."""
        if self._asgi is not None:
            response = await self._asgi.handle_async_request(request)
            raw = b"".join([piece async for piece in response.aiter_raw()])
        else:
            assert self._wsgi is not None
            response = await asyncio.to_thread(self._wsgi.handle_request, request)
            raw = await asyncio.to_thread(lambda: b"".join(response.iter_raw()))
        headers = tuple(
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in response.headers.raw
            # The body is kept decoded, as the lean client keeps it.
            if name.lower() != b"content-encoding"
        )
        encoding = ", ".join(response.headers.get_list("content-encoding"))
        if not coding.known(encoding):
            encoding = ""  # an encoding nobody decodes: kept as it came
        return response.status_code, headers, raw, encoding


class _Lifespan:
    """The ASGI lifespan protocol around a replay; an app that does not speak it (it
    raises on the lifespan scope) is replayed without."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._to_app: asyncio.Queue[Mapping[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[Mapping[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._supported = False

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
        try:
            await self.app(scope, self._to_app.get, self._from_app.put)
        except Exception:
            if self._supported:
                raise
            log.debug("the app does not support the ASGI lifespan", exc_info=True)
        finally:
            await self._from_app.put({"type": "lifespan.ended"})

    async def startup(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())
        await self._to_app.put({"type": "lifespan.startup"})
        message = await self._from_app.get()
        if message["type"] == "lifespan.startup.complete":
            self._supported = True
        elif message["type"] == "lifespan.startup.failed":
            raise ReplayError(f"the app's lifespan startup failed: {message.get('message', '')}")

    async def shutdown(self) -> None:
        if self._task is None:
            return
        if self._supported:
            await self._to_app.put({"type": "lifespan.shutdown"})
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5.0):
                    await self._from_app.get()
        if not self._task.done():
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
