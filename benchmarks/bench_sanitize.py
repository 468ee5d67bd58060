"""Sanitizer cost per exchange, as a ratio to an orjson round trip of the same 2 KB body.

Cases: a GET with three cookies and a 2 KB JSON response; a POST with a JSON body and a
bearer token; the GET again with a different body and cookies every time (nothing that
is memoised can help). Each is the best of several rounds, alternated with the reference.

Then the worst case: every hostile body of tests/sanitize/adversarial.py at the default
body cap (hundreds of distinct long secrets among them), as time per MiB beside a plain
``bytes.find`` scan of the same bytes, against the target of 50 ms per MiB on one core.
Each case is timed once; one near or over the target is timed again (best of four).

Beside it, ordinary shapes that are costly: an S3 ListObjects response of 1,000 keys
that are storage paths (read as ``key`` fields and kept: constants.object_path), and one
of 1,000 opaque keys (40 random base62 characters, replaced as API keys would be).
"""

from __future__ import annotations

import hashlib
import logging
import random
import string
import time
from collections.abc import Callable
from functools import partial

import orjson

from shadowtape import Exchange, Request, Response
from shadowtape.sanitize import Sanitizer
from tests.sanitize.adversarial import BODY_CAP, Case, cases

ROUNDS = 7
CALLS = 500
#: Worst-case sanitizing time per MiB of hostile input.
TARGET_MS_PER_MIB = 50.0
MIB = 1024 * 1024
#: The carriers of tests/sanitize/adversarial.py that are not a body.
NOT_BODIES = frozenset(
    {"header", "Location header", "Link header", "query", "path", "reason phrase", "error message"}
)


def _json_2k() -> bytes:
    items = [
        {
            "id": i,
            "name": f"Item {i}",
            "price": 9.99 + i,
            "in_stock": i % 2 == 0,
            "tags": ["blue", "large"],
            "updated": "2024-05-01T12:00:00Z",
        }
        for i in range(16)
    ]
    return orjson.dumps({"items": items, "page": 1, "total": 160})


BODY = _json_2k()
REQUEST_HEADERS = (
    ("Host", "api.example.test"),
    ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0"),
    ("Accept", "application/json"),
    ("Accept-Language", "en-US,en;q=0.5"),
    ("Accept-Encoding", "gzip, deflate, br"),
    ("Cookie", "session=8f14e45fceea167a5a36dedd4bea2543; theme=dark; _ga=GA1.2.1234567890.17"),
    ("Referer", "https://shop.example.test/catalog?page=2"),
    ("Connection", "keep-alive"),
)
RESPONSE_HEADERS = (
    ("Server", "nginx/1.22.1"),
    ("Date", "Sat, 21 Nov 2026 10:00:00 GMT"),
    ("Content-Type", "application/json"),
    ("Content-Length", str(len(BODY))),
    ("Cache-Control", "no-cache"),
    ("ETag", '"6650a1b2-800"'),
)


def _get(body: bytes = BODY, cookie: str = "8f14e45fceea167a5a36dedd4bea2543") -> Exchange:
    headers = tuple(
        (n, v.replace("8f14e45fceea167a5a36dedd4bea2543", cookie)) for n, v in REQUEST_HEADERS
    )
    return Exchange(
        request=Request(
            "GET", "api.example.test", path="/api/v1/items", query="page=2", headers=headers
        ),
        response=Response(200, "OK", headers=RESPONSE_HEADERS, body=body, body_size=len(body)),
    )


def _post() -> Exchange:
    body = orjson.dumps(
        {
            "order": {
                "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}],
                "shipping": {"name": "Zoë Martin", "city": "Paris", "zip": "75002"},
                "note": "leave at the door",
            },
            "client": "web",
        }
    )
    headers = (
        *REQUEST_HEADERS,
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlc2ln"),
    )
    answer = b'{"id": 991, "status": "created"}'
    return Exchange(
        request=Request(
            "POST",
            "api.example.test",
            path="/api/v1/orders",
            headers=headers,
            body=body,
            body_size=len(body),
        ),
        response=Response(
            201, "Created", headers=RESPONSE_HEADERS[:3], body=answer, body_size=len(answer)
        ),
    )


