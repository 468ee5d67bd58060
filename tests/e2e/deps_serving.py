"""What the test services behind a deps proxy share (deps_service.py, sidefx_service.py).

``ServiceHandler`` speaks HTTP/1.1 quietly and answers JSON; ``serve`` runs a handler on
127.0.0.1:PORT until the process is killed, printing ``listening`` once it listens (what
``deps_support.behind_proxy`` waits for). The services run as scripts, so they import
this module from their own folder.
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ServiceHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def answer_json(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(port: int, handler: type[BaseHTTPRequestHandler]) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    print("listening", flush=True)
    server.serve_forever()
