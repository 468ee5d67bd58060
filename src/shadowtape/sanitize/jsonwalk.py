"""Walking a parsed JSON document: replacing what may change, copying only what did.

jsonbody decides whether a document is walked at all and with what scope; this module
walks it. What can be decided once per document is: each distinct key (or pair name)
is classified once, the keys of a large map all at once; an object or list whose keys
are ordinary and whose values cannot change is passed over in C; a string is examined
only for what may change in it; a location is rendered only for a replacement. What is
still examined one by one in Python is charged to the work budget (``Context.spend``).
"""

from __future__ import annotations

import math
import re
import sys
from bisect import bisect_right
from collections.abc import Callable, Collection, Iterable, Iterator
from itertools import accumulate, compress, islice, product, repeat
from itertools import chain as chain_items
from operator import is_, itemgetter
from typing import Any, TypeAlias

import orjson
import re2

from shadowtape.sanitize import constants, fieldstarts
from shadowtape.sanitize.constants import symbol_or_path
from shadowtape.sanitize.context import Context, Scope, without_cards
from shadowtape.sanitize.cookies import cookies, set_cookies
from shadowtape.sanitize.detectors import luhn_ok
from shadowtape.sanitize.jsonpath import PathElement, render
from shadowtape.sanitize.kubeyaml import is_certificate
from shadowtape.sanitize.mdtable import may_hold_table
from shadowtape.sanitize.names import PAIR_NAMES, ascii_lower
from shadowtape.sanitize.textfields import may_hold_fields
from shadowtape.sanitize.versions import names_version

JsonValue = object
#: Keys that hold the value of a name/value pair object (names.PAIR_NAMES name it):
#: ``{"name": "DB_PASSWORD", "value": "..."}``, ``{"Key": "api_key", "Value": "..."}``.
PAIR_VALUES = frozenset({"value", "val", "values", "data", "content"})
#: GraphQL: an argument bound to a variable, ``login(password: $p)``.
_GRAPHQL_BINDING = re2.compile(r"([A-Za-z_][A-Za-z0-9_]*)[\s,]*:[\s,]*\$([A-Za-z_][A-Za-z0-9_]*)")
#: A string is parsed as JSON (stringified JSON) at most this many times within itself.
MAX_STRINGIFIED = 8

#: What a key (or a pair's name) is, decided once per distinct string in a document.
_ALLOWED = 1
_SECRET = 2
_PAIR_NAME = 4
_PAIR_VALUE = 8
#: Secret as the whole name only (``code``, ``key``): not when its value is a symbol.
_WHOLE = 16
#: Work units (see Context.spend) for a name first seen in a document that may be
#: secret (its words matched against every rule), for a string scanned for fields, and
#: for a string parsed as JSON.
NAME_UNITS = 2
FIELD_SCAN_UNITS = 2
STRINGIFIED_UNITS = 2
#: ... and for a document inside a string that is scoped on its own (Walker.inner).
INNER_UNITS = 12
#: ... and for a value under a secret-named package in a dependency map: its version
#: check (about 1 us) and the walk of the objects that hold it, their keys matched
#: (about 6 all told, measured on a document packed with them).
VERSION_UNITS = 8
#: An integer that may be a card number: 13 to 19 digits, 2 to 6 first (see _int).
_CARD_INT = re2.compile(r"(?:^|[^0-9.\-])[2-6][0-9]{12}")

#: The path to a node, as (parent's chain, key or index), None for the root: extended
#: only where the walk goes down, and rendered only where something is replaced.
Chain: TypeAlias = "tuple[Chain, PathElement] | None"
#: Makes the walker of a document inside a string: (context, base, document, echo).
Reader: TypeAlias = "Callable[[Context, str, JsonValue, bool], Walker]"


