"""A shop build for the side-effect e2e tests: each order charges a payment provider.

``python sidefx_service.py PORT PAYMENTS_URL CHARGES [--no-trace] [--dedup] [--refund]``
serves on
127.0.0.1:PORT. ``POST /api/orders`` reads stock once (``GET PAYMENTS_URL/limits``),
then calls ``POST PAYMENTS_URL/charges`` CHARGES times, and answers 201 with the same
body whatever CHARGES is: a double charge shows only in the outbound calls. Calls go
through urllib, which takes ``HTTP_PROXY`` from the environment (the deps proxy a
launched build gets), and carry the incoming ``traceparent``'s trace id with a new span
id per call, as OpenTelemetry-instrumented services do (``--no-trace``: none). With
``--dedup`` an order repeating an ``Idempotency-Key`` charges nothing (answered alike);
with ``--refund`` each order also calls ``POST PAYMENTS_URL/refunds``. A dependency's
error status is taken as an answer. ``$SHOP_DELAY`` seconds pass before each order's calls
(so that many are in flight at once). It prints ``listening`` once it listens.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _call(method: str, url: str, traceparent: str | None) -> None:
    request = urllib.request.Request(url, data=b"{}" if method == "POST" else None, method=method)
    if traceparent:
        version, trace_id, _, flags = traceparent.split("-")
        request.add_header("traceparent", f"{version}-{trace_id}-{os.urandom(8).hex()}-{flags}")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            answer.read()
    except urllib.error.HTTPError as exc:
        exc.read()


def main() -> None:
    port, payments, charges = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    traced = "--no-trace" not in sys.argv
    dedup = "--dedup" in sys.argv
    refund = "--refund" in sys.argv
    seen: set[str] = set()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            parent = self.headers.get("traceparent") if traced else None
            time.sleep(float(os.environ.get("SHOP_DELAY", "0")))
            _call("GET", f"{payments}/limits", parent)
            key = self.headers.get("Idempotency-Key")
            with lock:
                repeated = dedup and key is not None and key in seen
                if key is not None:
                    seen.add(key)
            for _ in range(0 if repeated else charges):
                _call("POST", f"{payments}/charges", parent)
            if refund:
                _call("POST", f"{payments}/refunds", parent)
            body = b'{"order":"accepted"}'
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("listening", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
