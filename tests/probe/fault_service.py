"""A shop service for the faults probe tests: ``GET /items/{sku}`` asks its inventory.

``python fault_service.py PORT INVENTORY_URL HANDLING [--client-timeout S] [--propagate]``
serves on 127.0.0.1:PORT. Each item looks up its stock at ``INVENTORY_URL/stock/{sku}``
with the standard library's urllib, which takes ``HTTP_PROXY`` from the environment (the
deps proxy). When the inventory fails (a 5xx, a reset, a timeout), ``HANDLING`` says what
the shop answers: ``reports`` a 503 (inventory 5xx) or a 502 (no answer), ``swallows`` a
200 with ``{"in_stock": 0}``; ``offline`` never asks the inventory (a build from before
the dependency). ``--client-timeout`` is urllib's timeout for the call (none
by default: the call waits as long as the inventory does). ``--fail-every N`` answers
every Nth item request with a 500 whatever the inventory did (a flaky build, but never
three in a row). ``--propagate`` passes the
request's ``traceparent`` on to the inventory call, as OpenTelemetry-instrumented services
do. ``GET /health`` calls nothing; ``GET /_seen`` lists what the inventory calls got
(``200``, ``503``, ``timeout``, ``reset``), so a test can tell each fault reached it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import urllib.error
import urllib.request
from http.client import RemoteDisconnected
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SEEN: list[str] = []


def _stock(url: str, timeout: float | None, traceparent: str | None) -> tuple[int | None, object]:
    """The inventory's status (None: no answer) and its stock, or why it gave none."""
    request = urllib.request.Request(url)
    if traceparent:
        request.add_header("traceparent", traceparent)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read())["stock"]
    except urllib.error.HTTPError as exc:
        return exc.code, str(exc.code)
    except TimeoutError:
        return None, "timeout"
    except urllib.error.URLError as exc:
        timed_out = isinstance(exc.reason, TimeoutError)
        return None, "timeout" if timed_out else "reset"
    except (RemoteDisconnected, ConnectionError, OSError):
        return None, "reset"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("inventory")
    parser.add_argument("handling", choices=["reports", "swallows", "offline"])
    parser.add_argument("--client-timeout", type=float, default=None)
    parser.add_argument("--propagate", action="store_true")
    parser.add_argument("--fail-every", type=int, default=0)
    args = parser.parse_args()
    served = itertools.count(1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: object) -> None:
            pass

        def _answer(self, status: int, doc: object) -> None:
            body = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/health":
                return self._answer(200, {"ok": True})
            if path == "/_seen":
                return self._answer(200, SEEN)
            sku = path.rsplit("/", 1)[-1]
            if args.handling == "offline":
                return self._answer(200, {"sku": sku, "in_stock": None})
            trace = self.headers.get("traceparent") if args.propagate else None
            status, got = _stock(f"{args.inventory}/stock/{sku}", args.client_timeout, trace)
            SEEN.append(str(status) if status is not None else str(got))
            if args.fail_every and next(served) % args.fail_every == 0:
                return self._answer(500, {"error": "flaky"})
            if status == 200:
                return self._answer(200, {"sku": sku, "in_stock": got})
            if args.handling == "swallows":
                return self._answer(200, {"sku": sku, "in_stock": 0})
            if status is not None:
                return self._answer(503, {"error": f"inventory answered {status}"})
            return self._answer(502, {"error": f"inventory {got}"})

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print("listening", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
