"""GoReplay capture files (``--output-file``) as Exchanges.

A capture is a series of records, each ending with the line "🐵🙈🙉". A record is a
header line "TYPE ID TIMESTAMP_NS [LATENCY_NS]" and then the raw HTTP message as it
crossed the wire. Type 1 is a request, 2 the response the original server gave, 3 the
response a replay target gave (not part of the original traffic, so not imported).
Requests and responses are paired by ID; a request whose response never comes is kept
without one, because the request alone is still replayable. A last record without its
end marker was cut short and is skipped, with that reason.

The file is read line by line, and a request waits for its response only for a bounded
time, so memory stays small however long the capture.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shadowtape.coding import Undecodable, codings, decode
from shadowtape.errors import CaptureError
from shadowtape.exchange import Exchange, Headers, Request, Response, header_value
from shadowtape.ids import new_id
from shadowtape.importers.base import Item, Skipped, open_capture

MARKER = "🐵🙈🙉".encode()
#: A request waits this long (capture time) for its response before it is written alone.
PAIR_WINDOW_NS = 120 * 1_000_000_000
_HEADER = re.compile(rb"^([123]) (\S+) (\d+)(?: (-?\d+))?\s*$")
_HOST = re.compile(r"^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$")


@dataclass(slots=True)
class _Record:
    kind: int
    id: str
    timestamp_ns: int
    latency_ns: int | None
    payload: bytes
    where: str


@dataclass(slots=True)
class _Message:
    start_line: list[str]
    headers: Headers
    body: bytes
    body_size: int
    truncated: bool
    note: str | None
    #: Why the body was dropped (``not decodable as gzip``, ``decompressed size over limit``).
    dropped: str | None = None


def _records(path: str | os.PathLike[str]) -> Iterator[_Record | Skipped]:
    label = os.fspath(path)
    with open_capture(path) as handle:
        lines: list[bytes] = []
        number = 0
        start_line = 1
        line_no = 0
        for line in handle:
            line_no += 1
            if line.rstrip(b"\r\n") != MARKER:
                lines.append(line)
                continue
            yield _record(lines, number, start_line, label)
            number += 1
            lines = []
            start_line = line_no + 1
        if any(line.strip() for line in lines):
            # GoReplay ends every record with the marker line, so the file was cut inside
            # this one (a capture still being written, a copy cut short): its headers or
            # body may be missing, and it must not be imported as if whole.
            last = _record(lines, number, start_line, label)
            yield Skipped("cut short: the file ends before its end marker", last.where)


def _record(lines: list[bytes], number: int, line_no: int, label: str) -> _Record | Skipped:
    where = f"record {number} (line {line_no})"
    match = _HEADER.match(lines[0]) if lines else None
    if not match:
        if number == 0:
            first = (lines[0] if lines else b"").strip()[:60].decode("utf-8", "replace")
            raise CaptureError(
                f"{label}: not a GoReplay capture (the first line is {first!r}, not "
                "'TYPE ID TIMESTAMP'); capture files come from gor --output-file"
            )
        return Skipped("record header is not 'TYPE ID TIMESTAMP [LATENCY]'", where)
    payload = b"".join(lines[1:])
    if payload.endswith(b"\n"):
        payload = payload[:-1]  # the newline GoReplay writes before the marker line
    kind, rid, stamp, latency = match.groups()
    return _Record(
        kind=int(kind),
        id=rid.decode("ascii", "replace"),
        timestamp_ns=int(stamp),
        latency_ns=int(latency) if latency is not None else None,
        payload=payload,
        where=where,
    )


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    rest = body
    while rest:
        size_line, sep, rest = rest.partition(b"\r\n")
        if not sep:
            raise ValueError("chunk size line without CRLF")
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        if len(rest) < size:
            raise ValueError("last chunk is cut short")
        rest = rest[size + 2 :]
    return bytes(out)


def _text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def parse_message(payload: bytes) -> _Message:
    """A raw HTTP/1.x request or response (ValueError when it is not one)."""
    head, sep, body = payload.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = payload.partition(b"\n\n")
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    start_line = _text(lines[0]).split(" ", 2)
    if len(start_line) < 2:
        raise ValueError("no request or status line")
    headers: list[tuple[str, str]] = []
    for raw in lines[1:]:
        if raw[:1] in (b" ", b"\t") and headers:  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {_text(raw.strip())}")
            continue
        key, colon, rest = raw.partition(b":")
        if not colon:
            raise ValueError(f"header line without a colon: {_text(raw[:40])!r}")
        headers.append((_text(key.strip()), _text(rest.strip())))
    frozen = tuple(headers)
    note = None
    truncated = False
    size = len(body)
    if "chunked" in (header_value(frozen, "transfer-encoding") or "").lower():
        try:
            body = _dechunk(body)
        except ValueError as exc:
            note = f"chunked body not decodable ({exc}); stored as captured"
        size = len(body)
    else:
        length = header_value(frozen, "content-length")
        if length and length.strip().isdigit() and int(length) > len(body):
            # GoReplay cuts long payloads: keep what there is and say it is cut.
            truncated, size = True, int(length)
    coding = (header_value(frozen, "content-encoding") or "").strip().lower()
    if codings(coding) and body:
        # A chunked body that did not dechunk cannot be decoded either.
        try:
            if note is not None:
                raise Undecodable(f"not decodable as {coding}")
            body, decoded = decode(body, coding, partial=truncated)
        except Undecodable as exc:  # never stored as captured: the sanitizer could not read it
            note = f"body {exc}; dropped"
            return _Message(start_line, frozen, b"", size, True, note, dropped=str(exc))
        if not truncated:
            size = decoded
    return _Message(start_line, frozen, body, size, truncated, note)


def _host_port(host_header: str | None) -> tuple[str, int]:
    match = _HOST.match((host_header or "").strip())
    if not match or not (match.group(1) or match.group(2)):
        raise ValueError("no Host header")
    return match.group(1) or match.group(2), int(match.group(3) or 80)


def _exchange(request: _Record, response: _Record | None, source: str, file: str) -> Item:
    try:
        message = parse_message(request.payload)
    except ValueError as exc:
        return Skipped(f"unparsable request ({exc})", request.where)
    if len(message.start_line) != 3 or not message.start_line[2].startswith("HTTP/"):
        return Skipped("unparsable request (no 'METHOD TARGET HTTP/x' line)", request.where)
    method, target, version = (part.strip() for part in message.start_line)
    scheme = "http"
    if target.startswith(("http://", "https://")):  # absolute form, as sent to a proxy
        scheme, _, rest = target.partition("://")
        authority, slash, remainder = rest.partition("/")
        host_header: str | None = authority
        target = slash + remainder or "/"
    else:
        host_header = header_value(message.headers, "host")
    try:
        host, port = _host_port(host_header)
    except ValueError as exc:
        return Skipped(f"unusable request ({exc})", request.where)
    if scheme == "https" and not re.search(r":\d+$", host_header or ""):
        port = 443
    path, _, query = target.partition("?")
    tags = {"import.file": file, "gor.id": request.id}
    if message.note:
        tags["gor.request_body"] = message.note
    resp = None
    resp_message: _Message | None = None
    duration = None
    if response is not None:
        try:
            parsed = parse_message(response.payload)
            status = int(parsed.start_line[1])
            if not 100 <= status <= 999:
                raise ValueError(f"{status} is not an HTTP status")
        except ValueError as exc:
            tags["gor.response"] = f"unparsable, dropped ({exc})"
        else:
            resp_message = parsed
            resp = Response(
                status=status,
                reason=parsed.start_line[2].strip() if len(parsed.start_line) > 2 else "",
                http_version=parsed.start_line[0].strip(),
                headers=parsed.headers,
                body=parsed.body,
                body_size=parsed.body_size,
                body_truncated=parsed.truncated,
            )
            if parsed.note:
                tags["gor.response_body"] = parsed.note
            if response.latency_ns is not None and response.latency_ns >= 0:
                duration = response.latency_ns // 1000
    seconds, nanos = divmod(request.timestamp_ns, 1_000_000_000)
    started = datetime.fromtimestamp(seconds, UTC) + timedelta(microseconds=nanos // 1000)
    dropped = [
        f"{side}.body: dropped ({parsed_as.dropped})"
        for side, parsed_as in (("request", message), ("response", resp_message))
        if parsed_as is not None and parsed_as.dropped
    ]
    return Exchange(
        id=new_id(request.timestamp_ns // 1_000_000),
        redactions=tuple(dropped),
        recorded_at=started,
        source=source,
        request=Request(
            method=method.upper(),
            scheme=scheme,
            host=host,
            port=port,
            path=path or "/",
            query=query,
            http_version=version,
            headers=message.headers,
            body=message.body,
            body_size=message.body_size,
            body_truncated=message.truncated,
        ),
        response=resp,
        duration_us=duration,
        tags=tags,
    )


def read_gor(path: str | os.PathLike[str], *, source: str | None = None) -> Iterator[Item]:
    """Every request of a GoReplay capture, paired with its original response."""
    name = source or "import-gor"
    file = os.path.basename(os.fspath(path))
    requests: dict[str, _Record] = {}
    responses: dict[str, _Record] = {}
    for record in _records(path):
        if isinstance(record, Skipped):
            yield record
            continue
        if record.kind == 3:
            yield Skipped("replayed response (type 3), not original traffic", record.where)
        elif record.kind == 1:
            if record.id in requests:  # the same id again: the first never got its response
                yield _exchange(requests.pop(record.id), None, name, file)
            answer = responses.pop(record.id, None)
            if answer is not None:
                yield _exchange(record, answer, name, file)
            else:
                requests[record.id] = record
        else:
            waiting = requests.pop(record.id, None)
            if waiting is not None:
                yield _exchange(waiting, record, name, file)
            else:
                responses[record.id] = record
        horizon = record.timestamp_ns - PAIR_WINDOW_NS
        while requests:
            oldest = next(iter(requests.values()))
            if oldest.timestamp_ns >= horizon:
                break
            yield _exchange(requests.pop(oldest.id), None, name, file)
        for rid in [r for r, rec in responses.items() if rec.timestamp_ns < horizon]:
            yield Skipped("response without its request", responses.pop(rid).where)
    for waiting in requests.values():
        yield _exchange(waiting, None, name, file)
    for orphan in responses.values():
        yield Skipped("response without its request", orphan.where)
