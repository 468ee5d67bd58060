"""The trio: one small service run three times (baseline, secondary, candidate).

Same code, flags for what differs. Every endpoint carries planted noise that changes on
every response (a timestamp, a request id, a random token, a shuffled list, a session
cookie and a nonce header), so a differ that does not measure noise drowns in false
alarms. The candidate alone carries the planted regressions, one kind per endpoint, so a
test can check each is reported on the right endpoint with the right kind.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from tests.servers import LoopbackServer, Received, Reply

#: Endpoint (as the report names it) -> the finding kind planted on the candidate.
PLANTED: dict[str, tuple[str, str]] = {
    "GET /api/users/{id}/greeting": ("body_value", "$.greeting"),
    "GET /api/items/{id}": ("body_type", "$.price"),
    "GET /api/profile/{id}": ("body_missing", "$.email"),
    "GET /api/settings/{id}": ("body_extra", "$.beta"),
    "GET /api/cart/{id}": ("array_length", "$.lines"),
    "GET /api/ranking": ("array_order", "$.top"),
    "GET /api/legacy/{id}": ("status", "status"),
    "GET /api/orders/{id}": ("new_error", "status"),
    "GET /api/flaky": ("swallowed_error", "status"),
    "GET /api/cache/{id}": ("header", "header:cache-control"),
    "GET /api/docs/{id}": ("text", "line:2"),
    "GET /api/avatar/{id}": ("digest", "body"),
    "GET /api/search": ("latency", "latency:p50"),
    # Token-shaped but deterministic: both baselines agree, so the shape proves nothing.
    "GET /api/receipts/{id}": ("body_value", "$.receipt"),
}
#: Endpoints with only noise: must come out "ok".
CLEAN = ("GET /api/clock", "GET /api/account/{id}")
SLOW_MS = 40


@dataclass(frozen=True)
class Flavor:
    """What this instance is: the candidate plants regressions, the others do not."""

    candidate: bool = False


def _token() -> str:
    return base64.urlsafe_b64encode(os.urandom(18)).decode()


def _noise() -> dict[str, object]:
    tags = ["red", "green", "blue", "amber", "violet"]
    random.shuffle(tags)
    return {
        "generated_at": datetime.now(UTC).isoformat(),
        "request_id": str(uuid.uuid4()),
        "token": _token(),
        "tags": tags,
    }


def _json(doc: dict[str, object], status: int = 200) -> Reply:
    headers = [
        ("Content-Type", "application/json"),
        ("X-Request-Id", str(uuid.uuid4())),
        ("X-Nonce", _token()),
        (
            "Set-Cookie",
            f"session={_token()}; Path=/; Expires={datetime.now(UTC):%a, %d %b %Y %H:%M:%S} GMT",
        ),
        ("Cache-Control", "max-age=60"),
    ]
    return Reply(status=status, headers=headers, body=orjson.dumps(doc))


def app(flavor: Flavor) -> object:
    cand = flavor.candidate

    def handle(request: Received) -> Reply:
        path = request.path.split("?", 1)[0]
        parts = [p for p in path.split("/") if p]
        noise = _noise()
        if request.method != "GET" and request.method != "HEAD":
            return _json({"created": True, **noise}, 201)
        if parts[:1] != ["api"] or len(parts) < 2:
            return Reply(status=404, body=b"not found")
        name, rest = parts[1], parts[2:]
        ident = rest[0] if rest else ""
        if name == "users":
            greeting = f"Hi, user {ident}" if cand else f"Hello, user {ident}"
            return _json({"id": int(ident), "greeting": greeting, **noise})
        if name == "items":
            price: object = "9.99" if cand else 9.99
            return _json({"id": int(ident), "name": "widget", "price": price, "stock": 3, **noise})
        if name == "profile":
            doc = {"id": int(ident), "name": "Ada", **noise}
            if not cand:
                doc["email"] = f"ada{ident}@example.test"
            return _json(doc)
        if name == "settings":
            doc = {"id": int(ident), "theme": "dark", **noise}
            if cand:
                doc["beta"] = True
            return _json(doc)
        if name == "cart":
            lines = [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}, {"sku": "c", "qty": 1}]
            return _json({"id": int(ident), "lines": lines[:2] if cand else lines, **noise})
        if name == "ranking":
            top = ["ann", "bob", "cid", "dee"]
            return _json({"top": top[::-1] if cand else top, **noise})
        if name == "legacy":
            if cand:
                return Reply(status=404, headers=[("Content-Type", "text/plain")], body=b"gone")
            return _json({"id": int(ident), "legacy": True, **noise})
        if name == "orders":
            if cand:
                return Reply(status=500, headers=[("Content-Type", "text/plain")], body=b"boom")
            return _json({"id": int(ident), "total": 12.5, **noise})
        if name == "flaky":
            if cand:
                return Reply(status=200, headers=[("Content-Type", "application/json")], body=b"{}")
            return Reply(
                status=503, headers=[("Content-Type", "text/plain")], body=b"upstream down"
            )
        if name == "cache":
            reply = _json({"id": int(ident), **noise})
            if cand:
                reply.headers = [
                    (n, "no-store" if n == "Cache-Control" else v) for n, v in reply.headers
                ]
            return reply
        if name == "docs":
            lines = [
                f"doc {ident}",
                "status: stable" if not cand else "status: beta",
                f"rendered {noise['generated_at']} for {noise['request_id']}",
                "end",
            ]
            return Reply(
                status=200, headers=[("Content-Type", "text/plain")], body="\n".join(lines).encode()
            )
        if name == "avatar":
            body = bytes(range(256)) * 4 + (b"\x01" if cand else b"\x00")
            return Reply(status=200, headers=[("Content-Type", "image/png")], body=body)
        if name == "search":
            return Reply(
                status=200,
                headers=[("Content-Type", "application/json")],
                body=orjson.dumps({"hits": [1, 2, 3]}),
                delay=SLOW_MS / 1000 if cand else 0.0,
            )
        if name == "receipts":
            seed = f"{ident}-v2" if cand else ident
            receipt = "rcpt_" + hashlib.sha256(seed.encode()).hexdigest()[:24]
            return _json({"id": int(ident), "receipt": receipt, **noise})
        if name == "clock":
            return _json({"now_epoch": int(datetime.now(UTC).timestamp()), **noise})
        if name == "account":
            return _json({"id": int(ident), "owner_email": f"owner{ident}@example.test", **noise})
        return Reply(status=404, body=b"not found")

    return handle


def traffic(repeats: int = 3) -> list[tuple[str, str]]:
    """The requests a client sends: (method, path); ids repeat, so identical requests occur."""
    out: list[tuple[str, str]] = []
    ids = [7, 42, 1001, 31337]
    for _ in range(repeats):
        for i in ids:
            out += [
                ("GET", f"/api/users/{i}/greeting"),
                ("GET", f"/api/items/{i}"),
                ("GET", f"/api/profile/{i}"),
                ("GET", f"/api/settings/{i}"),
                ("GET", f"/api/cart/{i}"),
                ("GET", "/api/ranking"),
                ("GET", f"/api/legacy/{i}"),
                ("GET", f"/api/orders/{i}"),
                ("GET", "/api/flaky"),
                ("GET", f"/api/cache/{i}"),
                ("GET", f"/api/docs/{i}"),
                ("GET", f"/api/avatar/{i}"),
                ("GET", "/api/search?q=x"),
                ("GET", "/api/clock"),
                ("GET", f"/api/account/{i}"),
                ("GET", f"/api/receipts/{i}"),
                ("POST", "/api/orders"),
            ]
    return out


@dataclass
class Trio:
    baseline: LoopbackServer
    secondary: LoopbackServer
    candidate: LoopbackServer


@contextmanager
def _serve(flavor: Flavor) -> Iterator[LoopbackServer]:
    server = LoopbackServer(app(flavor))  # type: ignore[arg-type]
    # Headers and body leave in two writes; with Nagle on, the body waits for a delayed
    # ACK (40 ms), which would swamp the planted latency difference.
    server._server.RequestHandlerClass.disable_nagle_algorithm = True
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def trio() -> Iterator[Trio]:
    """Start the three instances on free loopback ports; stop them whatever happens."""
    with ExitStack() as stack:
        servers = [stack.enter_context(_serve(Flavor(candidate=c))) for c in (False, False, True)]
        yield Trio(*servers)
