"""Bodies that are not text (protobuf, images, archives), scanned byte by byte.

Known secrets are echoed, then the token-format detectors (key blocks, JWT and JWE,
bearer tokens, API keys, webhook URLs, URL passwords, connection strings) run over the
bytes read one character per byte. A replacement keeps the length of what it replaces
where the pseudonym does (every token format here is ASCII, and so is its pseudonym), so
a length-prefixed format such as protobuf still parses. Nothing else is promised: a
secret stored compressed or encrypted inside a binary body is not found.
"""

from __future__ import annotations

from shadowtape.sanitize.context import ECHO_KIND, Context
from shadowtape.sanitize.detectors import TOKEN_KINDS


def sanitize_binary(body: bytes, ctx: Context, base: str) -> bytes:
    """``body`` with known secrets and token formats replaced; itself when none is found."""
    if ctx.echo:
        body = ctx.echo_bytes(body, f"{base}.binary:{ECHO_KIND}")
    if ctx.echo_only:
        return body
    text = body.decode("latin-1")
    changed = text
    for detector in ctx.policy.detectors:
        if detector.kind in TOKEN_KINDS and detector.may_occur(changed):
            changed = ctx.detect(changed, detector, f"{base}.binary:{detector.kind}")
    if changed is text:
        return body
    return changed.encode("latin-1", "replace")
