"""Bodies by declared content type, with a text scan as the fallback for everything.

JSON is walked (jsonbody.py), MessagePack converted to JSON and walked (msgpackbody.py),
form bodies are split into pairs (urls.py), multipart bodies into parts (multipart.py),
CSV columns are read by their header (csvbody.py), and any other body that decodes as
text (HTML, XML, YAML, plain, a body that does not parse as its declared type) is
scanned as free text. A body that is not text at all is scanned byte by byte for known
secrets and token formats (binary.py). Bodies reach the sanitizer decoded (no
Content-Encoding applied).
"""

from __future__ import annotations

import codecs

import re2

from shadowtape.sanitize import urls
from shadowtape.sanitize.binary import sanitize_binary
from shadowtape.sanitize.context import Context
from shadowtape.sanitize.csvbody import CSV_TYPES, UNTYPED, csv_file, looks_like_csv, sanitize_csv
from shadowtape.sanitize.jsonbody import sanitize_json
from shadowtape.sanitize.msgpackbody import MSGPACK_TYPES, sanitize_msgpack
from shadowtape.sanitize.multipart import sanitize_multipart

FORM = "application/x-www-form-urlencoded"
_TEXT_TYPES = frozenset(
    {
        "application/xml",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "application/graphql",
        "application/yaml",
        "application/x-yaml",
        "application/csv",
        "application/sql",
        "application/xhtml+xml",
        "application/problem+xml",
        "application/soap+xml",
        "application/x-sh",
        "application/x-www-form-urlencoded",
    }
)
_UTF8 = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})


def content_type_of(headers: list[tuple[str, str]]) -> str:
    """The ``Content-Type``; ``text/csv`` for an untyped body (none, or
    ``application/octet-stream``) whose ``Content-Disposition`` names a ``.csv`` file."""
    content_type = disposition = ""
    for name, value in headers:
        lowered = name.lower()
        if lowered == "content-type" and not content_type:
            content_type = value
        elif lowered == "content-disposition":
            disposition = value
    if disposition and csv_file(disposition):
        mime, _ = parse_content_type(content_type)
        if mime in UNTYPED:
            return "text/csv"
    return content_type


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """``text/html; charset=UTF-8`` -> ``('text/html', {'charset': 'UTF-8'})``."""
    mime, *rest = value.split(";")
    params: dict[str, str] = {}
    for item in rest:
        key, eq, param = item.partition("=")
        if eq:
            params[key.strip().lower()] = param.strip().strip('"')
    return mime.strip().lower(), params


def is_json(mime: str) -> bool:
    return mime.endswith(("/json", "+json")) or "json" in mime


def is_text(mime: str) -> bool:
    return (
        not mime
        or mime.startswith("text/")
        or mime.endswith("+xml")
        or is_json(mime)
        or mime in _TEXT_TYPES
    )


def sanitize_body(body: bytes, content_type: str, ctx: Context, base: str) -> bytes:
    """The sanitized body; ``body`` itself when nothing was replaced."""
    if not body:
        return body
    mime, params = parse_content_type(content_type)
    if mime.startswith("multipart/") and params.get("boundary"):
        out = sanitize_multipart(body, params["boundary"], ctx, base, sanitize_body)
        if out is not None:
            return out
    if mime in MSGPACK_TYPES:
        packed = sanitize_msgpack(body, ctx, base)
        if packed is not None:
            return packed
        # Not MessagePack JSON can hold: read as any other body, as text when it is
        # (a part labelled MessagePack that holds JSON), else as bytes.
    decoded = _decode(body, mime, params.get("charset", ""))
    if decoded is None:
        return sanitize_binary(body, ctx, base)
    text, charset = decoded
    new = _sanitize_text(text, mime, ctx, base)
    if new is text or new == text:
        return body
    return _encode(new, charset)


#: The characters a secret cut short at the end of a truncated body is made of.
_TAIL = re2.compile(rb"[A-Za-z0-9._%+\-@=/:~]{4,}\z")
#: ... or a card number cut short: digit groups split by spaces or dashes.
_TAIL_DIGITS = re2.compile(rb"[0-9][0-9 \-]{4,30}\z")


def cut_tail(body: bytes, ctx: Context, base: str) -> bytes:
    """Replace the token a truncated body ends with: it may be a secret cut short.

    A JWT, card number or e-mail address cut in the middle no longer looks like one, so
    no detector would find it; the last run of token characters is replaced instead.
    """
    if not body or ctx.echo_only:
        return body
    end = body[-512:]
    found = [m.group(0) for m in (_TAIL.search(end), _TAIL_DIGITS.search(end)) if m is not None]
    if not found:
        return body
    tail = max(found, key=len).decode("ascii")
    if not any(char.isalnum() for char in tail) or tail in ctx.outputs:
        return body
    ctx.record(f"{base}.text:truncated")
    return body[: len(body) - len(tail)] + ctx.pseudo(tail).encode("ascii", "replace")


def _sanitize_text(text: str, mime: str, ctx: Context, base: str) -> str:
    bom = text.startswith("\ufeff")
    content = text[1:] if bom else text
    start = content.lstrip()[:1]
    if mime == FORM and start not in ("{", "["):
        return urls.params(text, ctx, lambda name: f"{base}.form.{name}")  # links too
    urls.link_tokens(text, ctx)
    if mime in CSV_TYPES or (mime == "text/plain" and looks_like_csv(content)):
        text = sanitize_csv(text, ctx, base)
        return ctx.text(text, f"{base}.text", kind=True, fields=True)
    looks_json = start in ("{", "[") or (is_json(mime) and bool(start))
    if looks_json and "html" not in mime and "xml" not in mime:
        out = sanitize_json(content, ctx, base)
        if out is not None:
            return text if out is content else ("\ufeff" + out if bom else out)
    return ctx.text(text, f"{base}.text", kind=True, fields=True)


def _decode(body: bytes, mime: str, charset: str) -> tuple[str, str] | None:
    charset = charset.strip().lower()
    if charset and charset not in _UTF8:
        try:
            codecs.lookup(charset)
            return body.decode(charset), charset
        except (LookupError, UnicodeDecodeError, ValueError):
            pass
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if (mime and is_text(mime)) or charset:
        return body.decode("latin-1"), "latin-1"
    return None


def _encode(text: str, charset: str) -> bytes:
    try:
        return text.encode(charset)
    except (UnicodeEncodeError, LookupError):
        return text.encode("utf-8", "surrogatepass")
