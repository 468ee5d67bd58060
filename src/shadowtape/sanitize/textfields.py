"""Secret-named fields inside free text that could not be parsed as a structure.

A truncated or malformed JSON body, an HTML page, an XML document, a YAML, INI, ``.env``
or properties file, a command line, source code or a log line still carries
``"password": "..."``, ``token=...``, ``password = "..."``, ``--db-password x``,
``<secret>...</secret>`` (CDATA too), ``{Host:db Password:...}`` (a Go ``%+v`` dump) or
``<input name=csrf_token value=...>`` (and
``<meta name="csrf-token" content="...">``, ``<add key="ApiKey" value="..."/>``). These
are found by name, with the same name rules as parsed fields, so a body that does not
parse loses nothing but its structure. Lines may end in LF, CRLF or CR.
"""

from __future__ import annotations

import heapq
import re
from typing import TYPE_CHECKING

import orjson

from shadowtape.sanitize import (
    constants,
    fieldstarts,
    godump,
    kubeyaml,
    mdtable,
    params,
    relaystate,
    splice,
)
from shadowtape.sanitize.constants import kept, symbol_or_path
from shadowtape.sanitize.names import PAIR_NAMES, ascii_lower, normalise, words
from shadowtape.sanitize.splice import Span

if TYPE_CHECKING:
    from shadowtape.sanitize.context import Context

FIELD_KIND = "field"

# Each pattern is tried anchored at a candidate name, never searched for, and every
# quantifier is bounded or possessive (``*+``: never gives back), so one try reads its
# name, separator and value once; _Finder keeps tries from reading the same text again.

