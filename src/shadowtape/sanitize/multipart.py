"""multipart/form-data (and other multipart) bodies, part by part, bytes kept in place.

The body is split on its boundary in C: each part that may change (see liveparts.py)
has its headers and content handled, and everything else (other parts, preamble,
delimiters, line endings, epilogue) is kept byte for byte. A secret-named field's content
is replaced; any other part is sanitized as a body of its own content type (a JSON part is
walked, a text part scanned, a binary file only echoed).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from itertools import compress, repeat
from operator import not_

from shadowtape.sanitize.constants import key_path
from shadowtape.sanitize.context import Context
from shadowtape.sanitize.csvbody import UNTYPED, csv_file
from shadowtape.sanitize.liveparts import live_chunks

_NAME = re.compile(r"""(?:^|;)\s*name\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))""", re.I)
_FILENAME = re.compile(r"(?:^|;)\s*filename\*?\s*=", re.I)

#: Chunks looked at one by one for a part before the rest are looked at in C.
_FIRST = 8

BodyFn = Callable[[bytes, str, Context, str], bytes]


def sanitize_multipart(
    body: bytes, boundary: str, ctx: Context, base: str, sanitize_body: BodyFn
) -> bytes | None:
    """The sanitized body (``body`` itself when nothing changed), or None when it does
    not hold a single delimited part."""
    try:
        delimiter = b"--" + boundary.encode("latin-1")
    except UnicodeEncodeError:
        return None
    chunks = body.split(delimiter)
    if len(chunks) < 2 or not _holds_part(chunks):
        return None
    loose = f"{base}.multipart"
    out: list[bytes] | None = None
    for index in live_chunks(chunks, ctx):
        chunk = chunks[index]
        part = None
        if index and not chunk.startswith(b"--"):  # not the preamble, epilogue
            part = _part(chunk, ctx, base, sanitize_body)
        if part is None:  # cut short or malformed: still scanned as text
            part = sanitize_body(chunk, "text/plain", ctx, loose)
        if part != chunk:
            if out is None:
                out = chunks.copy()
            out[index] = part
    return body if out is None else delimiter.join(out)


def _holds_part(chunks: list[bytes]) -> bool:
    """Does a chunk after the preamble hold a part: not the close delimiter, and headers
    ended by a blank line? (Past the first few, told in C: a hostile body may be
    hundreds of thousands of chunks.)"""
    for chunk in chunks[1:_FIRST]:
        if not chunk.startswith(b"--") and (b"\r\n\r\n" in chunk or b"\n\n" in chunk):
            return True
    rest = chunks[_FIRST:]
    opened = b"\x00".join(compress(rest, map(not_, map(bytes.startswith, rest, repeat(b"--")))))
    return b"\n\n" in opened or b"\r\n\r\n" in opened


def _part(chunk: bytes, ctx: Context, base: str, sanitize_body: BodyFn) -> bytes | None:
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = chunk.find(separator)
        if end >= 0:
            break
    else:
        return None
    head = chunk[:end]
    content = chunk[end + len(separator) :]
    trailer = b""
    for ending in (b"\r\n", b"\n"):
        if content.endswith(ending):
            trailer = ending
            content = content[: -len(ending)]
            break
    head_text = head.decode("utf-8", "surrogateescape")
    disposition, content_type, transfer = "", "", ""
    for line in head_text.splitlines():
        name, _, value = line.partition(":")
        lowered = name.strip().lower()
        if lowered == "content-disposition":
            disposition = value
        elif lowered == "content-type":
            content_type = value.strip()
        elif lowered == "content-transfer-encoding":
            transfer = value.strip().lower()
    encoded = content
    decoded = _from_base64(content) if transfer == "base64" else None
    if decoded is not None:
        content = decoded
    found = _NAME.search(disposition)
    field = ""
    if found is not None:
        field = found.group(1) if found.group(1) is not None else found.group(2)
    where = f"{base}.multipart.{field}"
    policy = ctx.policy
    if field and policy.allowed_field.matches(field):
        return chunk
    new_head = head
    scope = ctx.scope(head_text, fields=False)  # headers repeat: told once, remembered
    if not scope.empty:
        new_head_text = ctx.text(head_text, where, scope=scope)
        if new_head_text != head_text:
            new_head = new_head_text.encode("utf-8", "surrogateescape")
    if field and policy.secret_field.matches(field) and not _key_path(field, content, ctx, where):
        content = _secret_content(content, ctx, where)
    else:
        if content_type.partition(";")[0].strip().lower() in UNTYPED and csv_file(disposition):
            content_type = "text/csv"  # an upload from a browser that did not type it
        elif not content_type:
            has_file = _FILENAME.search(disposition) is not None
            content_type = "application/octet-stream" if has_file else "text/plain"
        content = sanitize_body(content, content_type, ctx, where)
    if decoded is not None:
        content = encoded if content == decoded else _to_base64(content, encoded)
    return new_head + separator + content + trailer


def _key_path(field: str, content: bytes, ctx: Context, where: str) -> bool:
    """Is ``content`` a storage path in a field named ``key`` (constants.key_path), in a
    response? (An S3 upload form's ``key`` is sent by a client, and what a client sends
    may be a password shaped like a path.) It is then read as any other field's text."""
    if len(content) > _KEY_PATH_MAX:
        return False
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return key_path(field, text, where, ctx.policy.secret_field.whole_only)


#: No storage path is longer (S3's longest key is 1,024 bytes).
_KEY_PATH_MAX = 1024


def _secret_content(content: bytes, ctx: Context, where: str) -> bytes:
    if not content or ctx.echo_only:
        return content
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        ctx.record(where)
        return ctx.pseudo.digest(content).encode()
    return ctx.secret(text, where).encode("utf-8", "surrogatepass")


def _from_base64(content: bytes) -> bytes | None:
    """A part's content sent as ``Content-Transfer-Encoding: base64``, decoded (None when
    it is not base64: it is then read as it is)."""
    try:
        return base64.b64decode(b"".join(content.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def _to_base64(content: bytes, encoded: bytes) -> bytes:
    """``content`` encoded again, wrapped as ``encoded`` was (its first line's length and
    line end)."""
    out = base64.b64encode(content)
    ending = b"\r\n" if b"\r\n" in encoded else b"\n"
    width = encoded.find(ending)
    if width <= 0:
        return out
    return ending.join(out[i : i + width] for i in range(0, len(out), width))