def _best(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    for _ in range(CALLS):
        fn()
    return (time.perf_counter() - started) / CALLS * 1e6


def main() -> None:
    sanitizer = Sanitizer(key=b"bench-key")
    get, post = _get(), _post()
    distinct = [
        _get(BODY.replace(b'"page":1', b'"page":%d' % (1000 + i)), f"{i:032x}")
        for i in range(CALLS)
    ]
    cursor = iter(range(10**9))
    reference = "orjson loads+dumps of the 2 KB body (reference)"
    cases: dict[str, Callable[[], object]] = {
        reference: lambda: orjson.dumps(orjson.loads(BODY)),
        "GET, 3 cookies, 2 KB JSON response": lambda: sanitizer.sanitize(get),
        "POST, JSON body, bearer token": lambda: sanitizer.sanitize(post),
        "GET, every body and cookie different": lambda: sanitizer.sanitize(
            distinct[next(cursor) % CALLS]
        ),
    }
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(ROUNDS):
        for name, fn in cases.items():
            best[name] = min(best[name], _best(fn))
    for name, micros in best.items():
        print(f"{micros:8.1f} us/exchange  {micros / best[reference]:5.1f}x  {name}")
    worst_case()


def s3_listing(keys: int = 1000, *, opaque: bool = False) -> Exchange:
    """An S3 ListObjectsV2 response listing ``keys`` photos (about 200 bytes each), or
    with ``opaque`` keys of 40 random base62 characters each."""
    rows = []
    draw = random.Random(18)
    for i in range(keys):
        etag = hashlib.md5(str(i).encode()).hexdigest()
        month, day = i % 12 + 1, i % 28 + 1
        key = f"photos/2024/{month:02d}/IMG_{i:05d}_{etag[:8]}.jpg"
        if opaque:
            key = "".join(draw.choices(string.ascii_letters + string.digits, k=40))
        rows.append(
            f"<Contents><Key>{key}</Key>"
            f"<LastModified>2024-{month:02d}-{day:02d}T10:{i % 60:02d}:00.000Z</LastModified>"
            f"<ETag>&quot;{etag}&quot;</ETag><Size>{100_000 + i * 37}</Size></Contents>"
        )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<Name>bucket</Name><Prefix>photos/</Prefix><KeyCount>{keys}</KeyCount>"
        f"<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>{''.join(rows)}"
        "</ListBucketResult>"
    ).encode()
    host, query = "bucket.s3.example.test", "list-type=2&prefix=photos/"
    listing = Request("GET", host, path="/", query=query, headers=(("Host", host),))
    xml = (("Content-Type", "application/xml"),)
    answer = Response(200, "OK", headers=xml, body=body, body_size=len(body))
    return Exchange(request=listing, response=answer)


def ordinary_shapes() -> None:
    """Costly ordinary shapes, best of five on fresh sanitizers, per MiB and per call."""
    shapes = (
        ("S3 ListObjects, 1,000 path keys", s3_listing()),
        ("S3 ListObjects, 1,000 opaque keys", s3_listing(opaque=True)),
    )
    for name, exchange in shapes:
        assert exchange.response is not None
        size = len(exchange.response.body)
        fresh = (Sanitizer(key=b"bench-key") for _ in range(5))  # nothing memoised
        took = min(_timed(partial(sanitizer.sanitize, exchange)) for sanitizer in fresh)
        print(
            f"{took * 1e3 * MIB / size:8.1f} ms/MiB  ({took * 1e3:.1f} ms for "
            f"{size // 1000} KB)  {name}: {_outcome(Sanitizer(key=b'bench-key'), exchange)}"
        )


def _outcome(sanitizer: Sanitizer, exchange: Exchange) -> str:
    """What became of the body: kept whole, values replaced, or dropped (and why)."""
    clean = sanitizer.sanitize(exchange)
    dropped = [where for where in clean.redactions if "dropped" in where]
    if dropped:
        return dropped[0]
    return f"kept, {len(clean.redactions)} locations replaced"


def per_mib(case: Case, sanitizer: Sanitizer) -> tuple[float, float]:
    """(sanitize, bytes.find) in ms per MiB of the case; find is the best of five."""
    data = case.scannable()
    find = min(_timed(lambda: data.find(b"\x00\xff\x00")) for _ in range(5))
    sanitize = _timed(lambda: sanitizer.sanitize(case.exchange))
    scale = MIB / max(1, case.size) * 1e3
    return sanitize * scale, find * scale


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


#: A case timed above this share of the target is timed again (see _settled).
RETIME_ABOVE = 0.8
RETIMES = 3


def _settled(case: Case, first: tuple[float, float]) -> tuple[float, float]:
    """A case near or over the target, timed RETIMES times more, each on a fresh
    sanitizer (nothing memoised from the first run), keeping the best: one run of a
    case is taken on a host that other programs share, and a spike there is not a cost
    of the sanitizer."""
    if first[0] <= TARGET_MS_PER_MIB * RETIME_ABOVE:
        return first
    return min([first, *(per_mib(case, Sanitizer(key=b"bench-key")) for _ in range(RETIMES))])


def worst_case(size: int = BODY_CAP) -> None:
    # A hostile header or message fails its exchange closed, with a warning each time.
    logging.getLogger("shadowtape.sanitize").setLevel(logging.ERROR)
    sanitizer = Sanitizer(key=b"bench-key")
    results = [(*_settled(case, per_mib(case, sanitizer)), case.name) for case in cases(size)]
    results.sort(reverse=True)
    print(f"\nhostile bodies of {size // 1024} KiB: {len(results)} cases, worst first")
    for sanitize, find, name in results[:10]:
        print(f"{sanitize:8.1f} ms/MiB  (bytes.find {find:5.2f} ms/MiB)  {name}")
    within = sum(1 for sanitize, _, _ in results if sanitize <= TARGET_MS_PER_MIB)
    print(f"{within} of {len(results)} cases within {TARGET_MS_PER_MIB:.0f} ms/MiB")
    worst, find, name = results[0]
    verdict = "holds" if worst <= TARGET_MS_PER_MIB else "MISSED"
    print(
        f"worst case: {worst:.1f} ms/MiB ({name}); bytes.find of the same bytes "
        f"{find:.2f} ms/MiB; target {TARGET_MS_PER_MIB:.0f} ms/MiB: {verdict}"
    )
    # Headers, URLs and messages are bounded by the proxy's own limits in live traffic
    # (not in imports); bodies reach the body cap.
    bodies = [r for r in results if r[2].split(" / ", 1)[1] not in NOT_BODIES]
    worst, find, name = bodies[0]
    print(f"worst body: {worst:.1f} ms/MiB ({name}); bytes.find {find:.2f} ms/MiB")
    print("\nordinary shapes that cost the most")
    ordinary_shapes()


if __name__ == "__main__":
    main()
