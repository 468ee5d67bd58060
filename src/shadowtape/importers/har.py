"""HAR 1.1 and 1.2 files (browsers, Fiddler, Charles, Insomnia, Firebug, mitmproxy) as
Exchanges.

Real HAR files bend the spec in many small ways: a UTF-8 byte-order mark (Fiddler),
empty or "unknown" httpVersion, status 0 for requests that got no answer, timings of -1,
bodies in base64, HTTP/2 pseudo-headers among the headers, gzip- and zlib-compressed
files (mitmproxy's .zhar, both decompressed as a stream up to ``MAX_DECOMPRESSED``). None
of these stops an import; an entry that cannot be an exchange (a data: URL, no method) is
skipped with a reason that names it.

The file is read as a stream (har_stream.py): checked whole first, then its entries
parsed, converted and released one at a time.
HAR fields that a tape cannot hold (the timings breakdown, the server address) are kept
in tags, and a ``_shadowtape`` block written by the exporter restores what HAR has no
field for, so tape -> HAR -> tape loses nothing.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import orjson

from shadowtape.coding import TooLarge, Undecodable, codings, decode
from shadowtape.exchange import ErrorKind, Exchange, ExchangeError, Request, Response
from shadowtape.ids import new_id
from shadowtape.importers.base import Exported, Item, Skipped
from shadowtape.importers.bodies import decode_base64, text_to_bytes
from shadowtape.importers.har_stream import MAX_DECOMPRESSED as MAX_DECOMPRESSED
from shadowtape.importers.har_stream import entries, outline
from shadowtape.importers.seal import is_sealed
from shadowtape.record.capture import error_kind

_M = TypeVar("_M", Request, Response)
DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_VERSIONS = {
    "http/0.9": "HTTP/0.9",
    "http/1.0": "HTTP/1.0",
    "http/1.1": "HTTP/1.1",
    "http/2": "HTTP/2.0",
    "http/2.0": "HTTP/2.0",
    "h2": "HTTP/2.0",
    "h2c": "HTTP/2.0",
    "http/3": "HTTP/3",
    "http/3.0": "HTTP/3",
    "h3": "HTTP/3",
}
#: Tags this importer sets from HAR fields a tape has no column for.
TAG_TIMINGS = "har.timings"
TAG_SERVER_IP = "har.server_ip"


def read_har(
    path: str | os.PathLike[str],
    *,
    source: str | None = None,
    max_decompressed: int = MAX_DECOMPRESSED,
) -> Iterator[Item]:
    """Every entry of a HAR file as an Exchange or a Skipped, in file order.

    ``source`` names the exchanges; without it, a source the exporter stored is kept,
    else "import-har". ``max_decompressed``: the limit of a compressed file.
    """
    found = outline(path, max_decompressed=max_decompressed)
    tag_file = os.path.basename(os.fspath(path))
    stream = entries(path, found, max_decompressed=max_decompressed)
    for index, entry in enumerate(stream):
        where = f"entry {index}"
        if not isinstance(entry, dict):
            yield Skipped("not a HAR entry (not a JSON object)", where)
            continue
        try:
            item = entry_to_exchange(entry, source=source, file=tag_file)
        except _EntryProblem as problem:
            yield Skipped(str(problem), where)
            continue
        except (TypeError, ValueError, AttributeError, OverflowError) as exc:
            yield Skipped(f"malformed entry ({type(exc).__name__}: {exc})"[:200], where)
            continue
        sealed = is_sealed(entry)
        if sealed or item.id == entry.get("_shadowtape_id"):
            yield Exported(item, sealed=sealed, where=where)
        else:
            yield item


class _EntryProblem(ValueError):
    """An entry cannot become an exchange; the message is the skip reason."""


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


#: Larger numbers are no size or duration (and would overflow the tape's int64 columns).
_LARGEST = 2**53


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > _LARGEST:
        return None
    return float(value)


def _quote(value: Any) -> str:
    """A HAR value as it is written in the file, shortened, for a message."""
    text = orjson.dumps(value).decode()
    return text if len(text) <= 40 else f"{text[:37]}..."


def _status(value: Any) -> int | None:
    """A response status (100-999, also as text), or None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        code = int(value)
    except (ValueError, OverflowError):
        return None
    return code if 100 <= code <= 999 else None


def http_version(value: Any) -> str:
    """'http/2.0', 'h3', 'HTTP/2' -> mitmproxy's spelling; '' when unknown."""
    text = str(value or "").strip()
    if not text or text.lower() == "unknown":
        return ""
    return _VERSIONS.get(text.lower(), text.upper())


def _headers(items: Any) -> tuple[tuple[str, str], ...]:
    out = []
    for item in _list(items):
        if not isinstance(item, dict) or not item.get("name"):
            continue
        name = str(item["name"])
        if name.startswith(":"):  # HTTP/2 pseudo-headers: method, URL and status say it
            continue
        value = item.get("value")
        out.append((name, "" if value is None else str(value)))
    return tuple(out)


