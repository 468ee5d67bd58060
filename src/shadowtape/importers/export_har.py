"""Tapes as HAR 1.2, streamed: one entry is built and written at a time.

Everything HAR has a field for goes in that field, so any HAR viewer shows it. What HAR
has no field for travels in custom fields (the spec allows names starting with "_"):
``_shadowtape_id`` and a ``_shadowtape`` block with the source, redactions, tags, the
error kind and body truncation. The HAR importer reads them back, so a tape exported and
imported again is the same tape.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterable
from typing import IO, Any
from urllib.parse import parse_qsl

import orjson

from shadowtape import __version__
from shadowtape.exchange import Exchange, Headers, Request, Response
from shadowtape.importers.bodies import bytes_to_text
from shadowtape.importers.har import DEFAULT_PORTS, TAG_SERVER_IP, TAG_TIMINGS
from shadowtape.importers.seal import seal


def _pairs(headers: Headers) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers]


def _content_type(headers: Headers) -> str:
    for name, value in headers:
        if name.lower() == "content-type":
            return value
    return ""


def _cookies(headers: Headers) -> list[dict[str, str]]:
    out = []
    for name, value in headers:
        if name.lower() != "cookie":
            continue
        for piece in value.split(";"):
            key, sep, val = piece.strip().partition("=")
            if sep and key:
                out.append({"name": key, "value": val})
    return out


def _set_cookies(headers: Headers) -> list[dict[str, str]]:
    out = []
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, sep, val = value.split(";", 1)[0].strip().partition("=")
            if sep and key:
                out.append({"name": key, "value": val})
    return out


def _url(request: Request) -> str:
    host = f"[{request.host}]" if ":" in request.host else request.host
    if DEFAULT_PORTS.get(request.scheme) != request.port:
        host = f"{host}:{request.port}"
    return f"{request.scheme}://{host}{request.target}"


def _request(request: Request) -> dict[str, Any]:
    out: dict[str, Any] = {
        "method": request.method,
        "url": _url(request),
        "httpVersion": request.http_version,
        "cookies": _cookies(request.headers),
        "headers": _pairs(request.headers),
        "queryString": [
            {"name": k, "value": v} for k, v in parse_qsl(request.query, keep_blank_values=True)
        ],
        "headersSize": -1,
        "bodySize": request.body_size if request.body or request.body_size else 0,
    }
    if request.body or request.body_size:
        mime = _content_type(request.headers)
        text, is_base64 = bytes_to_text(request.body, mime)
        post: dict[str, Any] = {"mimeType": mime, "text": text}
        if is_base64:
            post["encoding"] = "base64"  # not in HAR 1.2; mitmproxy and others read it
        elif "x-www-form-urlencoded" in mime.lower():
            post["params"] = [
                {"name": k, "value": v} for k, v in parse_qsl(text, keep_blank_values=True)
            ]
        out["postData"] = post
    return out


def _response(response: Response | None, error_message: str | None) -> dict[str, Any]:
    if response is None:
        # HAR's way to say "no response": status 0 (Chrome adds _error).
        out: dict[str, Any] = {
            "status": 0,
            "statusText": "",
            "httpVersion": "",
            "cookies": [],
            "headers": [],
            "content": {"size": 0, "mimeType": ""},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
        }
        if error_message:
            out["_error"] = error_message
        return out
    mime = _content_type(response.headers)
    content: dict[str, Any] = {"size": response.body_size, "mimeType": mime}
    if response.body or not response.body_truncated:
        text, is_base64 = bytes_to_text(response.body, mime)
        content["text"] = text
        if is_base64:
            content["encoding"] = "base64"
    location = ""
    for name, value in response.headers:
        if name.lower() == "location":
            location = value
            break
    return {
        "status": response.status,
        "statusText": response.reason,
        "httpVersion": response.http_version,
        "cookies": _set_cookies(response.headers),
        "headers": _pairs(response.headers),
        "content": content,
        "redirectURL": location,
        "headersSize": -1,
        "bodySize": response.body_size,
    }


def _timings(exchange: Exchange) -> dict[str, Any]:
    stored = exchange.tags.get(TAG_TIMINGS)
    if stored:
        try:
            value = orjson.loads(stored)
        except orjson.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            return value
    duration = (exchange.duration_us or 0) / 1000
    ttfb = exchange.ttfb_us / 1000 if exchange.ttfb_us is not None else duration
    return {"send": 0, "wait": ttfb, "receive": max(0.0, duration - ttfb)}


def exchange_to_entry(exchange: Exchange) -> dict[str, Any]:
    """One exchange as a HAR 1.2 entry."""
    request, response = exchange.request, exchange.response
    error = exchange.error
    entry: dict[str, Any] = {
        "_shadowtape_id": exchange.id,
        "startedDateTime": exchange.recorded_at.isoformat(timespec="microseconds"),
        "time": (exchange.duration_us or 0) / 1000,
        "request": _request(request),
        "response": _response(response, error.message if error else None),
        "cache": {},
        "timings": _timings(exchange),
    }
    server_ip = exchange.tags.get(TAG_SERVER_IP)
    if server_ip:
        entry["serverIPAddress"] = server_ip
    extra: dict[str, Any] = {
        "source": exchange.source,
        "redactions": list(exchange.redactions),
        "tags": dict(exchange.tags),
        "error": {"kind": error.kind.value, "message": error.message} if error else None,
        "request_body": {"size": request.body_size, "truncated": request.body_truncated},
    }
    if response is not None:
        extra["response_body"] = {
            "size": response.body_size,
            "truncated": response.body_truncated,
        }
    if exchange.duration_us is None:
        extra["timed"] = False
    elif exchange.ttfb_us is None:
        extra["ttfb"] = False
    entry["_shadowtape"] = extra
    seal(entry)
    return entry


def write_har(exchanges: Iterable[Exchange], out: IO[bytes]) -> int:
    """Write a HAR 1.2 document to a binary stream, entry by entry. Returns the count."""
    creator = orjson.dumps({"name": "shadowtape", "version": __version__})
    out.write(b'{"log":{"version":"1.2","creator":' + creator + b',"pages":[],"entries":[\n')
    count = 0
    for exchange in exchanges:
        if count:
            out.write(b",\n")
        out.write(orjson.dumps(exchange_to_entry(exchange)))
        count += 1
    out.write(b"\n]}}\n")
    return count


def export_har(
    exchanges: Iterable[Exchange], path: str | os.PathLike[str], *, overwrite: bool = False
) -> int:
    """Write a HAR file atomically: into a temporary file beside it, renamed into place
    once complete, so a failure never leaves half a file. An existing file is kept
    (FileExistsError) unless ``overwrite``. Returns the count."""
    target = os.path.abspath(path)
    folder = os.path.dirname(target)
    temp = os.path.join(folder, f".{os.path.basename(target)}.{secrets.token_hex(6)}.tmp")
    try:
        with open(temp, "xb") as handle:
            count = write_har(exchanges, handle)
            handle.flush()
            os.fsync(handle.fileno())
        _publish(temp, target, overwrite=overwrite)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    return count


def _publish(temp: str, target: str, *, overwrite: bool) -> None:
    if overwrite:
        os.replace(temp, target)
        return
    try:
        # A hard link is an atomic rename that refuses an existing target, even one that
        # appeared while the export ran.
        os.link(temp, target)
    except FileExistsError:
        raise
    except OSError:  # a filesystem without hard links
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), target) from None
        os.replace(temp, target)
        return
    os.unlink(temp)
