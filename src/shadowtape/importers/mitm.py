"""mitmproxy dump files (flow format 0.11 to today) as Exchanges.

mitmproxy's own FlowReader reads them and upgrades old formats, so every format it can
read, we can; a format it refuses (0.10 and older) is a one-line error naming the file.
HAR and zlib-compressed HAR (.zhar), which mitmproxy also opens, go to the HAR importer.
WebSocket flows are imported as their 101 handshake; their messages are not replayable
requests and are only counted in a tag. TCP, UDP and DNS flows are skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shadowtape.errors import CaptureError
from shadowtape.exchange import Exchange, ExchangeError, Request, Response
from shadowtape.ids import new_id
from shadowtape.importers.base import Item, Skipped, classify_error
from shadowtape.importers.har import read_har

_TOO_OLD = re.compile(
    r"mitmproxy (\S+) cannot read files with flow format version \((\d+), (\d+)\)"
)
_HAR_STARTS = (b"{", b"\xef\xbb\xbf", b"\x1f\x8b", b"\x78")

if TYPE_CHECKING:
    from mitmproxy import http


def _text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _headers(headers: http.Headers) -> tuple[tuple[str, str], ...]:
    return tuple((_text(name), _text(value)) for name, value in headers.fields)


def _body(message: http.Message, side: str, notes: dict[str, str]) -> bytes:
    """The decoded body; as recorded (and noted) when its Content-Encoding is broken."""
    if message.raw_content is None:
        return b""
    try:
        return message.get_content(strict=True) or b""
    except ValueError:
        encoding = message.headers.get("content-encoding", "")
        notes[f"mitm.{side}_body"] = f"not decodable as {encoding}; stored as recorded"
        return message.raw_content


def _us(start: float | None, end: float | None) -> int | None:
    if not start or not end or end < start:
        return None
    return round((end - start) * 1_000_000)


def flow_to_exchange(flow: http.HTTPFlow, *, source: str) -> Exchange | Skipped:
    """One HTTP flow as an Exchange, or a Skipped saying why it is not one."""
    req = flow.request
    if not req.timestamp_start:
        return Skipped("no request (a placeholder flow from an old dump format)")
    notes: dict[str, str] = {}
    path, _, query = req.path.partition("?")
    request = Request(
        method=req.method.upper(),
        scheme=req.scheme,
        host=req.host,
        port=req.port,
        path=path or "/",
        query=query,
        http_version=req.http_version,
        headers=_headers(req.headers),
        body=(body := _body(req, "request", notes)),
        body_size=len(body),
    )
    response = None
    resp = flow.response
    if resp is not None:
        resp_body = _body(resp, "response", notes)
        response = Response(
            status=resp.status_code,
            reason=resp.reason,
            http_version=resp.http_version,
            headers=_headers(resp.headers),
            body=resp_body,
            body_size=len(resp_body),
        )
    error = None
    if flow.error is not None:
        if response is None:
            error = ExchangeError(kind=classify_error(flow.error.msg), message=flow.error.msg)
        else:
            notes["mitm.error"] = flow.error.msg  # e.g. a stream cancelled after the headers
    if flow.websocket is not None:
        notes["websocket.messages"] = str(len(flow.websocket.messages))
    started = datetime.fromtimestamp(req.timestamp_start, UTC)
    return Exchange(
        id=new_id(int(req.timestamp_start * 1000)),
        recorded_at=started,
        source=source,
        request=request,
        response=response,
        error=error,
        duration_us=_us(req.timestamp_start, resp.timestamp_end if resp else None),
        ttfb_us=_us(req.timestamp_start, resp.timestamp_start if resp else None),
        tags=notes,
    )


def _is_har(path: str | os.PathLike[str]) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(1)
    return head.startswith(_HAR_STARTS)


def read_mitm(path: str | os.PathLike[str], *, source: str | None = None) -> Iterator[Item]:
    """Every flow of a mitmproxy dump as an Exchange or a Skipped, in file order."""
    # mitmproxy is imported here, not at module level: `shadowtape --help` stays fast.
    from mitmproxy import http
    from mitmproxy.exceptions import FlowReadException
    from mitmproxy.io import FlowReader

    label = os.fspath(path)
    try:
        if _is_har(path):
            yield from read_har(path, source=source or "import-mitm")
            return
        handle = open(path, "rb")  # noqa: SIM115 - closed below, around a generator
    except OSError as exc:
        raise CaptureError(f"{label}: cannot read this file ({exc.strerror or exc})") from None
    name = source or "import-mitm"
    tag_file = os.path.basename(label)
    index = 0
    with handle:
        flows = iter(FlowReader(handle).stream())
        while True:
            try:
                flow: Any = next(flows)
            except StopIteration:
                return
            except FlowReadException as exc:
                raise CaptureError(_read_error(label, index, exc)) from None
            except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
                raise CaptureError(_read_error(label, index, exc)) from None
            where = f"flow {index}"
            index += 1
            if not isinstance(flow, http.HTTPFlow):
                yield Skipped(f"not HTTP ({flow.type} flow)", where)
                continue
            item = flow_to_exchange(flow, source=name)
            if isinstance(item, Skipped):
                yield Skipped(item.reason, where)
            else:
                yield item.replace(tags={"import.file": tag_file, **item.tags})


def _read_error(label: str, index: int, exc: BaseException) -> str:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    if index == 0:
        too_old = _TOO_OLD.search(reason)
        if too_old:
            return (
                f"{label}: mitmproxy dump format {too_old.group(2)}.{too_old.group(3)} is too "
                f"old for mitmproxy {too_old.group(1)}, which reads 0.11 and newer; convert it "
                "with an older mitmproxy (mitmdump -nr OLD -w NEW) or record it again"
            )
        return f"{label}: not a readable mitmproxy dump ({reason})"
    return (
        f"{label}: flow {index} cannot be read ({reason}); the {index} flows before it "
        "were imported"
    )