#: "name": "value" in JSON (also cut short), name: "value" in GraphQL or JavaScript,
#: 'name': 'value' and 'name' => 'value' in Python, PHP or Ruby, name: 'value' in YAML.
_PAIR = re.compile(
    r"""(?:"(?P<k>[^"\\\n]{1,100})"|'(?P<q>[^'\\\n]{1,100})'"""
    r"""|(?<![\w"'\-.])(?P<b>[A-Za-z_][\w.\-]{0,63}+))\s*+(?::|=>)\s*+"""
    r"""(?:"(?P<s>(?:[^"\\\n]++|\\.)*+)(?:"|\Z)|'(?P<sq>(?:[^'\\\n]++|\\.)*+)(?:'|\Z)"""
    r"""|(?P<n>-?\d[\d.eE+\-]{0,30})(?![\w.]))"""
)
#: name: value on a line of its own (YAML, logs, headers in a text dump), and name:value
#: (Java properties); the value is the rest of the line (see _Finder._line), trailing
#: blanks left out, or a YAML block scalar (``password: |``, ``>-``): the lines below.
_LINE = re.compile(
    r"[ \t]*+(?:-[ \t]++)?(?P<k>[A-Za-z_][\w.\-]{0,63}+)[ \t]*+:(?P<b>[ \t]*+)"
    r"""(?=[^\s"'#{\[])"""
)
#: A block scalar's header: ``|`` or ``>``, with a chomping and indentation indicator.
_BLOCK = re.compile(r"[|>][0-9+\-]{0,3}+[ \t]*+(?:#[^\r\n]*+)?(?=\r|\n|\Z)")
#: name=value, then the value: quoted, or a run of _RUN characters. Blanks around "="
#: (INI, source code) are read once each (possessive), however many there are.
_ASSIGN = re.compile(
    r"(?<![\w\-.%])(?P<k>[A-Za-z_][\w.\-]{0,63}+)(?P<sp>[ \t]*+)=(?!=)(?P<sp2>[ \t]*+)"
)
#: A command-line flag: --name=value, --name value, -Dname=value (a start at its dashes).
#: The value may start with a dash (-Dpassword=-x1, --password -A00x1); after a blank, a
#: word of letters and dashes (--verbose, -v) is the next flag, not a value.
_FLAG = re.compile(
    r"(?<![\w\-.%])(?P<d>-{1,2}+)(?P<k>[A-Za-z_][\w.\-]{0,63}+)"
    r"(?:=|[ \t]++(?!--?+[A-Za-z][A-Za-z\-]*+(?:[\s=]|\Z)))(?=[^\s=])"
)
#: An assignment is a whole line's (INI, .env, properties) when only these open the line.
_LINE_OPENERS = re.compile(r"[ \t]*+(?:export[ \t]++|set[ \t]++)?")
#: A setting's name at a line's start: an environment variable's (capitals) or a
#: property's (dotted).
_SETTING = re.compile(r"[A-Z][A-Z0-9_]{0,63}|[A-Za-z_][\w\-]{0,63}(?:\.[\w\-]{1,63}){1,8}")
_QUOTED = {'"': re.compile(r'"([^"\n]*+)"'), "'": re.compile(r"'([^'\n]*+)'")}
#: What ``\s`` matches (``str.isspace``), listed: a class of listed characters is read
#: about twice as fast as one with ``\s`` in it, and a value's run is read whole. None
#: is past U+3000 (test_textfields holds the list to every code point).
SPACES = "".join(char for char in map(chr, range(0x3001)) if char.isspace())
_RUN = re.compile(f"[^{re.escape('&' + SPACES)}\"'<>;,]++")
#: A run for a command-line value: up to the next blank or quote.
_WORD = re.compile(f"[^{re.escape(SPACES)}\"'<>]++")
_ELEMENT = re.compile(
    r"<(?P<k>[A-Za-z_][\w.\-:]{0,63}+)(?:\s[^<>]*+)?>"
    r"(?:<!\[CDATA\[(?P<c>[^\]]{1,4096}+)\]\]>|(?P<v>[^<]{1,4096}+))</(?P=k)\s*+>"
)
#: A name as an element's text, then the element holding its value:
#: ``<key>password</key><string>...</string>`` (a property list) and
#: ``<name>password</name><value>...</value>``; a start is at the name.
_PAIR_ELEMENT = re.compile(
    r"(?P<k>[A-Za-z_][\w.\-]{0,63}+)[ \t]*+</(?P<t>[A-Za-z_][\w.\-:]{0,63}+)>\s{0,256}+"
    r"<(?P<vt>[A-Za-z_][\w.\-:]{0,63}+)(?:\s[^<>]{0,1024}+)?>"
    r"(?:<!\[CDATA\[(?P<c>[^\]]{1,4096}+)\]\]>|(?P<v>[^<]{1,4096}+))</(?P=vt)\s*+>"
)
#: A name in a table cell, then the next cell holding its value (a framework's debug
#: page lists settings and request headers so: ``<td>DB_PASSWORD</td><td
#: class="code"><pre>...</pre></td>``); a start is at the name.
_CELL = re.compile(
    r"(?P<k>[A-Za-z_][\w.\-]{0,63}+)[ \t]*+</t[dh]>\s{0,256}+<t[dh](?:\s[^<>]{0,1024}+)?>"
    r"\s{0,256}+(?:<(?:pre|code|div|span|samp|tt)(?:\s[^<>]{0,256}+)?>\s{0,256}+)?"
    r"(?P<v>[^<]{1,4096}+)<"
)
#: A cell's value in quotes, plain or HTML-escaped (Django prints ``repr(value)``).
_CELL_QUOTED = re.compile(
    r"(?P<q>'|\"|&#x27;|&#39;|&#039;|&apos;|&quot;|&#34;|&#x22;)(?P<v>.*)(?P=q)", re.S
)
#: A value masked by the page itself (Django's ``'********************'``).
_MASK = re.compile(r"[*\u2022]+|x{3,}|X{3,}")
#: A value's character references and backslash escapes, and the runs between them.
_ESCAPE_OR_RUN = re.compile(r"&#?\w{1,32};|\\.|(?P<run>(?:[^&\\]|&(?!#?\w{1,32};))++)", re.S)
_NAME_TEXT = re.compile(r"[A-Za-z_][\w.\-]{0,63}")
#: The elements that hold a named value: a property list's, and ``<value>``.
_NEXT_ELEMENT = re.compile(
    r"\s{0,256}+<(?:string|integer|real|true|false|date|data|dict|array|value|val)\b", re.I
)
_TAG = re.compile(r"<[A-Za-z][\w.\-:]{0,63}+\b[^<>]*+>")
_ATTR = re.compile(
    r"""(?<![\w\-])(?P<k>name|key|property|value|content)\s*+=\s*+"""
    r"""(?:"(?P<dq>[^"]*+)"|'(?P<sq>[^']*+)'|(?P<uq>[^\s"'<>=`]++))""",
    re.I,
)
#: The attributes that name a field, and those that hold its value.
_NAMING = ("name", "key", "property")
_VALUING = ("value", "content")
_BLANKS = re.compile(r"[ \t\-]*+")
#: A ``key="..."`` attribute's tag is looked for this far back (see _names_a_field).
_TAG_REACH = 400
#: No name (with its quotes) is longer: a name starting further back than this from the
#: end of a replaced value cannot reach past it.
_NAME_REACH = 102

