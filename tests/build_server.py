"""A build to launch in tests: ``python tests/build_server.py PORT`` serves on 127.0.0.1.

Every request gets ``$BUILD_STATUS`` (200) with the body ``{"recorded":true}`` (what
tests/replay/helpers.ex records) and the header ``X-Foo: $FOO``; ``$BUILD_DELAY`` seconds
pass before it listens.
"""

from __future__ import annotations

import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = b'{"recorded":true}'
        self.send_response(int(os.environ.get("BUILD_STATUS", "200")))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Foo", os.environ.get("FOO", ""))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


if __name__ == "__main__":
    time.sleep(float(os.environ.get("BUILD_DELAY", "0")))
    print(f"serving on {sys.argv[1]}", flush=True)
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