class Walker:
    """Walks one document (``walk``); mutable, for one sanitize call.

    ``ordinary`` holds the keys that are nothing special, ``inert`` the types of value
    in which nothing can change (see the module's docstring).
    """

    __slots__ = (
        "base",
        "cards",
        "clean",
        "clean_keys",
        "ctx",
        "echo_size",
        "escaped",
        "full",
        "has_paths",
        "inert",
        "kinds",
        "meter",
        "named",
        "named_keys",
        "nested",
        "ordinary",
        "paths",
        "plain",
        "policy",
        "reader",
        "scan_plain",
        "scan_strings",
        "special",
    )

    def __init__(
        self,
        ctx: Context,
        base: str,
        scope: Scope,
        named: bool,
        text: str,
        escaped: bool,
        *,
        reader: Reader,
    ) -> None:
        """``text``: the document as JSON with no escapes that could hide a secret
        (empty: unknown); ``escaped``: JSON inside its strings may have some, and
        ``reader`` makes the walker of such a document."""
        self.ctx = ctx
        self.escaped = escaped
        self.reader = reader
        #: Charges the work budget, drawing first on what ``_prepay`` paid ahead.
        self.meter = fieldstarts.Meter(ctx)
        self.policy = ctx.policy
        self.base = base
        #: Storage paths are kept under ``key`` in a response only (constants.label_at).
        self.paths = constants.label_at(base)
        self.full = scope
        #: For keys, and for strings that cannot hold a secret-named field.
        self.plain = Scope(scope.detectors, scope.echo, False)
        self.scan_plain = not self.plain.empty
        #: May a string value hold a secret name (a field in text, a pair's name)?
        self.named = named
        self.scan_strings = named or self.scan_plain or escaped
        # As bytes when ASCII: RE2 on a str converts offsets at a few ms a MiB.
        ascii_text = text.encode() if text.isascii() else text
        self.cards = not text or _CARD_INT.search(ascii_text) is not None
        inert: set[type] = {float, bool, type(None)}
        if not self.cards:
            inert.add(int)
        if not self.scan_strings:
            inert.add(str)
        self.inert = frozenset(inert)
        self.has_paths = bool(self.policy.secret_paths or self.policy.allowed_paths)
        self.nested = 0
        self.kinds: dict[str, int] = {}
        #: While no secret is added to echo: the strings that need nothing as values, as
        #: keys (a key is not read for fields: the same text may need something as a
        #: value), and the keys that are nothing special and need nothing.
        self.clean: set[str] = set()
        self.clean_keys: set[str] = set()
        self.ordinary: set[str] = set()
        #: Keys known not to be ordinary, and those of them that are so by name alone.
        self.special: set[str] = set()
        self.named_keys: set[str] = set()
        self.echo_size = len(ctx.echo)

    def location(self, chain: Chain) -> str:
        return self.base + render(_path(chain))

    def walk(self, node: JsonValue, secret: bool, chain: Chain) -> JsonValue:
        """``node`` sanitized (``node`` itself when nothing changed); ``chain`` is its path."""
        if isinstance(node, str):
            if secret:
                return self.ctx.secret(node, self.location(chain)) if node else node
            return self._string(node, chain)
        if isinstance(node, dict):
            return self._object(node, secret, chain)
        if isinstance(node, list):
            return self._array(node, secret, chain)
        if isinstance(node, bool) or node is None:
            return node
        if isinstance(node, int):
            return self._int(node, secret, chain)
        if isinstance(node, float) and secret and math.isfinite(node):
            return self._float(node, chain)
        return node

    # -- strings and keys -------------------------------------------------------------

    def _string(self, node: str, chain: Chain) -> str:
        """A string that is not in a secret position (``chain``: its path)."""
        if self._clean(node, self.clean):
            return node
        # JSON inside a string, escaped in it: what its strings hold shows nowhere else.
        escaped_json = "\\" in node and node.lstrip()[:1] in _JSON_HEADS
        scope = self.plain
        if escaped_json or (self.named and may_hold_fields(node) and self._may_name(node)):
            scope = self.full
        elif not self.scan_plain:
            return node
        ctx = self.ctx
        touched = ctx.touches(node, scope)
        if not (touched or escaped_json):
            self.clean.add(node)
            return node
        stringified = self._stringified(node, chain)
        if stringified is not None or not touched:
            return node if stringified is None else stringified
        if scope is self.full:
            ctx.spend(FIELD_SCAN_UNITS)
        if chain is not None and isinstance(chain[1], str) and names_version(chain[1], node):
            scope = without_cards(scope)  # "version": "6011.0000.0000.0004" (versions.py)
        return ctx.text(node, self.location(chain), fields=True, scope=scope)

    def _may_name(self, node: str) -> bool:
        """May ``node`` change when read for fields and parsed as JSON? An escape may
        hide a secret name; JSON is parsed (``_stringified``) even without one when a
        rule path may reach into it or an integer in it may be a card number (_int)."""
        if "\\" in node or self.policy.secret_field.may_match(node):
            return True
        if node.lstrip()[:1] not in _JSON_HEADS:
            return False
        return self.has_paths or (self.cards and _CARD_INT.search(node) is not None)

    def _clean(self, node: str, found: set[str]) -> bool:
        """Is ``node`` in ``found`` (``clean`` or ``clean_keys``), found to need nothing
        since the last secret was added to echo?"""
        self._forget_if_echoed()
        return node in found

    def _forget_if_echoed(self) -> None:
        """Forget what was found to need nothing if a secret was added to echo since:
        it may occur in it."""
        if self.plain.echo and len(self.ctx.echo) != self.echo_size:
            self.echo_size = len(self.ctx.echo)
            self.clean.clear()
            self.clean_keys.clear()
            self.ordinary.clear()

    def _key(self, key: str, chain: Chain) -> str:
        """An object key, sanitized: it may itself be a secret or an e-mail address."""
        if not self.scan_plain or self._clean(key, self.clean_keys):
            return key
        if not self.ctx.touches(key, self.plain):
            self.clean_keys.add(key)
            return key
        return self.ctx.text(key, self.location(chain), scope=self.plain)  # the parent's

    def _stringified(self, node: str, chain: Chain) -> str | None:
        """A string holding JSON (stringified once or more): walked, then written back."""
        head = node.lstrip()[:1]
        if head not in _JSON_HEADS or self.nested >= MAX_STRINGIFIED:
            return None
        self.meter.charge(STRINGIFIED_UNITS)
        try:
            inner = orjson.loads(node)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(inner, dict | list | str) or (head == '"') != isinstance(inner, str):
            return None
        before = self.ctx.replaced
        walker = self.inner(node, inner)
        walker.nested += 1
        try:
            new = walker.walk(inner, False, chain)
        finally:
            walker.nested -= 1
        if self.ctx.replaced == before:
            return node
        return orjson.dumps(new).decode()

    def inner(self, node: str, data: JsonValue) -> Walker:
        """Who walks ``data``, the JSON inside ``node``: when escapes in it may hide what
        its strings hold, a walker of its own, scoped from it written back without them
        (``reader``), and charged for that."""
        if not (self.escaped and "\\" in node):
            return self
        self.meter.charge(INNER_UNITS)
        walker = self.reader(self.ctx, self.base, data, self.full.echo)
        # What each key is, learned once per document: the kinds and the keys special
        # by name go together (a key in ``kinds`` is never classified again).
        walker.kinds = self.kinds
        walker.named_keys = self.named_keys
        walker.nested = self.nested
        return walker

    def _kind(self, key: str) -> int:
        """What ``key`` is (the _ALLOWED... flags), decided once per document."""
        kind = self.kinds.get(key)
        if kind is not None:
            return kind
        policy = self.policy
        lowered = key.lower()
        kind = _PAIR_NAME if lowered in PAIR_NAMES else 0
        if lowered in PAIR_VALUES:
            kind |= _PAIR_VALUE
        if policy.allowed_field.may_match(key) and policy.allowed_field.matches(key):
            kind |= _ALLOWED
        if policy.secret_field.may_match(key):
            self.ctx.spend(NAME_UNITS)
            if policy.secret_field.matches(key):
                kind |= _SECRET
                if policy.secret_field.whole_only(key):
                    kind |= _WHOLE
        self.kinds[key] = kind
        if kind & ~_PAIR_NAME:
            self.named_keys.add(key)
        return kind

    def _ordinary_keys(self, keys: Collection[str]) -> bool:
        """Is each of ``keys`` ordinary: no rule names it, nothing in it is replaced?

        The keys not seen before are classified at once (``_learn``), so that a
        document of many distinct keys (the ids of a map) costs little more per key
        than reading it.
        """
        self._forget_if_echoed()
        if self.ordinary.issuperset(keys):
            return True
        known = [seen for seen in (self.ordinary, self.special) if seen]
        unknown = set(keys).difference(*known) if known else set(keys)  # no copy if none
        if not unknown:
            return False
        self._learn(unknown)
        ordinary = unknown.difference(self.named_keys)
        if self.scan_plain:
            touches, scope, clean = self.ctx.touches, self.plain, self.clean_keys
            ordinary = {key for key in ordinary if key in clean or not touches(key, scope)}
            clean.update(ordinary)
        ordinary.discard("variables")
        if self.ordinary:
            self.ordinary.update(ordinary)
        else:
            self.ordinary = ordinary  # the first large map's keys: not copied again
        if len(ordinary) == len(unknown):  # every new key is ordinary
            return not known or self.ordinary.issuperset(keys)
        self.special.update(unknown.difference(ordinary))
        return False

    def _rows(self, rows: list[Any]) -> set[int] | None:
        """``rows`` (a list of objects) whose keys are all ordinary or pair value keys
        (``"value"``): only their values may change, but for the rows whose pair name
        (``"name"``) is secret, whose indexes are returned. None: not such rows."""
        keys = _keys(rows)
        if self._ordinary_keys(keys):
            return set()
        values = False
        for key in keys.difference(self.ordinary):
            kind = self.kinds[key]
            if kind & ~(_PAIR_NAME | _PAIR_VALUE) or key == "variables":
                return None
            if self.scan_plain and key not in self.clean_keys:
                return None  # a key to replace
            values = values or bool(kind & _PAIR_VALUE)
        if not values:
            return set()  # names that name nothing
        marked: set[int] = set()
        for key in keys:
            if not self.kinds[key] & _PAIR_NAME:
                continue
            names = list(map(dict.get, rows, repeat(key)))
            if not set(map(type, names)) <= _NAME_TYPES:
                return None  # a name that is a list or an object
            distinct = set(names)
            distinct.discard(None)
            self._learn(distinct)  # type: ignore[arg-type]
            secret = set(filter(self._secret_name, distinct.intersection(self.named_keys)))
            secret.update(_cookie_names(distinct))
            if secret:
                marked.update(compress(range(len(rows)), map(secret.__contains__, names)))
        return marked

    def _learn(self, names: Collection[str]) -> None:
        """Decide the kind of each of ``names`` not seen before: the hints of every rule
        searched for in one pass over them all, the few that hold one matched alone."""
        fresh = names if isinstance(names, set) else set(names)
        if len(self.kinds) >= len(fresh):
            fresh = fresh.difference(self.kinds)
        elif seen := [name for name in self.kinds if name in fresh]:  # a large map: no copy
            fresh = fresh.difference(seen)
        if not fresh:
            return
        names = list(fresh)
        joined = "\x00".join(names)
        secret, allowed = self.policy.secret_field, self.policy.allowed_field
        if joined.isascii():  # lower-cased at once; a pair word in any case found in C
            lowered = joined.lower()
            special = fresh.intersection(_PAIR_SPELLINGS)
            special.update(secret.matching_any_ascii(lowered, names))
            special.update(allowed.matching_any_ascii(lowered, names))
        else:
            each = list(map(str.lower, names))
            special = set(compress(names, map(_PAIR_WORDS.__contains__, each)))
            special.update(secret.matching_any(each, names))
            special.update(allowed.matching_any(each, names))
        self.kinds.update(dict.fromkeys(fresh, 0))
        for name in special:
            del self.kinds[name]
            self._kind(name)

    def _secret_name(self, name: JsonValue) -> bool:
        return isinstance(name, str) and self._kind(name) & (_SECRET | _ALLOWED) == _SECRET

    # -- objects and arrays -----------------------------------------------------------

    def _object(
        self,
        node: dict[str, JsonValue],
        secret: bool,
        chain: Chain,
        extra: frozenset[str] = frozenset(),
        kubernetes: str | None = None,
    ) -> dict[str, JsonValue]:
        """``extra``: keys secret besides those by name (GraphQL variables, a Kubernetes
        Secret's data); ``kubernetes``: the object's kind, if known without its ``kind``."""
        kubernetes = kubernetes or _kubernetes_kind(node)
        if not (secret or extra or self.has_paths or kubernetes) and self._ordinary_keys(node):
            if self._inert_all(list(node.values())):
                return node
            return self._values(node, chain)
        pair_secret: frozenset[str] | None = None
        cookie = ""
        inner = (
            {"variables": graphql_secrets(node, self.policy.secret_field.matches)}
            if "variables" in node
            else {}
        )
        if kubernetes:
            inner = kubernetes_secrets(node, kubernetes)
        out: dict[str, JsonValue] | None = None
        for done, (key, value) in enumerate(node.items()):
            new_key = self._key(key, chain)
            kind = self._kind(new_key)
            if new_key is not key:  # an echo may have renamed it: "new_password" -> "new_x"
                kind |= self._kind(key) & (_SECRET | _WHOLE | _ALLOWED | _PAIR_VALUE)
            if new_key is key and kind & ~_PAIR_NAME == 0 and key != "variables":
                self.ordinary.add(key)
            if kind & _ALLOWED or (self.has_paths and self._path_allowed(chain, new_key)):
                new = value
            else:
                if kind & _PAIR_VALUE and pair_secret is None:
                    pair_secret = self._pair_value_keys(node)
                    cookie = _pair_cookie(node)
                is_secret = bool(
                    secret
                    or (
                        kind & _SECRET
                        and not (kind & _WHOLE and symbol_or_path(value, paths=self.paths))
                        and not (
                            _stands_in(value, new_key, chain, self.base, self.meter)
                            and self.ctx.keep()
                        )
                    )
                    or new_key in extra
                    or (pair_secret is not None and new_key in pair_secret)
                    or (self.has_paths and self._path_is_secret(chain, new_key))
                )
                if cookie and kind & _PAIR_VALUE and isinstance(value, str) and not is_secret:
                    new = self._cookies(value, cookie, (chain, new_key))
                elif inner.get(new_key) and isinstance(value, dict):
                    new = self._object(value, is_secret, (chain, new_key), inner[new_key])
                elif kubernetes == _SECRET_LIST and new_key == "items" and isinstance(value, list):
                    new = self._secret_items(value, is_secret, (chain, new_key))
                else:
                    new = self.walk(value, is_secret, (chain, new_key))
            if out is not None:
                out[new_key] = new
            elif new is not value or new_key is not key:
                out = dict(islice(node.items(), done))
                out[new_key] = new
        return node if out is None else out

    def _secret_items(self, items: list[JsonValue], secret: bool, chain: Chain) -> list[JsonValue]:
        """The items of a SecretList, each a Secret whether it says so or not (the API
        leaves ``kind`` out of a list's items)."""
        out = [
            self._object(item, secret, (chain, index), frozenset(), _SECRET_KIND)
            if isinstance(item, dict)
            else self.walk(item, secret, (chain, index))
            for index, item in enumerate(items)
        ]
        return items if all(map(is_, out, items)) else out

    def _cookies(self, value: str, kind: str, chain: Chain) -> str:
        """A ``Cookie`` or ``Set-Cookie`` line held in a document: each cookie's value
        replaced as in the header (names and attributes kept), located by its path."""
        replace = cookies if kind == "cookie" else set_cookies
        return replace(value, self.ctx, self.location(chain), named=False)

    def _values(self, node: dict[str, JsonValue], chain: Chain) -> dict[str, JsonValue]:
        """An object whose keys are ordinary: only its values may change."""
        if _kubernetes_kind(node):  # a row of a table (see _items)
            return self._object(node, False, chain)
        inert = self.inert
        out: dict[str, JsonValue] | None = None
        for key, value in node.items():
            if not value or type(value) in inert:
                continue
            new = self._value(value, (chain, key))
            if new is not value:
                if out is None:
                    out = dict(node)
                out[key] = new
        return node if out is None else out

    def _value(self, value: JsonValue, chain: Chain) -> JsonValue:
        """A value in no secret position (not empty, not inert), ``value`` itself when
        nothing changed."""
        kind = type(value)
        if kind is str:
            return self._string(value, chain)  # type: ignore[arg-type]
        if kind is dict:
            return self._object(value, False, chain)  # type: ignore[arg-type]
        if kind is list:
            return self._array(value, False, chain)  # type: ignore[arg-type]
        return self.walk(value, False, chain)

    def _pair_value_keys(self, node: dict[str, JsonValue]) -> frozenset[str]:
        """The value keys of a name/value pair object whose name looks secret."""
        if len(node) > 8:
            return frozenset()
        named = any(
            self._kind(key) & _PAIR_NAME and self._secret_name(value) for key, value in node.items()
        )
        if not named:
            return frozenset()
        return frozenset(key for key in node if self._kind(key) & _PAIR_VALUE)

    def _array(
        self, node: list[JsonValue], secret: bool, chain: Chain, named_pair: bool = False
    ) -> list[JsonValue]:
        """``named_pair``: ``node`` is a [name, value] pair whose name looks secret."""
        headers = {} if secret or named_pair else self._header_values(node)
        if headers:
            named_pair = True  # the items at ``headers`` are secret (see below)
        pairs = not secret and not headers and self.named and _is_pair_list(node)
        if pairs and not self.has_paths:
            names = set(map(itemgetter(0), node))  # type: ignore[arg-type]
            self._learn(names)
            pairs = any(map(self._secret_name, names.intersection(self.named_keys)))
        if not (secret or named_pair or pairs or self.has_paths):
            return self._items(node, chain)
        out: list[JsonValue] | None = None
        for index, value in enumerate(node):
            if self.has_paths and self._path_allowed(chain, index):
                new = value
            elif pairs and not (self.has_paths and self._path_is_secret(chain, index)):
                assert isinstance(value, list)
                new = self._array(value, False, (chain, index), self._secret_name(value[0]))
            elif headers.get(index) in _COOKIE_KINDS and isinstance(value, str):
                new = self._cookies(value, headers[index], (chain, index))
            else:
                is_secret = (
                    secret
                    or (index in headers if headers else named_pair and index == 1)
                    or (self.has_paths and self._path_is_secret(chain, index))
                )
                new = self.walk(value, is_secret, (chain, index))
            if out is not None:
                out.append(new)
            elif new is not value:
                out = node[:index]
                out.append(new)
        return node if out is None else out

    def _header_values(self, node: list[JsonValue]) -> dict[int, str]:
        """In a flat list of header names and values (Node's ``rawHeaders``: ``["Host",
        "a", "Authorization", "Bearer ..."]``), the indexes of the values that header
        rules call secret; empty for any other list. A header list has an even length,
        strings only, a header name at every even index, one of them a common one."""
        if len(node) < 2 or len(node) % 2 or type(node[0]) is not str:
            return {}
        if set(map(type, node)) != _STR:
            return {}
        names: list[str] = node[::2]  # type: ignore[assignment]
        if _COMMON_HEADERS.isdisjoint(map(str.lower, names)):
            return {}
        if _HEADER_NAMES.fullmatch("\n".join(names)) is None:
            return {}
        self.ctx.spend(len(names) // 8 + 1)
        kind = self.policy.header_kind
        kinds = {2 * i + 1: kind(name) for i, name in enumerate(names)}
        return {i: k for i, k in kinds.items() if k in _SECRET_HEADER_KINDS}

    def _items(self, node: list[JsonValue], chain: Chain) -> list[JsonValue]:
        """A list in no secret position, not of pairs: only its items may change."""
        types = set(map(type, node))
        if types <= self.inert:
            return node
        walk: Callable[[Any, Chain], JsonValue] = self._value
        indexes: Iterable[int] = range(len(node))
        marked: set[int] | None = set()
        if types == _LIST:  # a table, a time series: read in C too
            if self._inert_all(list(chain_items.from_iterable(node))):  # type: ignore[arg-type]
                return node
        elif types == _DICT and (marked := self._rows(node)) is not None:  # table rows
            if not any(node) or self._inert_all(list(_values(node))):
                if not marked:
                    return node
                indexes = sorted(marked)  # only the rows naming a secret
            walk = self._values
        elif self._inert_all(node):
            return node
        else:
            if self.escaped:
                self._prepay(node)
            if types == _STR and not self.scan_plain:  # the lines of a log, say
                indexes = sorted(self._strings_to_read(node))  # type: ignore[arg-type]
        inert = self.inert
        out: list[JsonValue] | None = None
        for index in indexes:
            value = node[index]
            if not value or type(value) in inert:
                continue
            new: JsonValue
            if marked and index in marked:
                new = self._object(value, False, (chain, index))  # type: ignore[arg-type]
            else:
                new = walk(value, (chain, index))
            if out is None:
                if new is value:
                    continue
                out = node.copy()
            out[index] = new
        return node if out is None else out

    def _strings_to_read(self, strings: list[str]) -> set[int]:
        """The indexes of ``strings`` in which ``_string`` may find something, where
        no detector or echo applies (``scan_plain`` false): those holding an escape,
        those holding JSON that holds a hint of a secret name (a key, a pair's name, a
        field) or what may be a card number, and those a candidate field lies in; each
        told in one pass over them all joined by NUL (see ``_inert_all``)."""
        indexes = range(len(strings))
        opening = list(compress(indexes, map(_JSON_OPENING.match, strings)))
        read: set[int] = set()
        if opening:
            documents = list(map(strings.__getitem__, opening))
            hinted = self.policy.secret_field.holding_hints(list(map(ascii_lower, documents)))
            read.update(map(opening.__getitem__, hinted))
            if self.cards:  # an integer in it may be a card number (see _int)
                read.update(compress(opening, map(_CARD_INT.search, documents)))
        joined = "\x00".join(strings)
        if "\\" in joined:
            read.update(compress(indexes, map(str.__contains__, strings, repeat("\\"))))
        lowered = ascii_lower(joined)
        if lowered.isascii():
            sizes: Iterable[int] = map(len, strings)
        else:  # spans are of UTF-8 bytes, of text lowered ("\u212a" is 3, "k" 1)
            sizes = (len(_utf8(ascii_lower(item))) for item in strings)
        starts = list(accumulate((size + 1 for size in sizes), initial=0))  # + 1: NUL
        last = len(strings) - 1
        for start, end in fieldstarts.candidate_spans(lowered, self.policy.secret_field):
            first = bisect_right(starts, start) - 1
            read.update(range(first, min(bisect_right(starts, end) - 1, last) + 1))
        return read

    def _prepay(self, items: list[JsonValue]) -> None:
        """Pay ahead for the documents inside ``items`` scoped on their own (strings
        opening like JSON and holding escapes), counted first: a list packed with
        them is too dense before any is read."""
        documents = sum(
            1
            for item in items
            if isinstance(item, str) and "\\" in item and _JSON_OPENING.match(item)
        )
        self.meter.prepay(documents * (STRINGIFIED_UNITS + INNER_UNITS))

    def _inert_all(self, values: list[JsonValue]) -> bool:
        """Can nothing change in any of ``values``? (No container among them; their
        strings told at once when they cannot hold a field, in C.)"""
        types = set(map(type, values))
        if types <= self.inert:
            return True
        if list in types and not self.named:  # one level down (the tags of each row),
            # where no list can be [name, value] pairs that name a secret
            lists = [value for value in values if type(value) is list]
            if any(map(_may_list_headers, lists)):
                return False
            values = [value for value in values if type(value) is not list]
            values += chain_items.from_iterable(lists)
            types = set(map(type, values))
            if types <= self.inert:
                return True
        if self.scan_plain or not types - self.inert <= _STR:
            return False
        strings = [value for value in values if isinstance(value, str)]
        joined = "\x00".join(strings)
        if "\\" in joined and self.escaped:
            return False  # JSON inside may hide anything (see inner)
        if not (self.named and (may_hold_fields(joined) or "\x00-" in joined)):
            return True
        # Fields may be read in them (see _string), unless none has a candidate name
        # and none is JSON that may hide one.
        if "\\" in joined or any(map(_JSON_OPENING.match, strings)):
            return False
        if may_hold_table(joined):  # a markdown table: its header names its columns
            return False
        return not fieldstarts.any_candidate(ascii_lower(joined), self.policy.secret_field)

    # -- numbers ----------------------------------------------------------------------

    def _int(self, node: int, secret: bool, chain: Chain) -> int:
        if secret:
            if self.ctx.echo_only:
                return node
            self.ctx.record(self.location(chain))
            return self.ctx.pseudo.number(node)
        if 10**12 <= node < 10**19:
            digits = str(node)
            if digits[0] in "23456" and luhn_ok(digits) and not self.ctx.echo_only:
                return int(self.ctx.detected(digits, self.location(chain)))
        return node

    def _float(self, node: float, chain: Chain) -> float:
        if self.ctx.echo_only:
            return node
        self.ctx.record(self.location(chain))
        number = self.ctx.pseudo.number(int(node))
        if abs(number) > sys.float_info.max:  # as many digits, past the largest float
            digits = str(abs(number))
            number = (1 if number > 0 else -1) * int("10" + digits[2:])
        return float(number)

    # -- rule paths -------------------------------------------------------------------

    def _path_is_secret(self, chain: Chain, last: PathElement) -> bool:
        path = _path((chain, last))
        return any(p.matches(path) for p in self.policy.secret_paths)

    def _path_allowed(self, chain: Chain, last: PathElement) -> bool:
        path = _path((chain, last))
        return any(p.matches(path) for p in self.policy.allowed_paths)


_JSON_HEADS = ("{", "[", '"')
#: Header names, one a line (RFC 9110 tokens), for a flat list of names and values.
_HEADER_NAMES = re.compile(
    r"[!#$%&'*+.^_`|~0-9A-Za-z\-]{1,64}(?:\n[!#$%&'*+.^_`|~0-9A-Za-z\-]{1,64})*"
)
#: One of these makes a list of tokens a list of headers (lower-cased).
_COMMON_HEADERS = frozenset(
    {
        "host", "accept", "user-agent", "content-type", "content-length", "authorization",
        "proxy-authorization", "cookie", "set-cookie", "x-api-key", "connection",
        "accept-encoding", "cache-control", "x-forwarded-for", "origin", "referer",
    }
)  # fmt: skip
#: What policy.header_kind calls a header whose value is secret.
_SECRET_HEADER_KINDS = frozenset({"secret", "cookie", "set-cookie"})
#: ... and those whose value is a line of cookies, replaced cookie by cookie.
_COOKIE_KINDS = frozenset({"cookie", "set-cookie"})
#: Header names that make a list a header list even when nothing else in the document
#: looks secret (lower-cased).
_SECRET_HEADERS = frozenset({"cookie", "set-cookie", "authorization", "proxy-authorization"})


def _stands_in(
    value: JsonValue, key: str, chain: Chain, where: str, meter: fieldstarts.Meter
) -> bool:
    """Is ``value``, under the secret ``key`` of the object at ``chain``, no secret: a label
    or a placeholder (constants.stands_in), or a version constraint in a package
    manifest's dependency map, whose keys are packages' names (constants.version_spec,
    paid for: a value kept is not a redaction, so the redaction limit does not bound a
    document packed with them)?"""
    if not isinstance(value, str):
        return False
    if chain is not None and chain[1] in constants.DEPENDENCY_MAPS:
        meter.charge(VERSION_UNITS)
        if constants.version_spec(value):
            return True
    return constants.stands_in(value, key, where)


def _may_list_headers(node: list[JsonValue]) -> bool:
    """Could ``node`` be a flat header list naming a secret header (see
    Walker._header_values)? Told from its first name and its length, then its names."""
    if len(node) < 2 or len(node) % 2 or type(node[0]) is not str:
        return False
    return any(type(name) is str and name.lower() in _SECRET_HEADERS for name in node[::2])


def _pair_cookie(node: dict[str, JsonValue]) -> str:
    """``cookie`` or ``set-cookie`` when a name/value pair object names that header."""
    for key, value in node.items():
        if key.lower() in PAIR_NAMES and isinstance(value, str):
            lowered = value.lower()
            if lowered in _COOKIE_KINDS:
                return lowered
    return ""


def _cookie_names(names: set[Any]) -> set[str]:
    """The pair names among ``names`` that name a cookie header."""
    return {name for name in names if isinstance(name, str) and name.lower() in _COOKIE_KINDS}


_NAME_TYPES = {str, type(None)}
#: A string that opens like JSON (see _stringified).
_JSON_OPENING = re.compile(r'\s*+[\[{"]')
_LIST = {list}
_DICT = {dict}
_STR = {str}
_PAIR_WORDS = PAIR_NAMES | PAIR_VALUES
#: Each of them in every mix of upper- and lower-case letters ("Name", "nAME"...): the
#: ASCII names that lower-case to one.
_PAIR_SPELLINGS = frozenset(
    "".join(letters) for word in _PAIR_WORDS for letters in product(*((c, c.upper()) for c in word))
)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _keys(objects: list[Any]) -> set[str]:
    """The keys of ``objects`` (a list of dicts)."""
    return set(chain_items.from_iterable(objects))


def _values(objects: list[Any]) -> Iterator[JsonValue]:
    """The values of ``objects`` (a list of dicts)."""
    return chain_items.from_iterable(map(dict.values, objects))


def _path(chain: Chain) -> list[PathElement]:
    path: list[PathElement] = []
    while chain is not None:
        chain, element = chain
        path.append(element)
    path.reverse()
    return path


def _is_pair_list(node: list[JsonValue]) -> bool:
    """Is ``node`` a list of [name, value] pairs? Each item two long, a string first."""
    return (
        bool(node)
        and type(node[0]) is list
        and all(
            isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) for item in node
        )
    )