#: The whitespace characters (str.isspace) a line's value may end in but keeps: not a
#: blank, nor a line break (a value ends before one).
_NOT_BLANK_SPACES = tuple(
    char for char in map(chr, range(0x3001)) if char.isspace() and char not in " \t\r\n"
)

#: (start, end, how): how the value is replaced ("json" string, "number", "text", or
#: "url": a return URL scanned as one, see relaystate.py).
Edit = tuple[int, int, str]


def scan_fields(
    text: str,
    ctx: Context,
    location: str,
    *,
    kind: bool,
    made: list[Span] | None = None,
    unquote: bool = True,
) -> str:
    """Replace values of secret-named fields in ``text``; unchanged text is returned as is.
    ``made``: see splice.splice.

    Rather than running every pattern over the whole text, the patterns are only tried
    where fieldstarts finds a name holding a hint (see NameMatcher.hints) that a value
    can follow, and at tags naming such a field: a large script or stylesheet costs one
    RE2 pass.
    """
    if not may_hold_fields(text):
        return text
    lowered = ascii_lower(text)
    finder = _Finder(text, lowered, ctx, f"{location}:{FIELD_KIND}" if kind else location)
    fieldstarts.try_candidates(text, lowered, ctx.policy.secret_field, ctx, finder)
    whole_only = ctx.policy.secret_field.whole_only
    labels = constants.label_at(finder.where)
    cells = mdtable.secret_cells(text, finder.secret, whole_only, ctx.spend, labels=labels)
    for start, end in cells:
        finder.take(start, end)
    for start, end in kubeyaml.secret_values(text, ctx.spend):
        finder.take(start, end)
    view = _unquoted(text) if unquote else None
    if view is not None:
        # JSON in an HTML attribute or a JavaScript string: its fields are read with
        # their quotes put back, and the values found (now known secrets) are replaced
        # in ``text`` by the echo that follows a field scan (context.text).
        # Once: what is escaped twice is JSON stringified, which jsonwalk parses.
        scan_fields(view, ctx, location, kind=kind, unquote=False)
    return finder.apply(made)


#: Quotes and arrows written escaped, as JSON is in an HTML attribute (``&quot;``) or
#: in a JavaScript string (``\"``), and as a framework's debug page prints a Python
#: dict (``{&#x27;PASSWORD&#x27;: ...}``, Django) or a Ruby hash (``"password"=&gt;``,
#: Rails): each with what it stands for.
_ESCAPES = (
    ("&quot;", '"'),
    ("&#34;", '"'),
    ("&#x22;", '"'),
    ('\\"', '"'),
    ("&#x27;", "'"),
    ("&#39;", "'"),
    ("&#039;", "'"),
    ("&apos;", "'"),
    ("=&gt;", "=>"),
)


#: The escapes of _ESCAPES that hold "&" ("=&gt;" holds "&gt;").
_AMP_ESCAPE = re.compile(r"&(?:quot|#34|#x22|#x27|#0?39|apos|gt);")


