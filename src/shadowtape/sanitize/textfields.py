"""Secret-named fields inside free text that could not be parsed as a structure.

A truncated or malformed JSON body, an HTML page, an XML document or a log line still
carries ``"password": "..."``, ``token=...``, ``<secret>...</secret>`` or
``<input name="csrf_token" value="...">``. These are found by name, with the same name
rules as parsed fields, so a body that does not parse loses nothing but its structure.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import orjson

from shadowtape.sanitize.names import ascii_lower

if TYPE_CHECKING:
    from shadowtape.sanitize.context import Context

FIELD_KIND = "field"

#: "name": "value" in JSON (also cut short), name: "value" in GraphQL or JavaScript.
_PAIR = re.compile(
    r'(?:"(?P<k>[^"\\\n]{1,100})"|(?<![\w"\-.])(?P<b>[A-Za-z_][\w\-]{0,63}))\s*:\s*'
    r'(?:"(?P<s>(?:[^"\\\n]|\\.)*)(?:"|\Z)|(?P<n>-?\d[\d.eE+\-]{0,30})(?![\w.]))'
)
#: name: value on a line of its own (YAML, logs, headers in a text dump).
_LINE = re.compile(
    r"^[ \t]*(?:-[ \t]+)?(?P<k>[A-Za-z_][\w.\-]{0,63})[ \t]*:[ \t]+"
    r"""(?P<v>[^\s"'#{\[][^\r\n]*?)[ \t]*$""",
    re.MULTILINE,
)
_ASSIGN = re.compile(
    r"(?<![\w\-.%])(?P<k>[A-Za-z_][\w.\-]{0,63})=(?!=)"
    r"""(?:"(?P<dq>[^"\n]*)"|'(?P<sq>[^'\n]*)'|(?P<v>[^&\s"'<>;,]+))"""
)
_ELEMENT = re.compile(
    r"<(?P<k>[A-Za-z_][\w.\-:]{0,63})(?:\s[^<>]*)?>(?P<v>[^<]{1,4096})</(?P=k)\s*>"
)
_INPUT = re.compile(r"<input\b[^<>]*>", re.IGNORECASE)
_ATTR = re.compile(r"""\b(?P<k>name|value)\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)')""", re.I)


#: Characters of a field name, lower-cased: walking back over them from a hint finds
#: where the name starts. A second start stops at "." and ":" ("obj.password").
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-.:")
_IDENT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")
#: An <input> tag is looked for this far before a hint found in its name attribute.
_TAG_REACH = 400

Edit = tuple[int, int, str]


def scan_fields(text: str, ctx: Context, location: str, *, kind: bool) -> str:
    """Replace values of secret-named fields in ``text``; unchanged text is returned as is.

    Rather than running every pattern over the whole text, each occurrence of a name hint
    (see NameMatcher.hints) gives the start of a candidate name, and the patterns are only
    tried there: a large script or stylesheet costs a few ``find`` calls.
    """
    policy = ctx.policy
    if not ("=" in text or ":" in text or "</" in text):
        return text
    lowered = ascii_lower(text)
    hints = policy.secret_field.hints
    if hints is None:  # a rule without a literal word: try everywhere
        starts: set[int] = set(range(len(text)))
    else:
        starts = _name_starts(lowered, hints)
    if not starts:
        return text
    where = f"{location}:{FIELD_KIND}" if kind else location
    finder = _Finder(text, lowered, ctx, where)
    for start in sorted(starts):
        finder.at(start)
    return finder.apply()


def _name_starts(lowered: str, hints: tuple[str, ...]) -> set[int]:
    starts: set[int] = set()
    for hint in hints:
        at = lowered.find(hint)
        while at >= 0:
            for chars in (_NAME_CHARS, _IDENT_CHARS):
                start = at
                while start > 0 and lowered[start - 1] in chars:
                    start -= 1
                starts.add(start)
            at = lowered.find(hint, at + len(hint))
    return starts


class _Finder:
    """Tries each pattern at a candidate name start and collects the edits to make."""

    def __init__(self, text: str, lowered: str, ctx: Context, where: str) -> None:
        self.text = text
        self.lowered = lowered
        self.ctx = ctx
        self.where = where
        self.edits: dict[int, Edit] = {}

    def secret(self, name: str) -> bool:
        policy = self.ctx.policy
        return policy.secret_field.matches(name) and not policy.allowed_field.matches(name)

    def at(self, start: int) -> None:
        text = self.text
        before = text[start - 1] if start > 0 else ""
        if before == '"':
            self._pair(_PAIR.match(text, start - 1))
        self._pair(_PAIR.match(text, start))
        self._assign(_ASSIGN.match(text, start))
        line_start = text.rfind("\n", 0, start) + 1
        if text[line_start:start].strip(" \t-") == "":
            self._line(_LINE.match(text, line_start))
        if before == "<":
            self._element(_ELEMENT.match(text, start - 1))
        tag = self.lowered.rfind("<input", max(0, start - _TAG_REACH), start)
        if tag >= 0:
            self._input(_INPUT.match(text, tag))

    def apply(self) -> str:
        if not self.edits:
            return self.text
        pieces: list[str] = []
        done = 0
        for start, end, new in sorted(self.edits.values()):
            if start < done:
                continue
            pieces += (self.text[done:start], new)
            done = end
        pieces.append(self.text[done:])
        return "".join(pieces)

    def _edit(self, start: int, end: int, new: str) -> None:
        # Where two patterns read a value at the same place, the longer reading wins:
        # "password: 4045 0000 0000 0009" is a line's whole value, not the number 4045
        # (which left twelve digits of a card on disk).
        known = self.edits.get(start)
        if end > start and (known is None or end > known[1]):
            self.edits[start] = (start, end, new)

    def _pair(self, found: re.Match[str] | None) -> None:
        if found is None or not self.secret(found.group("k") or found.group("b")):
            return
        group = "s" if found.group("s") is not None else "n"
        value = found.group(group)
        if not value:
            return
        if group == "s":
            new = _json_string_secret(value, self.ctx, self.where)
        else:
            new = self.ctx.secret(value, self.where)
            if new.startswith("0") and len(new) > 1:
                new = "1" + new[1:]
        self._edit(*found.span(group), new)

    def _line(self, found: re.Match[str] | None) -> None:
        if found is not None and self.secret(found.group("k")):
            self._edit(*found.span("v"), self.ctx.secret(found.group("v"), self.where))

    def _assign(self, found: re.Match[str] | None) -> None:
        if found is None or not self.secret(found.group("k")):
            return
        group = next(g for g in ("dq", "sq", "v") if found.group(g) is not None)
        self._edit(*found.span(group), self.ctx.secret(found.group(group), self.where))

    def _element(self, found: re.Match[str] | None) -> None:
        if found is None or not self.secret(found.group("k").rpartition(":")[2]):
            return
        if found.group("v").strip():
            self._edit(*found.span("v"), self.ctx.secret(found.group("v"), self.where))

    def _input(self, found: re.Match[str] | None) -> None:
        if found is None:
            return
        attrs = {m.group("k").lower(): m for m in _ATTR.finditer(found.group(0))}
        name, value = attrs.get("name"), attrs.get("value")
        if name is None or value is None:
            return
        if not self.secret(name.group("dq") if name.group("dq") is not None else name.group("sq")):
            return
        group = "dq" if value.group("dq") is not None else "sq"
        start, end = value.span(group)
        offset = found.start()
        self._edit(start + offset, end + offset, self.ctx.secret(value.group(group), self.where))


def _json_string_secret(escaped: str, ctx: Context, where: str) -> str:
    """Replace a JSON string's content, keeping it a valid JSON string where it was one."""
    try:
        raw = orjson.loads(f'"{escaped}"')
    except orjson.JSONDecodeError:
        # Cut mid-escape (a truncated body): escapes are punctuation, the rest is shaped.
        return ctx.secret(escaped, where)
    if not isinstance(raw, str):  # pragma: no cover - a JSON string always decodes to str
        return escaped
    return orjson.dumps(ctx.secret(raw, where)).decode()[1:-1]
