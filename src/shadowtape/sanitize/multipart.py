"""multipart/form-data (and other multipart) bodies, part by part, bytes kept in place.

The body is split on its boundary by hand: each part's headers and content are handled
and everything else (preamble, delimiters, line endings, epilogue) is kept byte for byte.
A secret-named field's content is replaced; any other part is sanitized as a body of its
own content type (a JSON part is walked, a text part scanned, a binary file only echoed).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable

from shadowtape.sanitize.context import Context
from shadowtape.sanitize.csvbody import UNTYPED, csv_file

_NAME = re.compile(r"""(?:^|;)\s*name\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))""", re.I)
_FILENAME = re.compile(r"(?:^|;)\s*filename\*?\s*=", re.I)

BodyFn = Callable[[bytes, str, Context, str], bytes]


def sanitize_multipart(
    body: bytes, boundary: str, ctx: Context, base: str, sanitize_body: BodyFn
) -> bytes | None:
    """The sanitized body, or None when it does not hold a single delimited part."""
    try:
        delimiter = b"--" + boundary.encode("latin-1")
    except UnicodeEncodeError:
        return None
    chunks = body.split(delimiter)
    if len(chunks) < 2:
        return None
    loose = f"{base}.multipart"
    out = [sanitize_body(chunks[0], "text/plain", ctx, loose)]
    parsed = 0
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):  # the close delimiter, then the epilogue
            out.append(sanitize_body(chunk, "text/plain", ctx, loose))
            continue
        part = _part(chunk, ctx, base, sanitize_body)
        if part is None:  # cut short or malformed: still scanned as text
            out.append(sanitize_body(chunk, "text/plain", ctx, loose))
            continue
        parsed += 1
        out.append(part)
    return delimiter.join(out) if parsed else None


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
    new_head_text = ctx.text(head_text, where, fields=False)
    new_head = (
        head if new_head_text == head_text else new_head_text.encode("utf-8", "surrogateescape")
    )
    if field and policy.secret_field.matches(field):
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