def _reference(value: str | int) -> bool:
    """``PGPASSWORD=$PGPASS``, ``token=${TOKEN}``: a variable names the value, holds none."""
    return isinstance(value, str) and constants.reference(value)


def _unquoted(text: str) -> str | None:
    """``text`` with its escaped quotes written plain, or None when it has none."""
    # Two scans rule out nine, mostly; a text with "&" between pairs (a form) is then
    # asked about the eight escapes with "&" at once, in one pass from each "&".
    amp, backslash = "&" in text, "\\" in text
    amp = amp and _AMP_ESCAPE.search(text) is not None
    if not (amp or backslash):
        return None
    found = [
        (escape, plain)
        for escape, plain in _ESCAPES
        if (backslash if escape[0] == "\\" else amp) and escape in text
    ]
    for escape, plain in found:
        text = text.replace(escape, plain)
    return text if found else None


def may_hold_fields(text: str) -> bool:
    """False only when no pattern here can find a field in ``text`` (a quick test)."""
    return (
        "=" in text
        or ":" in text
        or "</" in text
        or " -" in text
        or text.startswith("-")
        or mdtable.may_hold_table(text)
    )


def may_hold_text_fields(document: str) -> bool:
    """Could a string inside this JSON document hold a field (``token=...``, ``<secret>``,
    ``password: x`` as YAML, ``--password x``, a markdown table, a Go dump)? False only
    when none can."""
    return (
        "=" in document
        or "</" in document
        or ": " in document
        or " -" in document
        or mdtable.may_hold_table(document)
        or godump.may_hold_dump(document)
    )


def _is_separator(char: str) -> bool:
    return char.isspace() or char in ":=\"'"