#: The kinds of Kubernetes object whose data is secret: a Secret, and a list of them
#: (``kind: List`` holds items that say their kind themselves).
_SECRET_KIND = "Secret"
_SECRET_LIST = "SecretList"
_KUBERNETES_KINDS = frozenset({_SECRET_KIND, _SECRET_LIST})
#: The maps of a Secret that hold its values, whatever their keys.
_SECRET_DATA = ("data", "stringData")


def _kubernetes_kind(node: dict[str, JsonValue]) -> str | None:
    """``Secret`` or ``SecretList`` when ``node`` is one (its ``kind``), else None."""
    kind = node.get("kind")
    return kind if type(kind) is str and kind in _KUBERNETES_KINDS else None


def kubernetes_secrets(node: dict[str, JsonValue], kind: str) -> dict[str, frozenset[str]]:
    """For a Secret: its data maps, each with the keys whose values are secret (every
    key but a certificate's, which is public: kubeyaml.is_certificate)."""
    if kind != _SECRET_KIND:
        return {}
    return {
        name: frozenset(
            key
            for key, value in data.items()
            if not (isinstance(value, str) and is_certificate(value))
        )
        for name in _SECRET_DATA
        if isinstance(data := node.get(name), dict)
    }


def graphql_secrets(node: dict[str, JsonValue], secret: Callable[[str], bool]) -> frozenset[str]:
    """Variables bound to secret-named arguments in a GraphQL request object."""
    query, variables = node.get("query"), node.get("variables")
    if not isinstance(query, str) or not isinstance(variables, dict) or "$" not in query:
        return frozenset()
    return frozenset(
        found.group(2)
        for found in _GRAPHQL_BINDING.finditer(query)
        if secret(found.group(1)) and found.group(2) in variables
    )
