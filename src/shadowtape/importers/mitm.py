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
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from shadowtape import coding
from shadowtape.errors import CaptureError
from shadowtape.exchange import Exchange
from shadowtape.importers.base import Item, Skipped, unreadable
from shadowtape.importers.har import MAX_DECOMPRESSED, read_har
from shadowtape.record.capture import capture, to_exchange

_TOO_OLD = re.compile(
    r"mitmproxy (\S+) cannot read files with flow format version \((\d+), (\d+)\)"
)
_HAR_STARTS = (b"{", b"\xef\xbb\xbf", b"\x1f\x8b", b"\x78")
#: No cap: a dump's bodies are imported whole (a content-encoded one up to coding.LIMIT).
_WHOLE = sys.maxsize

if TYPE_CHECKING:
    from mitmproxy import http


def flow_to_exchange(flow: http.HTTPFlow, *, source: str) -> Exchange | Skipped:
    """One HTTP flow as an Exchange, or a Skipped saying why it is not one.

    The flow goes through the recorder's own capture (record.capture), so it becomes the
    Exchange it would have been recorded as; what only a dump holds becomes a tag.
    """
    if not flow.request.timestamp_start:
        return Skipped("no request (a placeholder flow from an old dump format)")
    notes: dict[str, str] = {}
    exchange = to_exchange(
        capture(flow, _WHOLE), source=source, max_body=_WHOLE, notes=notes, limit=coding.LIMIT
    )
    tags = {f"mitm.{name}": note for name, note in notes.items()}
    if flow.error is None:
        # Still waiting for its response when the dump was written: no error happened.
        exchange = exchange.replace(error=None)
    elif flow.response is not None:
        tags["mitm.error"] = flow.error.msg  # e.g. a stream cancelled after the headers
        exchange = exchange.replace(error=None)
    if flow.websocket is not None:
        tags["websocket.messages"] = str(len(flow.websocket.messages))
    return exchange.replace(tags=tags) if tags else exchange


def _is_har(path: str | os.PathLike[str]) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(1)
    return head.startswith(_HAR_STARTS)


def read_mitm(
    path: str | os.PathLike[str],
    *,
    source: str | None = None,
    max_decompressed: int = MAX_DECOMPRESSED,
) -> Iterator[Item]:
    """Every flow of a mitmproxy dump as an Exchange or a Skipped, in file order; a HAR
    (.zhar) is read as ``read_har`` reads it, within ``max_decompressed``."""
    # mitmproxy is imported here, not at module level: `shadowtape --help` stays fast.
    from mitmproxy import http
    from mitmproxy.exceptions import FlowReadException
    from mitmproxy.io import FlowReader

    label = os.fspath(path)
    try:
        if _is_har(path):
            yield from read_har(
                path, source=source or "import-mitm", max_decompressed=max_decompressed
            )
            return
        handle = open(path, "rb")  # noqa: SIM115 - closed below, around a generator
    except OSError as exc:
        raise unreadable(label, exc) from None
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