class _Finder:
    """Tries each pattern at a candidate name start and collects the edits to make.

    Candidates come in order. Edits are only collected (a value is replaced in apply,
    once it is known which edits win), and a candidate inside a value already certain
    to be replaced is skipped when nothing it could find would reach past that value:
    ``password=`` repeated is one value, not one per repeat.
    """

    def __init__(self, text: str, lowered: str, ctx: Context, where: str) -> None:
        self.text = text
        self.lowered = lowered
        self.ctx = ctx
        self.where = where
        self.edits: dict[int, Edit] = {}
        self._pending: list[int] = []
        self._won = (-1, -1)  # the last edit certain to be applied
        self._line_start = 0
        self._line_scanned = 0
        self._first_blank_end: dict[int, int] = {}
        self._run = (0, 0)
        self._valued_tags: dict[int, bool] = {}
        self._kept = False  # a value at this candidate was kept for its shape

    def secret(self, name: str) -> bool:
        policy = self.ctx.policy
        return policy.secret_field.matches(name) and not policy.allowed_field.matches(name)

    def at(self, start: int) -> bool:
        """Try every pattern at a candidate name start; True when a value was found.

        Starts come in order, after the tags: an edit before ``start`` is then known to
        be applied or not.
        """
        known = len(self.edits)
        self._try(start)
        return len(self.edits) > known or (self._kept and self._count_kept())

    def _try(self, start: int) -> None:
        """Try every pattern at ``start``: edits collected, ``_kept`` set when a value
        was kept for its shape."""
        self._kept = False
        text = self.text
        before = text[start - 1] if start > 0 else ""
        self._settle(start)
        won_start, won_end = self._won
        if not (
            won_start < start
            and start + _NAME_REACH < won_end
            and before != "<"
            and not _is_separator(text[won_end - 1])
        ):
            if before in "\"'" and before:
                self._pair(_PAIR.match(text, start - 1))
            self._pair(_PAIR.match(text, start))
            self._assign(start)
            if text.startswith("-", start):
                self._flag(_FLAG.match(text, start))
            if start <= self._first_blank_end_of(self._line_of(start)):
                self._line(_LINE.match(text, self._line_of(start)))
            if before and before in "{[ ":
                self._go_field(start)
            if before == "<":
                self._element(_ELEMENT.match(text, start - 1))
            elif before == ">":
                self._pair_element(_PAIR_ELEMENT.match(text, start))
                self._cell(_CELL.match(text, start))

    def _count_kept(self) -> bool:
        """Is a value kept for its shape paid for as a replaced one is (Context.kept)?

        A listing of a thousand object keys (``<Key>photos/a.jpg</Key>``) reads as many
        fields as one of a thousand secrets, and is no denser: such values are bounded
        by the step's redaction limit, once for a text and once for its unescaped view,
        and only past that charged as candidates that found nothing.
        """
        return self.ctx.keep(len(self.edits))

    def kept(self, token: str) -> bool:
        """Would a try at the name in ``token`` (fieldstarts.TOKEN: a blank, ``name=value``
        of letters, digits and ``_``, a blank or line break) find nothing to replace,
        wherever the token stands? Asked of the token alone, as a try there reads
        nothing outside it: the blank before the name (the look-behinds, ``_go_field``),
        the name and ``=`` (``_PAIR`` wants ``:`` or ``=>``, ``_LINE`` and ``_FIELD``
        ``:``, ``_flag`` a dash), the value up to the blank or line break after it
        (``_RUN`` stops there; without blanks around ``=`` the line's start is not
        read); and the value found is judged by the name and itself only."""
        alone = _Finder(token, ascii_lower(token), self.ctx, self.where)
        alone._try(1)  # not at(): a value kept for its shape is kept in every copy
        return not alone.edits

    def take(self, start: int, end: int) -> None:
        """Replace ``text[start:end]`` (found by another reader: a table's cell)."""
        self._edit(start, end, "text")

    def tag(self, tag: int) -> bool:
        """A tag that may name a secret field in an attribute (``<input name=...>``);
        True when it does."""
        edit = self._read_input(tag)
        if edit is not None:
            self._edit(*edit)
        return edit is not None

    def apply(self, made: list[Span] | None = None) -> str:
        if not self.edits:
            return self.text
        replaced: list[splice.Edit] = []
        done = 0
        for start, end, how in sorted(self.edits.values()):
            if start < done:
                continue
            value = self.text[start:end]
            new = self._replace(value, how)
            if new is not value:  # a return URL that holds no secret is no pseudonym
                replaced.append((start, end, new))
            done = end
        return splice.splice(self.text, replaced, made)

    def _replace(self, value: str, how: str) -> str:
        if how == "url":
            # A late import: urls imports context, which imports this module.
            from shadowtape.sanitize import urls

            self.ctx.spend(urls.URL_COST)
            return urls.url(value, self.ctx, self.where)
        if how == "json":
            return _json_string_secret(value, self.ctx, self.where)
        new = self.ctx.secret(value, self.where)
        if how == "number" and new.startswith("0") and len(new) > 1:
            new = "1" + new[1:]
        return new

    def _settle(self, before: int) -> None:
        """Decide the edits starting before ``before``: none still to come can start there."""
        pending = self._pending
        while pending and pending[0] < before:
            start, end, _ = self.edits[heapq.heappop(pending)]
            if start >= self._won[1]:
                self._won = (start, end)

    def _line_of(self, start: int) -> int:
        """Where the line holding ``start`` begins (after LF, or CR alone)."""
        found = max(
            self.text.rfind("\n", self._line_scanned, start),
            self.text.rfind("\r", self._line_scanned, start),
        )
        if found >= 0:
            self._line_start = found + 1
        self._line_scanned = max(self._line_scanned, start)
        return self._line_start

    def _first_blank_end_of(self, line_start: int) -> int:
        """Where the blanks and dashes that open a line end."""
        end = self._first_blank_end.get(line_start)
        if end is None:
            found = _BLANKS.match(self.text, line_start)
            end = self._first_blank_end[line_start] = found.end() if found else line_start
        return end

    def _edit(self, start: int, end: int, how: str) -> None:
        # Where two patterns read a value at the same place, the longer reading wins:
        # "password: 4045 0000 0000 0009" is a line's whole value, not the number 4045
        # (which left twelve digits of a card on disk).
        known = self.edits.get(start)
        if end > start and (known is None or end > known[1]):
            if known is None:
                heapq.heappush(self._pending, start)
                self.ctx.expect(len(self.edits) + 1)
            self.edits[start] = (start, end, how)

    def _pair(self, found: re.Match[str] | None) -> None:
        name = found and (found.group("k") or found.group("q") or found.group("b"))
        if found is None or not name or not self.secret(name):
            return
        group = next(g for g in ("s", "sq", "n") if found.group(g) is not None)
        value = found.group(group)
        number = group == "n" and value.isdigit() and len(value) <= 3  # is_symbol's size
        if value and not self._symbol(name, int(value) if number else value):
            how = {"s": "json", "sq": "text", "n": "number"}[group]
            self._edit(*found.span(group), how)

    def _symbol(self, name: str, value: str | int) -> bool:
        """A constant's name, a small code or a storage path under ``code`` or ``key``
        (constants.symbol_or_path), or under any name a label or a placeholder
        (constants.stands_in)."""
        kept = isinstance(value, str) and constants.stands_in(value, name, self.where)
        paths = constants.label_at(self.where)
        whole = self.ctx.policy.secret_field.whole_only
        if kept or (symbol_or_path(value, paths=paths) and whole(name)):
            self._kept = True  # paid for as a replaced value is (_count_kept)
            return True
        return False

    def _go_field(self, start: int) -> None:
        """``Password:hunter2`` inside a Go ``%+v`` dump (see godump)."""
        found = godump.field_at(self.text, start)
        if found is not None and self.secret(found[0]):
            self._edit(found[1], found[2], "text")

    def _line(self, found: re.Match[str] | None) -> None:
        if found is None or not self.secret(found.group("k")):
            return
        value_start = found.end()
        if not found.group("b") and self.text.startswith("/", value_start):
            return  # a URL's scheme ("token://"), not name:value
        if self.text.startswith("=", value_start) or self.text.startswith(":=", value_start - 1):
            return  # Go's "apiKey := os.Getenv(...)": code, not name:value
        if self.text[value_start] in "|>":
            block = _BLOCK.match(self.text, value_start)
            if block is not None:
                # The lines below, deeper than the key: YAML's rule for a block's content.
                column = found.start("k") - self._line_of(found.start("k"))
                end = kubeyaml.block_end(self.text, block.end(), column)
                if end > block.end():
                    self._edit(block.end(), end, "text")
                return
        end = self._line_end(value_start)
        value = self.text[value_start:end]
        if not found.group("b") and ":" in value:
            return  # session:web:9f8e7d6c:expires is a cache key, not name:value
        if not self._symbol(found.group("k"), self._bare(value)):
            self._edit(value_start, end, "text")

    def _bare(self, value: str) -> str | int:
        """A line's value as is_symbol reads it: a small number as a number."""
        value = value.strip()
        return int(value) if value.isdigit() and len(value) <= 3 else value

    def _line_end(self, value_start: int) -> int:
        """Where the value starting at ``value_start`` ends: at CR or LF, blanks left out."""
        text = self.text
        eol = text.find("\n", value_start)
        if eol < 0:
            eol = len(text)
        cr = text.find("\r", value_start, eol)
        if cr >= 0:
            eol = cr
        value = text[value_start:eol]
        # rstrip(" \t") tests each character against its argument (5 ms for a megabyte
        # of tabs); rstrip() uses a table. The value ends after the last whitespace
        # character in the trailing whitespace that is not a blank.
        end = len(value.rstrip())
        if end < len(value):
            tail = value[end:]
            end += max(map(tail.rfind, _NOT_BLANK_SPACES)) + 1
        return value_start + end

    def _assign(self, start: int) -> None:
        text = self.text
        found = _ASSIGN.match(text, start)
        if found is None or not self.secret(found.group("k")):
            return
        value_start = found.end()
        quote = text[value_start : value_start + 1]
        if quote in _QUOTED:
            if found.group("k").lower() == "key" and self._names_a_field(start):
                return  # <add key="ApiKey" value=...>: the attribute names a field
            quoted = _QUOTED[quote].match(text, value_start)
            if quoted is not None:
                self._edit(*quoted.span(1), "text")
            return
        if value_start < len(text) and text[value_start] in "\r\n":
            return
        line = self._line_of(start)
        opened = _LINE_OPENERS.match(text, line)
        blanks = found.group("sp") or found.group("sp2")
        if blanks and opened is not None and opened.end() == start:
            # INI, .env, properties: the rest of the line
            end = self._line_end(value_start)
            value = self._bare(text[value_start:end])
            if not (self._symbol(found.group("k"), value) or _reference(value)):
                self._edit(value_start, end, "text")
            return
        if opened is not None and opened.end() == start and _SETTING.fullmatch(found.group("k")):
            # DB_PASSWORD=Tr0ub;4dor&3x, db.password=a&b: an .env or properties line's
            # value runs to a blank, ";" and "&" and all (a query's pairs are lower case).
            word = _WORD.match(text, value_start)
            run_end = word.end() if word is not None else value_start
        else:
            run_from, run_end = self._run
            if not run_from <= value_start < run_end:
                run = _RUN.match(text, value_start)
                run_end = run.end() if run is not None else value_start
                self._run = (value_start, run_end)
        value = self._bare(text[value_start:run_end])
        if not (self._symbol(found.group("k"), value) or _reference(value)):
            self._edit(value_start, run_end, "text")

    def _names_a_field(self, start: int) -> bool:
        """Is ``start`` inside a tag that also has a value attribute (read once a tag)?"""
        lowered = self.lowered
        reach = max(0, start - _TAG_REACH)
        tag = lowered.rfind("<", reach, start)
        if tag < 0 or lowered.rfind(">", reach, start) > tag:
            return False
        known = self._valued_tags.get(tag)
        if known is None:
            found = _TAG.match(self.text, tag)
            known = found is not None and any(
                m.group("k").lower() in _VALUING for m in _ATTR.finditer(found.group(0))
            )
            self._valued_tags[tag] = known
        return known

    def _flag(self, found: re.Match[str] | None) -> None:
        if found is None:
            return
        name = found.group("k")
        java_property = found.group("d") == "-" and name.startswith("D")  # -Dname=value
        attached = found.group("d") == "-" and found.group(0)[-1] != "=" and _attached(name)
        named = self.secret(name) and not attached
        if not (named or (java_property and self.secret(name[1:]))):
            return
        text = self.text
        value_start = found.end()
        quote = text[value_start : value_start + 1]
        if quote in _QUOTED:
            quoted = _QUOTED[quote].match(text, value_start)
            if quoted is not None and not constants.placeholder(quoted.group(1)):
                self._edit(*quoted.span(1), "text")
            return
        word = _WORD.match(text, value_start)
        if word is not None and not constants.placeholder(word.group(0)):
            self._edit(value_start, word.end(), "text")

    def _element(self, found: re.Match[str] | None) -> None:
        if found is None:
            return
        tag = found.group("k").rpartition(":")[2]
        if not self.secret(tag) or (tag.lower() in PAIR_NAMES and self._names_a_value(found)):
            return
        group = "c" if found.group("c") is not None else "v"
        value = found.group(group)
        if value.strip() and not self._symbol(tag, value.strip()):
            self._edit(*found.span(group), "text")

    def _names_a_value(self, found: re.Match[str]) -> bool:
        """Is this ``<key>name</key>`` the name of the element after it (a plist's dict)?"""
        name = found.group("v")
        return (
            name is not None
            and _NAME_TEXT.fullmatch(name) is not None
            and _NEXT_ELEMENT.match(self.text, found.end()) is not None
        )

    def _cell(self, found: re.Match[str] | None) -> None:
        """A table row naming a secret in one cell and holding it in the next: the value
        inside its quotes (a Python repr, HTML-escaped), each run between its escapes
        replaced, the escapes kept; a mask (``'********'``) is no secret and stays."""
        if found is None or not self.secret(found.group("k")):
            return
        value = found.group("v")
        start = found.start("v") + len(value) - len(value.lstrip())
        end = start + len(value.strip())
        quoted = _CELL_QUOTED.fullmatch(self.text, start, end)
        if quoted is not None:
            start, end = quoted.span("v")
        inner = self.text[start:end]
        if not inner or _MASK.fullmatch(inner) or self._symbol(found.group("k"), inner):
            return
        for piece in _ESCAPE_OR_RUN.finditer(inner):
            run = piece.group("run")
            if run is not None and any(char.isalnum() for char in run):
                self._edit(start + piece.start(), start + piece.end(), "text")

    def _pair_element(self, found: re.Match[str] | None) -> None:
        if found is None or found.group("t").rpartition(":")[2].lower() not in PAIR_NAMES:
            return
        self._element(found)

    def _read_input(self, tag: int) -> Edit | None:
        """A tag naming a secret field in an attribute (``<input name=...>``, ``<meta
        name=... content=...>``, ``<add key=... value=...>``): its value attribute, or
        when it has none, the element's text up to the next tag."""
        found = _TAG.match(self.text, tag)
        if found is None:
            return None
        attrs = {m.group("k").lower(): m for m in _ATTR.finditer(found.group(0))}
        name = next((attrs[k] for k in _NAMING if k in attrs), None)
        if name is None or not (
            self.secret(_attr_value(name)) or params.secret_param(_attr_value(name))
        ):
            return None
        value = next((attrs[k] for k in _VALUING if k in attrs), None)
        if value is None:
            if found.group(0).endswith("/>") or _tag_name(found.group(0)) in _VOID:
                return None
            content = _CONTENT.match(self.text, found.end())
            if content is None or not content.group(0).strip():
                return None
            return found.end(), content.end(), "text"
        group = next(g for g in ("dq", "sq", "uq") if value.group(g) is not None)
        if constants.stands_in(value.group(group), _attr_value(name), self.where):
            return None  # <input name="password" value="YOUR_PASSWORD">, a label
        if normalise(_attr_value(name)) in _CONSTANT_INPUTS and kept(
            value.group(group), whole=True
        ):
            return None  # an address form's state="CA", not an OAuth state
        start, end = value.span(group)
        if relaystate.holds_return_url(_attr_value(name), value.group(group)):
            return start + tag, end + tag, "url"  # RelayState="/dashboard": scanned as a URL
        return start + tag, end + tag, "text"


