"""One sanitize() call's working state: the secrets found so far, and where replacements were.

Every replacement goes through here, so three promises hold in one place: a value gets
the same pseudonym wherever it is (``secret``/``detected``), a value found in a secret
position is replaced wherever else it occurs in the exchange, in any of the encodings of
echoforms (``echo``; a long value's encoded forms are computed once their first
characters occur in a text, see ``_resolve``), and every replacement is recorded by
location, never by value.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import compress, starmap

from shadowtape.sanitize.detectors import SET_REACH, Detector, escaped_at
from shadowtape.sanitize.echoforms import EAGER, Deferred, forms, split
from shadowtape.sanitize.echoindex import LONG, EchoIndex, scan
from shadowtape.sanitize.percent import unquote
from shadowtape.sanitize.pseudonym import Pseudonymizer
from shadowtape.sanitize.rules import Policy
from shadowtape.sanitize.splice import Edit, Span, splice
from shadowtape.sanitize.textfields import may_hold_fields, scan_fields

#: Shorter values found in a secret position are replaced there but not searched for
#: elsewhere: "1", "en" or "true" would otherwise be replaced all over the exchange.
ECHO_MIN = 6
#: The kind recorded for a secret-position value found again somewhere else.
ECHO_KIND = "secret"
#: Up to this many search strings, echo searches for each one in turn (``str.replace``);
#: beyond it, all at once (echoindex.EchoIndex). Both find a secret anywhere, whole.
EXACT_ECHO = 32
#: Work units (``spend``, about a microsecond each) per KiB of a value given its
#: pseudonym: shaped, remembered (the first characters of its forms), put back in its
#: text. Beyond ASCII, about twice as much: its characters are told apart one by one.
VALUE_PER_KIB = 16
VALUE_BEYOND_ASCII_PER_KIB = 32
#: Per KiB of a long secret, for each of its deferred forms computed whole (the form
#: and its pseudonym's, then indexed).
RESOLVE_PER_KIB = 16


class TooManyRedactions(BaseException):
    """Raised by ``Context.record`` past ``Context.limit``: the sanitizer drops the body
    being sanitized. A BaseException, so no step's ``except Exception`` swallows it."""


class TooDense(BaseException):
    """Raised by ``Context.spend`` past ``Context.work_limit``: the text being sanitized
    holds more places to examine one by one than its size allows (see ``spend``). The
    sanitizer drops the body, or fails the exchange closed for a header or URL."""


