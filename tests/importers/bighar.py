"""Large HAR files written as a stream, for the memory tests and benchmarks/bench_har.py:
a browser session's shape (mostly images in base64, some JSON API calls), hundreds of
megabytes in well under a second."""

from __future__ import annotations

import base64
import random
from pathlib import Path
from typing import IO, Any

import orjson

MiB = 1 << 20


def _entry(index: int, response: dict[str, Any], url: str) -> dict[str, Any]:
    return {
        "startedDateTime": f"2026-01-01T{index // 3600 % 24:02d}:{index // 60 % 60:02d}:"
        f"{index % 60:02d}.{index % 1000:03d}Z",
        "time": 5 + index % 50,
        "pageref": "page_1",
        "request": {
            "method": "GET",
            "url": url,
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": "Accept", "value": "*/*"}, {"name": "User-Agent", "value": "t"}],
            "cookies": [],
            "queryString": [],
            "headersSize": -1,
            "bodySize": 0,
        },
        "response": response,
        "cache": {},
        "timings": {"send": 0.5, "wait": 4, "receive": 1},
    }


def _responses(seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    image = base64.b64encode(rng.randbytes(48 * 1024)).decode()
    api = orjson.dumps(
        {"items": [{"id": rng.randrange(10**6), "name": f"user-{i}"} for i in range(40)]}
    ).decode()

    def response(mime: str, content: dict[str, Any]) -> dict[str, Any]:
        return {
            "status": 200,
            "statusText": "OK",
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": "Content-Type", "value": mime}],
            "content": {"mimeType": mime, **content},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
        }

    return [
        response("image/png", {"size": 48 * 1024, "encoding": "base64", "text": image}),
        response("application/json", {"size": len(api), "text": api}),
    ]


def write_har(out: IO[bytes], size: int, *, pages_after: bool = False, seed: int = 7) -> list[str]:
    """A HAR of at least ``size`` bytes to ``out``; the URLs of its entries, in order.
    ``pages_after``: ``log.pages`` (with a title) after ``log.entries``, as some writers
    put it."""
    image, api = _responses(seed)
    pages = orjson.dumps(
        [{"id": "page_1", "startedDateTime": "2026-01-01T00:00:00Z", "title": "t"}]
    )
    head = b'{"log":{"version":"1.2","creator":{"name":"bighar","version":"1"},'
    out.write(head + (b"" if pages_after else b'"pages":' + pages + b",") + b'"entries":[')
    written, urls = 0, []
    while written < size:
        index = len(urls)
        if index % 4 == 3:
            url, response = f"https://api.test/v1/users?page={index}", api
        else:
            url, response = f"https://cdn.test/img/{index}.png", image
        data = (b"," if index else b"") + orjson.dumps(_entry(index, response, url))
        out.write(data)
        written += len(data)
        urls.append(url)
    out.write(b"]" + (b',"pages":' + pages if pages_after else b"") + b"}}")
    return urls


def write_har_file(path: Path, size: int, **options: Any) -> list[str]:
    with path.open("wb") as out:
        return write_har(out, size, **options)
