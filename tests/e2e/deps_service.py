"""A small service for the deps e2e tests: ``GET /order`` calls its two dependencies.

``python deps_service.py PORT INVENTORY_URL PAYMENTS_URL`` serves on 127.0.0.1:PORT. Each
order looks up stock over the inventory URL and charges over the payments URL with the
standard library's urllib, which takes ``HTTP_PROXY``/``HTTPS_PROXY`` and
``SSL_CERT_FILE`` from the environment: what ``shadowtape deps`` tells a service to set.
The answer says what each dependency gave: its status and body, or the error kind.
It propagates trace context as OpenTelemetry-instrumented services do: each outbound call
carries the inbound ``traceparent``'s trace id and flags with a span id of its own.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _child(traceparent: str | None) -> str | None:
    """The traceparent of an outbound call: the same trace, a new span."""
    parts = (traceparent or "").split("-")
    if len(parts) != 4 or len(parts[1]) != 32:
        return None
    return f"00-{parts[1]}-{os.urandom(8).hex()}-{parts[3]}"


def _call(url: str, body: bytes | None = None, traceparent: str | None = None) -> dict[str, object]:
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET")
    child = _child(traceparent)
    if child:
        request.add_header("traceparent", child)
    if body:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=3) as answer:
            return {"status": answer.status, "body": answer.read().decode()}
    except urllib.error.HTTPError as exc:
        return {"status": exc.code, "body": exc.read().decode()}
    except TimeoutError:
        return {"error": "timeout"}
    except (urllib.error.URLError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        kind = "timeout" if isinstance(reason, TimeoutError) else type(reason).__name__
        return {"error": kind}


def main() -> None:
    port, inventory, payments = int(sys.argv[1]), sys.argv[2], sys.argv[3]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            trace = self.headers.get("traceparent")
            order = {
                "stock": _call(f"{inventory}/items/1?fields=stock", traceparent=trace),
                "charge": _call(
                    f"{payments}/charges", json.dumps({"amount": 42}).encode(), traceparent=trace
                ),
            }
            body = json.dumps(order).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("listening", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
