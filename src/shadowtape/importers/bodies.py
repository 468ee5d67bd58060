"""Bodies as text and back: HAR carries text, tapes carry bytes.

HAR writers decode a body with its declared charset and store the text, or store
base64 when it is binary. Encoding that text back with the same charset gives the bytes
that crossed the wire, and the exporter does the reverse, choosing base64 whenever the
text would not give the same bytes back, so a body survives tape -> HAR -> tape exactly.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re

_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)


def charset_of(content_type: str | None) -> str | None:
    """The codec name a Content-Type declares, if Python knows it."""
    if not content_type:
        return None
    match = _CHARSET.search(content_type)
    if not match:
        return None
    try:
        return codecs.lookup(match.group(1)).name
    except LookupError:
        return None


def text_to_bytes(text: str, content_type: str | None) -> bytes:
    """Text a capture tool decoded, as the bytes it came from (UTF-8 when unsure)."""
    charset = charset_of(content_type)
    if charset and charset != "utf-8":
        try:
            return text.encode(charset)
        except UnicodeEncodeError:
            pass
    return text.encode("utf-8", errors="surrogatepass")


def bytes_to_text(body: bytes, content_type: str | None) -> tuple[str, bool]:
    """(text, is_base64): text when it encodes back to exactly these bytes."""
    charset = charset_of(content_type) or "utf-8"
    for codec in dict.fromkeys((charset, "utf-8")):
        try:
            text = body.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        if text_to_bytes(text, content_type) == body:
            return text, False
    return base64.b64encode(body).decode("ascii"), True


def decode_base64(text: str) -> bytes:
    """Base64 as HAR writers produce it (padding and line breaks vary). ValueError if bad."""
    cleaned = "".join(text.split())
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned, validate=True)
    except binascii.Error:
        try:
            return base64.urlsafe_b64decode(cleaned)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"invalid base64 ({exc})") from None
