"""A throwaway nginx on 127.0.0.1 serving a 2 KB JSON file: the fast upstream both the
recorder and the replayer benchmarks measure against."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from benchmarks.loopback import free_port, wait_listening


@dataclass(frozen=True)
class Nginx:
    url: str
    port: int
    #: Path of the JSON file, relative to the server root.
    path: str = "/item.json"


def nginx_binary() -> str:
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.path.exists(candidate):
            return candidate
    raise RuntimeError("nginx is not installed: run scripts/bench-deps (make bench does)")


@contextmanager
def serve_json(workers: int = 1) -> Iterator[Nginx]:
    """Start nginx with `workers` worker processes; stop it on exit, whatever happens."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="shadowtape-nginx-") as root:
        www = os.path.join(root, "www")
        os.makedirs(www)
        os.chmod(root, 0o755)  # workers may run as an unprivileged user
        with open(os.path.join(www, "item.json"), "wb") as handle:
            handle.write(two_kb_json())
        conf = os.path.join(root, "nginx.conf")
        with open(conf, "w") as handle:
            handle.write(
                f"""
worker_processes {workers};
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log crit;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path {root}/tmp;
    proxy_temp_path {root}/tmp;
    fastcgi_temp_path {root}/tmp;
    uwsgi_temp_path {root}/tmp;
    scgi_temp_path {root}/tmp;
    types {{ application/json json; }}
    server {{
        listen 127.0.0.1:{port};
        root {www};
    }}
}}
"""
            )
        os.makedirs(os.path.join(root, "tmp"))
        proc = subprocess.Popen([nginx_binary(), "-c", conf, "-p", root])
        try:
            wait_listening(port, proc, "nginx", timeout=10)
            yield Nginx(url=f"http://127.0.0.1:{port}", port=port)
        finally:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def two_kb_json() -> bytes:
    """A JSON document of about 2 KB (valid, unlike a truncated dump)."""
    items = []
    while True:
        items.append({"id": len(items), "name": f"item-{len(items)}", "price": 1.5, "tags": ["a"]})
        body = json.dumps({"items": items}).encode()
        if len(body) >= 2000:
            return body
