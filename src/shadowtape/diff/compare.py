"""Compare two responses to one request: errors, status, headers, body by content type.

The baseline side is ``a`` and the candidate side ``b``; the same function compares two
baselines (A/A) so the noise model learns from exactly what the candidate is judged by.
When the statuses differ, headers and bodies are not compared: the status says it all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from shadowtape.diff import json as jsondiff
from shadowtape.diff.headers import DEFAULT_POLICY, HeaderPolicy, diff_headers
from shadowtape.diff.model import Difference, Kind
from shadowtape.diff.text import decode, diff_text

_TEXT_TYPES = ("xml", "javascript", "x-www-form-urlencoded", "yaml", "csv", "html")
_DEFAULT_BODIES = frozenset({b"", b"{}", b"[]", b"null", b'""', b"0", b"false", b"ok", b"OK"})


@dataclass(slots=True)
class Side:
    """One response (or the error instead of it) as the differ sees it."""

    status: int | None = None
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    truncated: bool = False
    error_kind: str | None = None
    error_message: str | None = None

    @property
    def present(self) -> bool:
        return self.status is not None or self.error_kind is not None

    @property
    def failed(self) -> bool:
        """A transport error or a 5xx: what "an error" means for new and swallowed errors."""
        return self.error_kind is not None or (self.status is not None and self.status >= 500)

    def content_type(self) -> str:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value.lower()
        return ""

    def outcome(self) -> object:
        if self.error_kind is not None:
            return f"{self.error_kind}: {self.error_message or ''}".rstrip(": ")
        return self.status


@dataclass(frozen=True, slots=True)
class DiffSettings:
    tolerance: jsondiff.Tolerance = jsondiff.EXACT
    headers: HeaderPolicy = DEFAULT_POLICY


DEFAULT_SETTINGS = DiffSettings()


@dataclass(slots=True)
class Comparison:
    differences: list[Difference] = field(default_factory=list)
    #: Why part of the pair could not be checked: "truncated_body", "binary_body".
    notes: list[str] = field(default_factory=list)


def compare(a: Side, b: Side, settings: DiffSettings = DEFAULT_SETTINGS) -> Comparison:
    result = Comparison()
    if a.failed or b.failed:
        kind = _error_kind(a, b)
        if kind is not None:
            result.differences.append(Difference(kind, "status", a.outcome(), b.outcome()))
            return result
    if a.status != b.status or a.error_kind != b.error_kind:
        result.differences.append(Difference(Kind.STATUS, "status", a.outcome(), b.outcome()))
        return result
    if a.error_kind is not None:
        return result
    result.differences.extend(diff_headers(a.headers, b.headers, settings.headers))
    _compare_bodies(a, b, settings, result)
    return result


def _error_kind(a: Side, b: Side) -> Kind | None:
    if not a.failed and b.failed:
        return Kind.NEW_ERROR
    if a.failed and not b.failed:
        succeeded = b.status is not None and 200 <= b.status < 300
        if succeeded and (a.status in _DEPENDENCY_FAILURES or is_default_body(b.body)):
            return Kind.SWALLOWED_ERROR
        return Kind.FIXED_ERROR
    return None


#: Statuses that say a dependency failed. A build cannot fix an unavailable upstream, only
#: hide it: a success in their place is a swallowed error, whatever its body looks like.
_DEPENDENCY_FAILURES = frozenset({502, 503, 504})


def is_default_body(body: bytes) -> bool:
    """Empty, or JSON whose every leaf is a default value: what a swallowed error returns."""
    text = body.strip()
    if text in _DEFAULT_BODIES:
        return True
    try:
        doc = jsondiff.parse(text)
    except jsondiff.NotJSON:
        return False
    return _all_default(doc)


def _all_default(doc: object) -> bool:
    if isinstance(doc, dict):
        return all(_all_default(v) for v in doc.values())
    if isinstance(doc, list):
        return not doc
    return doc in (None, "", 0, False)


def body_class(side: Side, other: Side) -> str:
    """ "json", "text" or "binary", from the content type, else from the bytes."""
    ctype = side.content_type() or other.content_type()
    if "json" in ctype:
        return "json"
    if ctype.startswith("text/") or any(t in ctype for t in _TEXT_TYPES):
        return "text"
    if not ctype:
        head = side.body.lstrip()[:1]
        if head in (b"{", b"["):
            return "json"
        try:
            side.body.decode("utf-8")
            other.body.decode("utf-8")
        except UnicodeDecodeError:
            return "binary"
        return "text"
    return "binary"


def _compare_bodies(a: Side, b: Side, settings: DiffSettings, result: Comparison) -> None:
    if a.body == b.body and a.truncated == b.truncated:
        return
    if a.truncated or b.truncated:
        result.notes.append("truncated_body")
        return
    cls = body_class(a, b)
    if cls == "json":
        try:
            result.differences.extend(jsondiff.diff_bytes(a.body, b.body, settings.tolerance))
            return
        except jsondiff.NotJSON:
            cls = "text"
    if cls == "text":
        try:
            ta, tb = a.body.decode("utf-8"), b.body.decode("utf-8")
        except UnicodeDecodeError:
            ta = tb = ""
            cls = "binary"
        else:
            found = diff_text(ta, tb)
            if found is not None:
                result.differences.extend(found)
                return
    if cls == "binary":
        result.notes.append("binary_body")
    result.differences.append(Difference(Kind.DIGEST, "body", _digest(a.body), _digest(b.body)))


def _digest(body: bytes) -> str:
    return f"{len(body)} bytes, sha256 {hashlib.sha256(body).hexdigest()[:16]}"


__all__ = [
    "Comparison",
    "DiffSettings",
    "Side",
    "body_class",
    "compare",
    "decode",
    "is_default_body",
]
