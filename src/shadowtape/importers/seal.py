"""A seal on exported HAR entries, so an unchanged export is not sanitized twice.

Tapes hold pseudonyms, not secrets, and the Sanitizer's pseudonyms are format-preserving:
sanitizing one again gives a different pseudonym, so a tape -> HAR -> tape round trip
would change every redacted value. The exporter therefore signs each entry with an HMAC
under a key derived from SHADOWTAPE_SANITIZE_KEY; the importer writes an entry whose seal
verifies as it is. Any edit to the entry (or a different key, or no key) breaks the seal,
and the entry is sanitized like any other capture.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

import orjson

ENV_KEY = "SHADOWTAPE_SANITIZE_KEY"
_FIELD = "seal"


def _key() -> bytes | None:
    secret = os.environ.get(ENV_KEY, "")
    if not secret:
        return None
    return hmac.new(secret.encode(), b"shadowtape har export seal v1", hashlib.sha256).digest()


def _digest(key: bytes, entry: dict[str, Any]) -> str:
    extra = dict(entry.get("_shadowtape") or {})
    extra.pop(_FIELD, None)
    body = orjson.dumps({**entry, "_shadowtape": extra}, option=orjson.OPT_SORT_KEYS)
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def seal(entry: dict[str, Any]) -> None:
    """Add a seal to an exported entry (in place); nothing when no key is configured."""
    key = _key()
    if key is not None and isinstance(entry.get("_shadowtape"), dict):
        entry["_shadowtape"][_FIELD] = _digest(key, entry)


def is_sealed(entry: dict[str, Any]) -> bool:
    """Whether the entry is exactly as a shadowtape export under this key wrote it."""
    extra = entry.get("_shadowtape")
    key = _key()
    if key is None or not isinstance(extra, dict) or not isinstance(extra.get(_FIELD), str):
        return False
    # As bytes: compare_digest refuses a str with non-ASCII characters (a forged seal).
    given = extra[_FIELD].encode("utf-8", "surrogatepass")
    return hmac.compare_digest(given, _digest(key, entry).encode())