def _has(headers: tuple[tuple[str, str], ...], name: str) -> bool:
    return any(key.lower() == name for key, _ in headers)


def _content_type(headers: tuple[tuple[str, str], ...], mime: Any) -> str | None:
    for key, value in headers:
        if key.lower() == "content-type":
            return value
    return str(mime) if mime else None


def parse_started(value: Any) -> datetime | None:
    """startedDateTime as an aware UTC datetime (7-digit fractions and 'Z' accepted)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _split_url(url: Any) -> tuple[str, str, int, str, str]:
    if not isinstance(url, str) or not url:
        raise _EntryProblem("no request URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _EntryProblem(f"unparsable URL ({exc})") from None
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        raise _EntryProblem(f"not an HTTP URL ({parts.scheme or 'no scheme'}:)")
    host = parts.hostname or ""
    if not host:
        raise _EntryProblem("URL without a host")
    return scheme, host, port or DEFAULT_PORTS[scheme], parts.path or "/", parts.query


def _request_body(
    request: dict[str, Any], headers: tuple[tuple[str, str], ...], removed: list[str]
) -> tuple[bytes, int, bool]:
    post = _obj(request.get("postData"))
    content_type = _content_type(headers, post.get("mimeType"))
    text = post.get("text")
    declared = _num(request.get("bodySize"))
    if isinstance(text, str) and text:
        encoding = post.get("encoding")
        return _body(text, encoding, content_type, headers, "request", declared, removed)
    params = _list(post.get("params"))
    if params and "x-www-form-urlencoded" in (content_type or "").lower():
        pairs = [
            (str(p.get("name", "")), str(p.get("value") or ""))
            for p in params
            if isinstance(p, dict)
        ]
        body = urlencode(pairs).encode("ascii")
        return body, len(body), False
    return _not_kept(declared)


def _declared(size: float | None) -> int:
    return int(size) if size and size > 0 else 0


def _not_kept(size: float | None) -> tuple[bytes, int, bool]:
    """A body HAR gives no text for: none, or, when it declares a size, one the capture
    knew of but did not keep: say so (truncated), do not invent it."""
    declared = _declared(size)
    return b"", declared, declared > 0


def _body(
    text: str,
    encoding: object,
    content_type: str | None,
    headers: tuple[tuple[str, str], ...],
    where: str,
    size: float | None,
    removed: list[str],
) -> tuple[bytes, int, bool]:
    """The body HAR gives as ``text`` (base64 or text in its content type, with any content
    coding undone), its size and whether it was cut; ``where`` ("request", "response")
    names it. One that expands past ``coding.LIMIT`` (a decompression bomb) is dropped,
    noted in ``removed``, its declared ``size`` kept."""
    if encoding == "base64":
        try:
            raw = decode_base64(text)
        except ValueError as exc:
            raise _EntryProblem(f"{where} body: {exc}") from None
    else:
        raw = text_to_bytes(text, content_type)
    body = _undo_coding(raw, headers)
    if body is None:
        removed.append(f"{where}.body: dropped ({TooLarge.REASON})")
        return b"", _declared(size), True
    return body, len(body), False


def _undo_coding(body: bytes, headers: tuple[tuple[str, str], ...]) -> bytes | None:
    """HAR holds decoded bodies, but some writers keep the compressed bytes (in base64):
    those are decoded, or the sanitizer could not read them (an ``x-gzip`` password).
    A body that does not decode is kept as it is (it was decoded already); one that
    expands past the limit gives None."""
    header = ", ".join(v for n, v in headers if n.lower() == "content-encoding")
    if not body or not codings(header):
        return body
    try:
        return decode(body, header).body
    except TooLarge:
        return None
    except Undecodable:
        return body


def _response(
    entry: dict[str, Any], removed: list[str]
) -> tuple[Response | None, ExchangeError | None]:
    response = _obj(entry.get("response"))
    status = response.get("status")
    code = _status(status)
    if code is None:
        # HAR says "no response" with status 0; anything else that is not a status is
        # read the same way, and the message quotes it.
        message = str(response.get("_error") or response.get("statusText") or "").strip()
        given = "no status" if status is None else f"status {_quote(status)}"
        message = message or f"no response ({given} in the HAR)"
        return None, ExchangeError(kind=error_kind(message), message=message)
    headers = _headers(response.get("headers"))
    content = _obj(response.get("content"))
    content_type = _content_type(headers, content.get("mimeType"))
    text = content.get("text")
    size = _num(content.get("size"))
    if isinstance(text, str):
        encoding = content.get("encoding")
        body, body_size, truncated = _body(
            text, encoding, content_type, headers, "response", size, removed
        )
    else:
        body, body_size, truncated = _not_kept(size)
    return (
        Response(
            status=code,
            reason=str(response.get("statusText") or ""),
            http_version=http_version(response.get("httpVersion")),
            headers=headers,
            body=body,
            body_size=body_size,
            body_truncated=truncated,
        ),
        None,
    )


def _timing(entry: dict[str, Any], answered: bool) -> tuple[int | None, int | None]:
    total = _num(entry.get("time"))
    if total is None or total < 0:
        return None, None
    duration = round(total * 1000)
    receive = _num(_obj(entry.get("timings")).get("receive"))
    if not answered or receive is None or receive < 0:
        return duration, None
    # From the rounded duration, so an exported and re-imported entry gives the same value.
    return duration, max(0, duration - round(receive * 1000))


def _started(entry: dict[str, Any]) -> datetime:
    """When the request started: without it, replay at the recorded pace and the tape's
    time partitions would rest on an invented time, so the entry is skipped."""
    value = entry.get("startedDateTime")
    moment = parse_started(value)
    if moment is None:
        if value is None:
            raise _EntryProblem("no startedDateTime")
        raise _EntryProblem(f"startedDateTime {_quote(value)} is not an ISO 8601 date and time")
    return moment


def entry_to_exchange(entry: dict[str, Any], *, source: str | None, file: str = "") -> Exchange:
    """One HAR entry as an Exchange; raises _EntryProblem when it cannot be one."""
    request = _obj(entry.get("request"))
    method = str(request.get("method") or "").strip().upper()
    if not method:
        raise _EntryProblem("no request method")
    scheme, host, port, path, query = _split_url(request.get("url"))
    headers = _headers(request.get("headers"))
    cookies = [c for c in _list(request.get("cookies")) if isinstance(c, dict) and c.get("name")]
    if cookies and not _has(headers, "cookie"):
        # Some writers list cookies only in the cookies array; replay needs the header.
        pairs = "; ".join(f"{c['name']}={c.get('value') or ''}" for c in cookies)
        headers = (*headers, ("Cookie", pairs))
    removed: list[str] = []
    body, body_size, truncated = _request_body(request, headers, removed)
    response, error = _response(entry, removed)
    recorded_at = _started(entry)
    duration, ttfb = _timing(entry, response is not None)

    tags: dict[str, str] = {"import.file": file} if file else {}
    timings = entry.get("timings")
    if isinstance(timings, dict) and timings:
        tags[TAG_TIMINGS] = orjson.dumps(timings).decode()
    if entry.get("serverIPAddress"):
        tags[TAG_SERVER_IP] = str(entry["serverIPAddress"])
    if isinstance(entry.get("_webSocketMessages"), list):
        tags["websocket.messages"] = str(len(entry["_webSocketMessages"]))

    exchange = Exchange(
        id=new_id(int(recorded_at.timestamp() * 1000)),
        recorded_at=recorded_at,
        source=source or "import-har",
        request=Request(
            method=method,
            scheme=scheme,
            host=host,
            port=port,
            path=path,
            query=query,
            http_version=http_version(request.get("httpVersion")),
            headers=headers,
            body=body,
            body_size=body_size,
            body_truncated=truncated,
        ),
        response=response,
        error=error,
        duration_us=duration,
        ttfb_us=ttfb,
        tags=tags,
        redactions=tuple(removed),
    )
    extra = entry.get("_shadowtape")
    if isinstance(extra, dict) or "_shadowtape_id" in entry:
        exchange = _restore(exchange, entry.get("_shadowtape_id"), _obj(extra), source)
    return exchange


def _restore(
    exchange: Exchange, stored_id: Any, extra: dict[str, Any], source: str | None
) -> Exchange:
    """Put back what the exporter kept in custom fields because HAR has none for it."""
    changes: dict[str, Any] = {}
    if isinstance(stored_id, str) and _ULID.match(stored_id):
        changes["id"] = stored_id
    if source is None and isinstance(extra.get("source"), str):
        changes["source"] = extra["source"]
    if isinstance(extra.get("tags"), dict):  # the tags, exactly
        changes["tags"] = {str(k): str(v) for k, v in extra["tags"].items()}
    stored = tuple(str(r) for r in _list(extra.get("redactions")))
    changes["redactions"] = stored + tuple(r for r in exchange.redactions if r not in stored)
    if "error" in extra:
        stored = extra["error"]
        changes["error"] = None
        if isinstance(stored, dict):
            try:
                kind = ErrorKind(str(stored.get("kind")))
            except ValueError:
                kind = ErrorKind.OTHER
            changes["error"] = ExchangeError(kind=kind, message=str(stored.get("message") or ""))
    if extra.get("timed") is False:
        changes["duration_us"] = changes["ttfb_us"] = None
    elif extra.get("ttfb") is False:
        changes["ttfb_us"] = None
    sizes = _obj(extra.get("request_body"))
    if sizes:
        changes["request"] = _sized(exchange.request, sizes)
    sizes = _obj(extra.get("response_body"))
    if sizes and exchange.response is not None:
        changes["response"] = _sized(exchange.response, sizes)
    return exchange.replace(**changes)


def _sized(message: _M, sizes: dict[str, Any]) -> _M:
    size = _num(sizes.get("size"))
    truncated = sizes.get("truncated")
    return dataclasses.replace(
        message,
        body_size=int(size) if size is not None and size >= 0 else message.body_size,
        body_truncated=truncated if isinstance(truncated, bool) else message.body_truncated,
    )