class Context:
    """Mutable, per call; never shared between threads."""

    __slots__ = (
        "_deferred",
        "_deferred_count",
        "_echo_index",
        "_echo_keys",
        "_heads",
        "_resolved",
        "echo",
        "echo_only",
        "kept",
        "limit",
        "order",
        "outputs",
        "policy",
        "pseudo",
        "redactions",
        "replaced",
        "secrets",
        "work",
        "work_limit",
    )

    def __init__(self, policy: Policy, pseudo: Pseudonymizer) -> None:
        self.policy = policy
        self.pseudo = pseudo
        #: Secret-position values (long enough to echo) -> pseudonym, in order found.
        self.secrets: dict[str, str] = {}
        #: What to search for (each secret and its URL-encoded forms) -> replacement.
        self.echo: dict[str, str] = {}
        #: For each secret, in order found: the search strings it added to ``echo``, and
        #: the first characters of its deferred forms.
        self.order: list[tuple[str, ...]] = []
        #: A long secret's encoded forms not computed yet, by their first characters ...
        self._deferred: dict[str, list[Deferred]] = {}
        #: ... and those first characters searched for all at once, when there are many.
        self._heads: EchoIndex | None = None
        #: The last long text resolved, and how many deferred forms there were then (a
        #: body is asked about more than once: is there an echo, then where, then again
        #: after the last step).
        self._resolved: tuple[str | bytes, int] = ("", 0)
        self._deferred_count = 0
        #: Pseudonyms produced in this call: detectors leave them alone.
        self.outputs: set[str] = set()
        self.redactions: dict[str, None] = {}
        #: Counts replacements, so a caller can tell whether anything changed.
        self.replaced = 0
        #: Set for the final pass: only echo; values in secret positions are done.
        self.echo_only = False
        self._echo_keys: list[str] | None = None
        self._echo_index: EchoIndex | None = None
        #: ``record`` raises TooManyRedactions once ``replaced`` passes this (set by the
        #: sanitizer around a body step).
        self.limit = sys.maxsize
        #: Values read under a secret name and kept for their shape in this step (a
        #: storage path or a constant under ``key``: constants.py). Like values replaced,
        #: they are paid for by the redaction limit rather than by work, twice over (a
        #: text with escaped quotes is read again unescaped): see ``keep``.
        self.kept = 0
        #: Work units spent so far, and where ``spend`` raises TooDense (set by the
        #: sanitizer around each step, in proportion to what the step reads).
        self.work = 0
        self.work_limit = sys.maxsize

    # -- recording -------------------------------------------------------------------

    def record(self, location: str) -> None:
        self.redactions[location] = None
        self.replaced += 1
        if self.replaced > self.limit:
            raise TooManyRedactions

    def keep(self, pending: int = 0) -> bool:
        """Count a value kept under a secret name (see ``kept``) in place of a replaced
        one: False, and not counted, once twice the limit (less the ``pending``
        replacements a reader has found but not made) are kept; the value is then
        replaced, or paid for as work, as the reader decides."""
        if self.kept >= 2 * (self.limit - self.replaced - pending):
            return False
        self.kept += 1
        return True

    def expect(self, count: int) -> None:
        """Raise TooManyRedactions now if ``count`` more replacements would pass the
        limit: a scanner that finds every value before replacing any calls this as it
        finds them, so a body packed with fields stops early."""
        if self.replaced + count > self.limit:
            raise TooManyRedactions

    def spend(self, units: int) -> None:
        """Account for examining candidates one by one in Python; TooDense past the limit.

        A unit is about a microsecond: a scanner spends one per cheap candidate (a hint
        walked back to its name) and more per costly one (a pattern tried at a name, a
        checksum). Spending *before* the loop, with a count taken by ``str.count`` or a
        regex in C, fails a hostile text closed before any per-candidate work is done.
        """
        self.work += units
        if self.work > self.work_limit:
            raise TooDense

    def secret(self, value: str, location: str) -> str:
        """Replace a value found in a secret position and remember it for echo."""
        if not value or self.echo_only or value in self.outputs:
            return value
        out = self.pseudonym(value)
        self.outputs.add(out)
        self.record(location)
        self.remember(value, out)
        return out

    def pseudonym(self, value: str) -> str:
        """``value``'s pseudonym, paid for in proportion to its length (see VALUE_PER_KIB):
        a text of long secrets costs what a text of as many candidates would."""
        if len(value) >= 64:  # a shorter one costs a unit at most
            rate = VALUE_PER_KIB if value.isascii() else VALUE_BEYOND_ASCII_PER_KIB
            self.spend(len(value) * rate // 1024)
        return self.pseudo(value)

    def remember(self, value: str, out: str) -> None:
        """Search for ``value`` (and its encoded forms) everywhere else too."""
        if len(value) < ECHO_MIN or value in self.secrets:
            return
        self.outputs.add(out)
        self.secrets[value] = out
        if len(value) <= EAGER:
            self.order.append(tuple(self._add(forms(value, out))))
            return
        now, later = split(value, out)
        added = self._add(now)
        for deferred in later:
            known = self._deferred.setdefault(deferred.head, [])
            if not known and self._heads is not None:
                self._heads.add((deferred.head,))
            known.append(deferred)
            added.append(deferred.head)
            self._deferred_count += 1
        self.order.append(tuple(added))

    def _add(self, pairs: tuple[tuple[str, str], ...]) -> list[str]:
        """Search for each new key of ``pairs`` (key, replacement) from now on."""
        added = []
        for key, replacement in pairs:
            if key not in self.echo:
                self.echo[key] = replacement
                added.append(key)
        if added:
            self._echo_keys = None
            if self._echo_index is not None:
                self._echo_index.add(added)
        return added

    def _resolve(self, text: str | bytes) -> None:
        """Compute whole each deferred form whose first characters occur in ``text`` and
        search for it from now on (whether it occurs whole is for the search to say).
        Each one computed is paid for, in proportion to its secret's length.

        Only the longest of the first characters found at a position is resolved: a
        shorter one there was cut short of a character that the longer one does not
        have (see echoforms.HEAD), so its form cannot start there."""
        if not self._deferred:
            return
        if len(text) >= LONG:
            if self._resolved[0] is text and self._resolved[1] == self._deferred_count:
                return
            self._resolved = (text, self._deferred_count)
        found: Iterable[str]
        if self._heads is None and len(self._deferred) <= EXACT_ECHO:
            if isinstance(text, str):
                found = [head for head in self._deferred if head in text]
            else:
                found = [h for h in self._deferred if h.encode("utf-8", "surrogatepass") in text]
        else:
            if self._heads is None:
                heads = dict.fromkeys(self._deferred, "")
                self._heads = EchoIndex(heads, spend=self.spend)
            found = self._heads.occurring(text)
        for head in found:
            # Paid for before any is taken: past the limit, the head stays deferred.
            self.spend(
                sum(len(d.value) for d in self._deferred.get(head, ())) * RESOLVE_PER_KIB // 1024
            )
            for deferred in self._deferred.pop(head, ()):
                self._add(deferred.forms())

    def _index(self) -> EchoIndex:
        if self._echo_index is None:
            self._echo_index = EchoIndex(self.echo, spend=self.spend)
        return self._echo_index

    def detected(self, value: str, location: str) -> str:
        """Replace a value a detector found in free text (not searched for elsewhere)."""
        out = self.pseudonym(value)
        self.outputs.add(out)
        self.record(location)
        return out

    # -- free text -------------------------------------------------------------------

    def scope(self, text: str, *, fields: bool = True) -> Scope:
        """What could change in ``text`` or in any part of it (a field of a document).

        Computed once over a whole document (a JSON body, a header value), it lets each
        of the document's strings skip the detectors that found nothing overall.
        ``fields=False``: the caller checks names itself, so skip the name hints.
        """
        echo = self.has_echo(text)
        if self.echo_only:
            return Scope((), echo, False)
        found, named = self.policy.static_scope(text)
        return Scope(found, echo, named and fields)

    def text(
        self,
        text: str,
        location: str,
        *,
        kind: bool = False,
        fields: bool = False,
        scope: Scope | None = None,
    ) -> str:
        """Echo known secrets and run the detectors over free text.

        ``kind``: record ``location:<kind>`` (for bodies) instead of the bare location.
        ``fields``: also look for ``name=value`` and ``"name": value`` pairs whose name
        looks secret (text that is not parsed as JSON or a form, such as a truncated body).
        ``scope``: limit the work to what ``scope()`` found in an enclosing document.
        """
        if not text:
            return text
        made: list[Span] = []  # where pseudonyms were put in ``text`` so far, in order
        echo = bool(self.echo) and (scope is None or scope.echo)
        # Fields first: an echo of a known secret that is also a name (a cookie whose
        # value is "password") would rename the field and leave its value in clear.
        if fields and not self.echo_only and (scope is None or scope.fields):
            known = len(self.order)
            text = scan_fields(text, self, location, kind=kind, made=made)
            echo = echo or len(self.order) > known  # a field's value may occur elsewhere
        if echo:
            text = self._echo_text(text, f"{location}:{ECHO_KIND}" if kind else location, made)
        if self.echo_only:
            return text
        detectors = self.policy.detectors if scope is None else scope.detectors
        told = len(text) >= SET_REACH and len(detectors) > 1
        if told:
            # Which may occur, told at once (a pseudonym put in by one cannot add a
            # value for a later one: it would overlap what was made).
            detectors = self.policy.occurring(text, detectors)
        for detector in detectors:
            if told or detector.may_occur(text):
                where = f"{location}:{detector.kind}" if kind else location
                text = self._detect(text, detector, where, made)
        return text

    def touches(self, text: str, scope: Scope) -> bool:
        """Could ``text(text, ..., scope=scope)`` change anything? (Cheap; no location.)"""
        if scope.echo and self.echo:
            if self._deferred:
                self._resolve(text)
            if len(self.echo) > EXACT_ECHO:
                if self._index().contains(text):
                    return True
            elif any(map(text.__contains__, self.echo)):
                return True
        if self.echo_only:
            return False
        if scope.fields and may_hold_fields(text):
            return True
        return any(d.finds(text, self.outputs) for d in scope.detectors)

    def detect(self, text: str, detector: Detector, location: str) -> str:
        """Replace what one detector finds in ``text`` (``text`` itself when nothing)."""
        return self._detect(text, detector, location)

    def _detect(
        self,
        text: str,
        detector: Detector,
        location: str,
        made: list[Span] | None = None,
    ) -> str:
        """Replace what one detector finds; pseudonyms made in this call are left alone
        (``made``: see ``_replace_found``)."""

        def replace(value: str) -> str:
            at = escaped_at(value) if detector.kind == "email" else None
            if at is not None:  # "@" URL-encoded or HTML-escaped: the address as itself
                plain = unquote(value) if at == "%40" else value.replace(at, "@")
                out = self.detected(plain, location).replace("@", at)
                self.outputs.add(out)
            else:
                out = self.detected(value, location)
                if detector.echo:
                    self.remember(value, out)
            return out

        return self._replace_found(text, detector, replace, made)

    def _replace_found(
        self,
        text: str,
        detector: Detector,
        replace: Callable[[str], str],
        made: list[Span] | None = None,
    ) -> str:
        """``text`` with each value ``detector`` finds and accepts replaced by ``replace``;
        pseudonyms already made (``outputs``) are left alone.

        ``made``: the (start, end) of each pseudonym earlier detectors put in ``text``,
        updated here to the text returned. A candidate overlapping one is not a value of
        the input but an accident of the key (a card read across an e-mail's pseudonym).
        """
        kept = made or []
        edits: list[Edit] = []
        at = 0
        found = detector.spans(text, self.spend)
        listed = isinstance(found, list)  # found in C: paid for before any is examined
        if listed:
            if not detector.listed:  # a finder's list: paid for here
                self.spend(len(found) * detector.cost)  # type: ignore[arg-type]
            if found and detector.accept is not None:
                found = _accepted(text, found, detector.accept)  # type: ignore[arg-type]
            if found and detector.reject is not None:
                found = detector.reject(text, found, self.spend)  # type: ignore[arg-type]
        for start, end in found:
            if not listed:
                self.spend(detector.cost)  # each candidate is examined here in Python
            while at < len(kept) and kept[at][1] <= start:
                at += 1
            if (
                at < len(kept)
                and kept[at][0] < end
                and not _holds_whole(detector, kept, at, start, end)
            ):
                continue
            value = text[start:end]
            if value in self.outputs or not detector.accepts(value):
                continue
            if not listed and detector.reject and detector.rejects_at(text, start, end):
                continue
            edits.append((start, end, replace(value)))
        return splice(text, edits, made)

    def clean_location(self, location: str) -> str:
        """``location`` with every known secret and detected value in it pseudonymized.

        Locations are built from names (a JSON key, a query parameter, a cookie name), and
        a name can itself be a secret or an e-mail address: a location never holds one.
        """
        if self.echo and self.has_echo(location):
            location = self._swap(location)
        original = location
        # One pass for every detector's literals; a detector is asked itself only when
        # they occur, or once a replacement has changed the location.
        likely = {id(d) for d in self.policy.occurring(location, self.policy.detectors)}
        for detector in self.policy.detectors:
            if (location is not original or id(detector) in likely) and detector.may_occur(
                location
            ):
                location = self._replace_found(location, detector, self.pseudo)
        return location

    def has_echo(self, text: str | bytes) -> bool:
        """Does ``text`` hold a known secret (bytes: its UTF-8 bytes)?"""
        if not self.echo:
            return False
        if self._deferred:
            self._resolve(text)
        if len(self.echo) > EXACT_ECHO:
            return self._index().contains(text)
        if isinstance(text, bytes):
            return any(key.encode("utf-8", "surrogatepass") in text for key in self.echo)
        return any(map(text.__contains__, self.echo))

    def echo_bytes(self, data: bytes, location: str) -> bytes:
        """Echo known secrets in bytes that are not text (a binary body)."""
        if self._deferred:
            self._resolve(data)
        if len(self.echo) > EXACT_ECHO:
            swapped = self._index().sub_bytes(data)
            if swapped != data:
                self.record(location)
            return swapped
        for key in sorted(self.echo, key=len, reverse=True):
            raw = key.encode("utf-8", "surrogatepass")
            if raw in data:
                data = data.replace(raw, self.echo[key].encode("utf-8", "surrogatepass"))
                self.record(location)
        return data

    def _echo_text(self, text: str, location: str, made: list[Span] | None = None) -> str:
        edits = self._echo_edits(text)
        if not edits:
            return text
        new = splice(text, edits, made)
        if new != text:
            self.record(location)
        return new

    def _swap(self, text: str) -> str:
        """``text`` with every search string replaced, nothing recorded."""
        return splice(text, self._echo_edits(text))

    def _echo_edits(self, text: str) -> list[Edit]:
        """Where search strings occur in ``text`` (leftmost, then longest), and their
        replacements. Each occurrence is paid for (a unit per string looked for), counted
        in C first."""
        if self._deferred:
            self._resolve(text)
        whole = self.echo.get(text)
        if whole is not None:
            return [(0, len(text), whole)]
        if len(self.echo) > EXACT_ECHO:
            return self._index().edits(text)
        if self._echo_keys is None:
            self._echo_keys = list(self.echo)
        present = [key for key in self._echo_keys if key in text]
        if not present:
            return []
        self.spend(sum(map(text.count, present)) * len(present))
        return scan(text, present, self.echo)


def _accepted(text: str, found: list[Span], accept: Callable[[str], bool]) -> list[Span]:
    """The spans whose value ``accept`` takes, checked in one ``map`` (a Python loop
    costs more than most checks)."""
    values = map(text.__getitem__, starmap(slice, found))
    return list(compress(found, map(accept, values)))


@dataclass(frozen=True, slots=True)
class Scope:
    """Which detectors found something in a document, and whether echo or fields apply."""

    detectors: tuple[Detector, ...]
    echo: bool
    fields: bool

    @property
    def empty(self) -> bool:
        return not (self.detectors or self.echo or self.fields)


def without_cards(scope: Scope) -> Scope:
    """``scope`` less the card detector: for a dotted number a version name labels."""
    return Scope(tuple(d for d in scope.detectors if d.kind != "card"), scope.echo, scope.fields)


#: Detectors whose verdict depends only on the kinds of characters a value has, which a
#: pseudonym keeps: one may read across a pseudonym that lies wholly inside its value.
_BY_SHAPE = frozenset({"email"})


def _holds_whole(detector: Detector, kept: list[Span], at: int, start: int, end: int) -> bool:
    """Does the value at ``start:end`` hold the pseudonyms from ``kept[at]`` on that it
    overlaps wholly, and may ``detector`` read across them? An e-mail address with an
    echoed secret in its local part is still an address, and its domain is PII too."""
    if detector.kind not in _BY_SHAPE:
        return False
    while at < len(kept) and kept[at][0] < end:
        if kept[at][0] < start or kept[at][1] > end:
            return False
        at += 1
    return True