_CONTENT = re.compile(r"[^<]{1,4096}+")
#: Inputs named as an OAuth parameter that often hold a constant (constants.py).
_CONSTANT_INPUTS = frozenset({"state", "code"})
#: HTML elements without content: what follows them is not their value.
_VOID = frozenset(
    {"input", "meta", "link", "img", "br", "hr", "param", "source", "area", "base", "col"}
)


def _attached(name: str) -> bool:
    """Is a one-dash flag's "name", followed by a blank, a letter with its value
    attached (getopt's ``-pS3cret``, ``-uroot``): its first word one letter, glued on?

    ``mysql -pYOUR_PASSWORD mydb`` then names no field: what follows the blank is the
    next argument (the database), not a value; the password is the attached part,
    which the flag reader never replaced (commandline.py finds it by its program), so
    nothing that was replaced as a password before is let through. A long one-dash
    flag (``-storepass``, Go's ``-dbPassword``) starts with a longer word, and a name
    followed by ``=`` (``-xpassword=…``, Java's ``-Dpassword=…``) still names a field.
    """
    first = words(name)[0]
    return len(first) == 1 and len(name) > 1 and name[1] not in "_.-"


def _tag_name(tag: str) -> str:
    end = 1
    while end < len(tag) and (tag[end].isalnum() or tag[end] in "_.-:"):
        end += 1
    return tag[1:end].lower()


def _attr_value(found: re.Match[str]) -> str:
    for group in ("dq", "sq", "uq"):
        if found.group(group) is not None:
            return found.group(group)
    return ""  # pragma: no cover - the pattern always sets one


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
