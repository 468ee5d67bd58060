"""Value detectors: what a secret looks like in free text, wherever it appears.

Each detector is a compiled regex plus literal *hints*: cheap substring tests that must
pass before the regex runs at all (no ``@`` means no e-mail), so a body with nothing
suspicious costs a handful of ``in`` checks. Shape tests (``is_email`` and friends) are
used by the pseudonymizer to keep a replacement in the same format as the original.

Every byte scanned here may come from an attacker, so each detector runs in time linear
in its input: searches use RE2 (``re2``: no backtracking) or scan by hand from a literal.
Card numbers need look-arounds RE2 lacks and stay with one Python ``re`` pattern whose
quantifiers are all bounded (see ``CARD``). Key blocks are found from their literal
BEGIN and END lines (each END looked for once), each line matched by RE2 in a bounded
window. Where a checksum exists it is checked (Luhn for cards, mod-97 for IBANs, the
SSA's rules for SSNs), so look-alikes stay.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any, Protocol, TypeVar

import re2

from shadowtape.sanitize import commandline, digestauth, pgpass, versions
from shadowtape.sanitize.beyondascii import without_surrogates

_EMAIL_LOCAL = r"[A-Za-z0-9._%+\-]+"
_EMAIL_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"
_EMAIL_TEXT = _EMAIL_LOCAL + "@" + _EMAIL_DOMAIN
#: File names such as ``logo@2x.png`` look like e-mail addresses; these endings are not TLDs.
_NOT_TLDS = frozenset(
    {"png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "ico", "css", "js", "map", "json"}
)
_JWT_TEXT = r"eyJ[A-Za-z0-9_\-]{2,}\.eyJ[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]*"
#: Python's ``\s`` for str, spelled for RE2 (whose ``\s`` is ASCII only).
SPACE = r"[\t-\r\x1c-\x20\x85\p{Z}]"
_BEARER_TEXT = r"(?i:\bbearer)" + SPACE + r"+[A-Za-z0-9\-._~+/]{16,}=*"
#: Known key formats: (prefix, rest). The prefix is kept in a pseudonym.
API_KEY_PREFIXES = (
    "sk_live_",
    "sk_test_",
    "rk_live_",
    "rk_test_",
    "whsec_",
    "github_pat_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "xoxa-",
    "xoxb-",
    "xoxp-",
    "xoxr-",
    "xoxs-",
    "xoxe-",
    "AKIA",
    "ASIA",
    "AIza",
    "sk-",
    # Formats added for issue 18 (the detect-secrets and gitleaks rule sets).
    "ya29.",
    "npm_",
    "SG.",
    "glpat-",
    "shpat_",
    "shpss_",
    "shpca_",
    "shppa_",
    "pypi-",
    "hf_",
    "dop_v1_",
)
#: Key formats and the literal hints that must occur before the regex is worth running.
#: A key may not be followed by a letter or digit: the open-ended formats end where their
#: alphabet (which holds every letter and digit) does; the fixed-length ones say so.
_API_KEY_FAMILIES = (
    (r"(?:s|r)k_(?:live|test)_[0-9A-Za-z]{10,}", ("k_live_", "k_test_")),
    (r"whsec_[0-9A-Za-z+/=]{16,}", ("whsec_",)),
    (r"github_pat_[0-9A-Za-z_]{22,}", ("github_pat_",)),
    (r"gh[pousr]_[0-9A-Za-z]{30,}", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    (r"xox[abposre]-[0-9A-Za-z\-]{10,}", ("xox",)),
    (r"A(?:KI|SI)A[0-9A-Z]{16}", ("AKIA", "ASIA")),
    (r"AIza[0-9A-Za-z_\-]{35}", ("AIza",)),
    (r"sk-(?:proj-|ant-)?[0-9A-Za-z_\-]{20,}", ("sk-",)),
    # Formats added for issue 18 (the detect-secrets and gitleaks rule sets).
    (r"ya29\.[0-9A-Za-z_\-]{20,}", ("ya29.",)),
    (r"npm_[0-9A-Za-z]{36}", ("npm_",)),
    (r"SG\.[0-9A-Za-z_\-]{22}\.[0-9A-Za-z_\-]{43}", ("SG.",)),
    (r"glpat-[0-9A-Za-z_\-]{20,}", ("glpat-",)),
    (r"shp(?:at|ss|ca|pa)_[0-9a-fA-F]{32}", ("shpat_", "shpss_", "shpca_", "shppa_")),
    (r"pypi-AgEIcHlwaS5vcmc[0-9A-Za-z_\-]{50,}", ("pypi-",)),
    (r"hf_[0-9A-Za-z]{34,}", ("hf_",)),
    (r"dop_v1_[0-9a-f]{64}", ("dop_v1_",)),
)
#: The formats of fixed length, whose end RE2 must check by reading one character more.
_FIXED_LENGTH = frozenset({"AKIA", "AIza", "npm_", "SG.", "shpat_", "dop_v1_"})
_API_KEY_TEXT = "|".join(f"(?:{regex})" for regex, _ in _API_KEY_FAMILIES)

_EMAIL_FULL = re2.compile(_EMAIL_TEXT)
_CARD_FULL = re2.compile(r"\d(?:[ \-.]?\d){12,18}")
_JWT_FULL = re2.compile(r"[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")
_API_KEY_FULL = re2.compile(_API_KEY_TEXT)


class LinearPattern:
    """An RE2 pattern. ASCII text is searched as bytes: RE2's str mode re-encodes the
    text and maps offsets at every match, which costs more than the search itself."""

    def __init__(self, regex: str, options: object | None = None) -> None:
        args = () if options is None else (options,)
        self._text = re2.compile(regex, *args)
        self._bytes = re2.compile(regex.encode(), *args)
        self.groupindex: dict[str, int] = dict(self._text.groupindex)

    def finditer(self, text: str) -> Iterator[Match]:
        if text.isascii():
            found: Iterator[Match] = self._bytes.finditer(text.encode("ascii"))
            return found
        return _str_matches(self._text, text)

    def match(self, text: str) -> Match | None:
        return match_str(self._text, text)


def _str_matches(pattern: Any, text: str) -> Iterator[Match]:
    found = pattern.finditer(text)
    try:
        first = next(found, None)
    except UnicodeEncodeError:
        found = pattern.finditer(without_surrogates(text))
        first = next(found, None)
    if first is not None:
        yield first
        yield from found


def fullmatch_str(pattern: Any, text: str) -> Match | None:
    """``pattern.fullmatch(text)`` for an RE2 pattern compiled from a str, surrogates too
    (spans are those of ``text``: one character replaced by one)."""
    try:
        found: Match | None = pattern.fullmatch(text)
    except UnicodeEncodeError:
        found = pattern.fullmatch(without_surrogates(text))
    return found


def match_str(pattern: Any, text: str) -> Match | None:
    """``pattern.match(text)`` for an RE2 pattern compiled from a str, surrogates too."""
    try:
        found: Match | None = pattern.match(text)
    except UnicodeEncodeError:
        found = pattern.match(without_surrogates(text))
    return found


JWT = LinearPattern(_JWT_TEXT)
#: Card numbers need look-arounds and a back reference, which RE2 lacks, so this one
#: pattern stays with Python's ``re``. Every quantifier in it is bounded, so a try costs
#: a few dozen steps whatever follows, and a try starts only at a [2-6] after a
#: character that is not part of a word: linear. (RE2 candidates checked in Python were
#: measured 5 to 15 times slower on card-dense text: google-re2 builds each match object
#: in Python.)
#: Groups joined by dots are taken in the two groupings cards are printed in only
#: (4-4-4-4 and Amex's 4-6-5): a version number or an address is grouped otherwise.
CARD = re.compile(
    r"[2-6](?<![\w.][2-6])(?:[0-9]{12,18}"
    r"|[0-9]{3}([ \-])[0-9]{4}\1[0-9]{4}\1[0-9]{4}(?:\1[0-9]{3})?"
    r"|(?<=3)[0-9]{3}([ \-])[0-9]{6}\2[0-9]{5}"
    r"|[0-9]{3}\.[0-9]{4}\.[0-9]{4}\.[0-9]{4}|(?<=3)[0-9]{3}\.[0-9]{6}\.[0-9]{5})"
    r"(?![\w])(?!\.[0-9])"
)


#: Each digit's contribution when doubled (Luhn): 2*d, less 9 past 9.
_DOUBLED = bytes.maketrans(b"0123456789", b"0246813579")


def luhn_ok(digits: str) -> bool:
    """The Luhn check that every real card number passes (and our pseudonyms fail).

    Table-driven, in C: the digits at odd places from the right summed as they are, the
    others through ``_DOUBLED`` (ASCII codes, so 48 per digit is taken off)."""
    raw = digits.encode("ascii", "replace")
    total = sum(raw[-1::-2]) + sum(raw[-2::-2].translate(_DOUBLED)) - 48 * len(raw)
    return total % 10 == 0


def luhn_check_digit(payload: str) -> int:
    """The digit that makes ``payload + digit`` pass Luhn."""
    return (10 - _luhn_sum_with_zero(payload)) % 10


def _luhn_sum_with_zero(payload: str) -> int:
    total = 0
    for position, char in enumerate(reversed(payload)):
        digit = ord(char) - 48
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10


def card_digits(text: str) -> str | None:
    """The digits of a card number (13-19 digits, Luhn-valid, spaces, dashes or dots
    allowed)."""
    digits = text.replace(" ", "").replace("-", "").replace(".", "")
    if 13 <= len(digits) <= 19 and digits.isascii() and digits.isdigit() and luhn_ok(digits):
        return digits
    return None


def is_card(text: str) -> bool:
    return fullmatch_str(_CARD_FULL, text) is not None and card_digits(text) is not None


def is_email(text: str) -> bool:
    return fullmatch_str(_EMAIL_FULL, text) is not None and _email_tld_ok(text)


def _email_tld_ok(text: str) -> bool:
    return text.rsplit(".", 1)[-1].lower() not in _NOT_TLDS


def is_jwt(text: str) -> bool:
    return text.startswith("eyJ") and fullmatch_str(_JWT_FULL, text) is not None


def api_key_prefix(text: str) -> str | None:
    """The known prefix of an API key (kept in its pseudonym), or None if not a key."""
    if not text.startswith(API_KEY_PREFIXES) or fullmatch_str(_API_KEY_FULL, text) is None:
        return None
    for prefix in API_KEY_PREFIXES:
        if text.startswith(prefix):
            return prefix
    return None  # pragma: no cover - the regex and the prefixes agree


Spans = Iterator[tuple[int, int]]
#: Spans found all at once, in C (``list(map(re.Match.span, ...))``): ``Detector.spans``
#: hands such a list on, and ``Context._replace_found`` pays for all of it up front.
Found = Iterable[tuple[int, int]]

#: Work units per candidate a detector examines in Python: a match object, a slice, a
#: look in ``outputs`` and a check cost about a microsecond (a unit).
DEFAULT_COST = 1
#: A card candidate, found in C, then sliced, looked up and Luhn-checked (~2 us).
CARD_COST = 2
#: An IBAN candidate, found in C, then sliced, looked up and mod-97-checked (~2 us).
IBAN_COST = 2


class Match(Protocol):
    def span(self, group: int = 0) -> tuple[int, int]: ...

    @property
    def lastindex(self) -> int | None: ...


class Pattern(Protocol):
    """A compiled regex: an RE2 one for the built-in detectors and users' patterns."""

    @property
    def groupindex(self) -> Mapping[str, int]: ...

    def finditer(self, text: str) -> Iterator[Match]: ...

    def match(self, text: str) -> Match | None: ...


#: A match's span, taken in C (``map`` over a method descriptor).
_SPAN = re.Match.span
#: A listed detector's spans are found and paid for this many at a time.
LISTED_BATCH = 4096

#: ``finds`` gives up after this many rejected candidates and answers "maybe": it runs
#: without a work budget (a memoised scope), so the one pass that examines every
#: candidate is ``Context._replace_found``, which spends for each.
FINDS_TRIES = 64


class HintSet:
    """Literal hints, any of which must occur: one RE2 pass over the UTF-8 bytes for
    all of them (``in`` once per hint costs a full scan each, when none occurs)."""

    __slots__ = ("_any", "hints")

    def __init__(self, hints: tuple[str, ...]) -> None:
        self.hints = hints
        self._any = re2.compile("|".join(re.escape(h) for h in hints).encode())

    def __call__(self, text: str) -> bool:
        data = text.encode("ascii") if text.isascii() else text.encode("utf-8", "surrogatepass")
        return self._any.search(data) is not None


@dataclass(frozen=True, slots=True)
class Detector:
    """One kind of secret in free text.

    ``spans(text)`` yields where secrets are: by default the matches of ``pattern`` (its
    ``group``, 0 for the whole match), or whatever ``finder`` yields. ``hints``: literal
    substrings, one of which must occur before any search runs (empty: always search);
    ``prefilter`` replaces them when no literal is required (card numbers) or when there
    are many (a ``HintSet``). ``accept``: a last check on each value (Luhn for cards);
    ``reject(text, spans, spend)``: the accepted spans less those the text before them
    rules out (a version label before a dotted card); it pays with ``spend`` for each
    it looks back from before it does.
    ``cost``: the work units (``Context.spend``) each candidate span costs, measured.
    ``listed``: the spans are found in C, all at once, and paid for whole before the first
    is examined: a text too dense in candidates fails before the Python loop, not in it.
    """

    kind: str
    pattern: Pattern | None = None
    hints: tuple[str, ...] = ()
    group: int = 0
    accept: Callable[[str], bool] | None = None
    reject: (
        Callable[[str, list[tuple[int, int]], Callable[[int], None] | None], list[tuple[int, int]]]
        | None
    ) = None
    prefilter: Callable[[str], bool] | None = None
    finder: Callable[[str], Found] | None = None
    #: Search for what it finds everywhere else in the exchange too (user patterns: a
    #: value found by its context, "order_secret=...", may also occur without it).
    echo: bool = False
    cost: int = DEFAULT_COST
    #: ``pattern`` is a Python ``re`` one: ``spans`` lists every match's span in C.
    listed: bool = False

    @property
    def literals(self) -> tuple[str, ...]:
        """The literals one of which must occur for ``may_occur`` (empty: not so simple)."""
        if isinstance(self.prefilter, HintSet):
            return self.prefilter.hints
        return self.hints if self.prefilter is None else ()

    def may_occur(self, text: str) -> bool:
        if self.prefilter is not None:
            return self.prefilter(text)
        if not self.hints:
            return True
        return any(map(text.__contains__, self.hints))

    def spans(self, text: str, spend: Callable[[int], None] | None = None) -> Found:
        """(start, end) of each candidate value, in order, not overlapping.

        ``spend``: for a ``listed`` detector, called with the cost of each batch of
        LISTED_BATCH spans before the next is found (all in C), so a text far too
        dense is stopped before all of it is listed."""
        if self.finder is not None:
            return self.finder(text)
        if self.listed:
            found = map(_SPAN, self.pattern.finditer(text))  # type: ignore[union-attr]
            if spend is None:
                return list(found)
            listed: list[tuple[int, int]] = []
            while batch := list(islice(found, LISTED_BATCH)):
                spend(len(batch) * self.cost)
                listed += batch
            return listed
        return self._pattern_spans(text)

    def _pattern_spans(self, text: str) -> Spans:
        assert self.pattern is not None
        for found in self.pattern.finditer(text):
            start, end = found.span(self.group)
            if start < end:
                yield start, end

    def accepts(self, value: str) -> bool:
        return self.accept is None or self.accept(value)

    def rejects_at(self, text: str, start: int, end: int) -> bool:
        return self.reject is not None and not self.reject(text, [(start, end)], None)

    def finds(
        self, text: str, skip: set[str] | frozenset[str] = frozenset(), *, known: bool = False
    ) -> bool:
        """Does ``text`` hold at least one accepted value (not in ``skip``)? Past
        ``FINDS_TRIES`` rejected candidates: maybe, so True (the caller then scans it
        under its work budget). ``known``: ``may_occur`` is known to be true."""
        if not known and not self.may_occur(text):
            return False
        tries = FINDS_TRIES
        for start, end in self._pattern_spans(text) if self.listed else self.spans(text):
            value = text[start:end]
            if value not in skip and self.accepts(value) and not self.rejects_at(text, start, end):
                return True
            tries -= 1
            if not tries:
                return True
        return False


#: A text this long learns which detectors' literals it holds in one RE2::Set pass, not
#: in one ``in`` pass per literal (a Set pass costs about two of those).
SET_REACH = 4096


class Finders:
    """Which of ``detectors`` find something in a text (``Detector.finds``). The literal
    hints of all of them are looked for in one RE2 pass first: a text holding none (most
    text) skips each of those detectors' own pass over it. A long text holding some is
    read once more, by an RE2::Set of the literals, which says which ones it holds."""

    __slots__ = ("_any", "_index", "_literal", "_owners", "_set", "detectors")

    def __init__(self, detectors: tuple[Detector, ...]) -> None:
        self.detectors = detectors
        self._literal = frozenset(i for i, d in enumerate(detectors) if d.literals)
        self._index = {id(d): i for i, d in enumerate(detectors)}
        hints = tuple(dict.fromkeys(h for d in detectors for h in d.literals))
        self._any = HintSet(hints) if hints else None
        #: Each literal -> the detectors it is a literal of.
        self._owners = [
            frozenset(i for i, d in enumerate(detectors) if h in d.literals) for h in hints
        ]
        self._set = _literal_set(hints) if hints else None

    def __call__(self, text: str) -> tuple[Detector, ...]:
        if len(text) >= SET_REACH:
            found = self._occurring(text, self.detectors)
            return tuple(d for d, known in found if d.finds(text, known=known))
        literal = self._any is not None and self._any(text)
        return tuple(
            d
            for i, d in enumerate(self.detectors)
            if (literal or i not in self._literal) and d.finds(text)
        )

    def occurring(self, text: str, among: tuple[Detector, ...]) -> tuple[Detector, ...]:
        """The detectors of ``among`` that may occur in ``text`` (``Detector.may_occur``)."""
        return tuple(d for d, known in self._occurring(text, among) if known or d.may_occur(text))

    def _occurring(self, text: str, among: tuple[Detector, ...]) -> list[tuple[Detector, bool]]:
        """(detector, known): ``known`` when its literals are known to occur; the others
        of ``among`` may occur, or not, as their own ``may_occur`` says."""
        literal = self._any is not None and self._any(text)
        held: frozenset[int] | None = None
        if literal and len(text) >= SET_REACH:
            held = self._held(text)
        out = []
        for d in among:
            i = self._index[id(d)]
            if i not in self._literal:
                out.append((d, False))
            elif held is not None:
                if i in held:
                    out.append((d, True))
            elif literal:
                out.append((d, False))
        return out

    def _held(self, text: str) -> frozenset[int] | None:
        """The detectors whose literals occur in ``text`` (None: the Set failed)."""
        assert self._set is not None
        data = text.encode("ascii") if text.isascii() else text.encode("utf-8", "surrogatepass")
        found = self._set.Match(data)
        if not found:  # it holds a literal (``_any``): the Set ran out of memory
            return None
        return frozenset().union(*(self._owners[i] for i in found))


def _literal_set(hints: tuple[str, ...]) -> re2.Set:
    literals = re2.Set.SearchSet()
    for hint in hints:
        literals.Add(re.escape(hint).encode())
    literals.Compile()
    return literals


def _card_accept(text: str) -> bool:
    digits = text.replace(" ", "").replace("-", "").replace(".", "")
    return 13 <= len(digits) <= 19 and digits.isascii() and digits.isdigit() and luhn_ok(digits)


#: Whatever ``CARD`` matches, without its look-arounds and back references, in one RE2
#: pass over the UTF-8 bytes: a card starts after a byte that is no ASCII letter, digit,
#: "_" or "." and ends before one that is no ASCII letter, digit or "_" (a superset: the
#: bytes of other letters pass), so ``CARD``, a slower scan, runs only where one may be.
_CARD_END = r"(?:[^0-9A-Za-z_]|$)"
_CARD_SHAPES_TEXT = (
    r"(?:^|[^0-9A-Za-z_.])(?:[2-6][0-9]{12,18}"
    r"|[2-6][0-9]{3}[ \-.][0-9]{4}[ \-.][0-9]{4}[ \-.][0-9]{4}"
    r"|3[0-9]{3}[ \-.][0-9]{6}[ \-.][0-9]{5})" + _CARD_END
)
_CARD_SHAPES = re2.compile(_CARD_SHAPES_TEXT.encode())


_T = TypeVar("_T")


def _last_text(compute: Callable[[str], _T]) -> Callable[[str], _T]:
    """``compute``, remembering its answer for the last text it was asked about: a long
    text is asked about by its scope, then again before its detectors run, then by them.
    (Callers use it for texts of SET_REACH or more: a short one costs less than a call.)"""
    last: list[tuple[str, _T]] = []

    def remembered(text: str) -> _T:
        known = last[0] if last else None  # one read: other threads may replace it
        if known is not None and known[0] is text:
            return known[1]
        answer = compute(text)
        last[:] = [(text, answer)]
        return answer

    return remembered


def _card_start(text: str) -> int | None:
    """Where ``CARD`` may first match (0 when unsure), or None: it cannot."""
    if text.isascii():
        found = _CARD_SHAPES.search(text.encode("ascii"))
        return None if found is None else found.start()
    return None if _CARD_SHAPES.search(text.encode("utf-8", "surrogatepass")) is None else 0


_long_card_start = _last_text(_card_start)


def _card_prefilter(text: str) -> bool:
    if len(text) >= SET_REACH:
        return _long_may_hold_pii(text) and _long_card_start(text) is not None
    return _card_start(text) is not None


class _SearchFrom:
    """A Python ``re`` pattern, searched from where ``start`` says its shape first occurs
    (None: nowhere). Python's ``re`` tries every position, so a megabyte of digits before
    the first card costs tens of milliseconds; RE2 skips them in one. (A look-behind
    still sees the text before the start.) ``long_start`` is ``start`` for long texts."""

    groupindex: Mapping[str, int] = {}

    def __init__(
        self,
        pattern: re.Pattern[str],
        start: Callable[[str], int | None],
        long_start: Callable[[str], int | None],
    ) -> None:
        self._pattern = pattern
        self._start = start
        self._long_start = long_start

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        start = (self._long_start if len(text) >= SET_REACH else self._start)(text)
        return iter(()) if start is None else self._pattern.finditer(text, start)

    def match(self, text: str) -> re.Match[str] | None:
        return self._pattern.match(text)


_CARD_SEARCH = _SearchFrom(CARD, _card_start, _long_card_start)


def holds_card(text: str) -> bool:
    """Whether the card detector would find a card number anywhere in ``text``."""
    return any(card_digits(match.group(0)) is not None for match in _CARD_SEARCH.finditer(text))


#: "@" written as a character reference in HTML (``&#64;``, ``&#x40;``, ``&commat;``).
_HTML_AT = r"&#0{0,3}64;|&#[xX]0{0,2}40;|&commat;"
#: An address, its "@" URL-encoded ("%40"), HTML-escaped or not, matched in one pass.
_EMAIL_IN_TEXT = LinearPattern(_EMAIL_LOCAL + f"(?:@|%40|{_HTML_AT})" + _EMAIL_DOMAIN)
_HTML_AT_FOUND = re.compile(_HTML_AT)


def escaped_at(address: str) -> str | None:
    """How an address's "@" is written when not as itself: ``%40`` or an HTML character
    reference (None: as "@")."""
    if "@" in address:
        return None
    if "%40" in address:
        return "%40"
    found = _HTML_AT_FOUND.search(address)
    return found.group(0) if found is not None else None


def _email_spans(text: str) -> Spans:
    for found in _EMAIL_IN_TEXT.finditer(text):
        yield found.span()


#: Fixed-length key formats: prefix -> length. Their pattern reads one character more
#: (to check that the key ends there), which the span leaves out.
_FIXED_SIZE = {"AKIA": 20, "ASIA": 20, "AIza": 39, "npm_": 40, "SG.": 69, "dop_v1_": 71}
_FIXED_SIZE |= dict.fromkeys(("shpat_", "shpss_", "shpca_", "shppa_"), 38)


def _key_alternative(regex: str, hints: tuple[str, ...]) -> str:
    if hints[0] in _FIXED_LENGTH:
        return f"(?:{regex})(?:[^0-9A-Za-z]|$)"
    return f"(?:{regex})"


#: Every key family in one pattern, one RE2 pass. No capturing group: with one, RE2
#: extracts it with its slow NFA over the whole match, which an attacker makes long.
_API_KEYS = LinearPattern(
    "|".join(_key_alternative(regex, hints) for regex, hints in _API_KEY_FAMILIES)
)
_API_KEY_HINTS = HintSet(tuple(hint for _, hints in _API_KEY_FAMILIES for hint in hints))


def _api_key_spans(text: str) -> Spans:
    """Each key family starts with a literal; all are searched for in one RE2 pass."""
    for found in _API_KEYS.finditer(text):
        start, end = found.span()
        head = text[start : start + 7]
        for prefix, size in _FIXED_SIZE.items():
            if head.startswith(prefix):
                end = start + size
                break
        yield start, end


# -- Issue 18: key blocks, token formats and PII with checksums --------------------------

#: BEGIN and END lines, with Python's ``re``: a search jumps between the literal starts
#: in C, and a try backtracks over at most 40 characters (``{0,40}``), so it costs a
#: bounded number of steps whatever follows; RE2 would cost a Python call per try.
_KEY_LINE = r"[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
_KEY_BEGIN = re.compile("-----BEGIN " + _KEY_LINE)
_KEY_END = re.compile("-----END " + _KEY_LINE)
#: What follows a BEGIN line whose END never comes (a key cut by the body cap): armour
#: headers ("Proc-Type: 4,ENCRYPTED"), base64 lines, JSON-escaped line ends, any
#: whitespace. One character class repeated with nothing after it: ``re`` never
#: backtracks into it.
_KEY_BODY = re.compile(r"[A-Za-z0-9+/=\s,:\\\-]*")


def _private_key_spans(text: str) -> Spans:
    """PEM, OpenSSH and PGP private key blocks, from BEGIN to END.

    A block with no END (cut short) runs to the end of its base64 lines. Each END is
    looked for once: BEGIN lines repeated without one cost one scan, not one each.
    """
    end: re.Match[str] | None = None
    searched = -1  # where the last search for an END started (-1: none yet)
    begin = _KEY_BEGIN.search(text)
    while begin is not None:
        begin_end = begin.end()
        if searched < 0 or (end is not None and end.start() < begin_end):
            end = _KEY_END.search(text, begin_end)
            searched = begin_end
        if end is not None:
            stop = end.end()
        else:
            body = _KEY_BODY.match(text, begin_end)
            stop = begin_end + len(text[begin_end : body.end() if body else begin_end].rstrip())
        yield begin.start(), stop
        begin = _KEY_BEGIN.search(text, stop)


#: A private key block base64-encoded whole, as a Kubernetes Secret's ``data`` or a
#: ``*_B64`` variable holds one: found by the base64 of its BEGIN line at the value's
#: start (a certificate's is not among them), then the run of base64 after it. Line
#: breaks (raw, indented as in YAML, or JSON-escaped) may wrap it, as ``base64`` does.
_KEY_TYPES = ("", "RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED ", "PGP ", "SSH2 ENCRYPTED ")
_KEY_B64_STARTS = tuple(
    base64.b64encode(line[: len(line) // 3 * 3].encode()).decode()
    for line in (f"-----BEGIN {kind}PRIVATE KEY" for kind in _KEY_TYPES)
)
_KEY_B64 = LinearPattern(
    "(?:" + "|".join(_KEY_B64_STARTS) + r")(?:[A-Za-z0-9+/]|\\n|\\r|\r?\n[ \t]*)*={0,2}"
)


def _key_b64_spans(text: str) -> Spans:
    """Each run, up to the end of its last whole line: a wrapped key in YAML ends where
    its block does, not inside the next line (``other: x``)."""
    for found in _KEY_B64.finditer(text):
        start, end = found.span()
        if end < len(text) and text[end] not in "\r\n\"'\\" and "\n" in text[start:end]:
            end = text.rindex("\n", start, end)
        yield start, start + len(text[start:end].rstrip())


#: JWE (compact): a JOSE header, then key, IV, ciphertext and tag (the key may be empty).
_JWE_TEXT = (
    r"eyJ[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]{8,}"
    r"\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"
)
#: Webhook URLs whose path is the credential: the path after the fixed part is replaced.
_WEBHOOK_TEXT = (
    r"hooks\.slack\.com/(?:services|workflows)/([A-Za-z0-9_/\-]{16,})"
    r"|discord(?:app)?\.com/api/webhooks/([0-9]+/[A-Za-z0-9_\-]{20,})"
)
#: A password in a URL's userinfo: postgres://user:pass@host, redis://:pass@host... The
#: scheme ([A-Za-z][A-Za-z0-9+.-]{0,20}) is found by its last letter: the same URLs, but
#: RE2's DFA follows one scheme start instead of one per letter of the last 21 characters
#: (random text made it run out of memory and fall back to its NFA, 0.3 s per MiB).
_URL_PASSWORD_TEXT = r"[A-Za-z][0-9+.\-]{0,20}://[^:/?#@\s\"'<>]{0,256}:([^/?#@\s\"'<>]{1,256})@"
#: Azure (and other) connection strings: Key=value; pairs whose key names a secret.
_CONNECTION_TEXT = (
    r"(?i:AccountKey|SharedAccessKey|SharedAccessSignature|SharedSecret)=[^;\"'\s<>]+"
)
_CONNECTION_HINTS = ("Key=", "key=", "KEY=", "Signature=", "signature=", "Secret=", "secret=")

#: IBAN: country, check digits, then 11-30 letters and digits, maybe in groups of four.
_IBAN_TEXT = r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"
#: US SSN, dashed (nine bare digits are too often something else).
_SSN_TEXT = r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b"
#: E.164: "+", then 8 to 15 digits, not part of a longer number or word.
_PHONE_TEXT = r"(?:^|[^A-Za-z0-9+%])(\+[1-9][0-9]{7,14})(?:[^0-9]|$)"

#: Upper-case ASCII letters become "A", digits "0", the other word characters (a-z, "_")
#: "a", spaces and dashes stay, any other byte becomes ".": an IBAN ("AA00...") and a
#: dashed SSN ("000-00-0000") show up, with the word boundaries around them.
_SHAPE = bytes(
    ord("A")
    if 65 <= c <= 90
    else ord("0")
    if 48 <= c <= 57
    else ord("a")
    if 97 <= c <= 122 or c == 95
    else c
    if c in b" -"
    else ord(".")
    for c in range(256)
)


_WEBHOOK = LinearPattern(_WEBHOOK_TEXT)
#: IBANs with Python's ``re``, so their spans are taken in C (RE2 builds each match in
#: Python): the quantifiers are bounded, so a try backtracks over 40 characters at most.
_IBAN = re.compile(_IBAN_TEXT, re.ASCII)


def _webhook_spans(text: str) -> Spans:
    for found in _WEBHOOK.finditer(text):
        start, end = found.span(1)
        yield (start, end) if start >= 0 else found.span(2)


#: Letters as ISO 13616 numbers them (A=10 ... Z=35), for one big-integer mod-97 in C.
_IBAN_LETTERS = {ord(c): str(n) for n, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 10)}


#: Bearer tokens and connection-string values are found without a capturing group (RE2
#: would extract it with its NFA over a match an attacker makes long); where the value
#: starts is found in C from the match's start.
_BEARER = LinearPattern(_BEARER_TEXT)
_CONNECTION = LinearPattern(_CONNECTION_TEXT)
_SPACES = re.compile(r"\s*")  # one class repeated, nothing after it: no backtracking


def _bearer_spans(text: str) -> Spans:
    for found in _BEARER.finditer(text):
        start, end = found.span()
        yield _SPACES.match(text, start + len("bearer")).end(), end  # type: ignore[union-attr]


#: HTTP Basic credentials outside an Authorization header (a JSON field, a log line):
#: ``Basic`` and base64 that decodes to printable ``user:password`` (see _basic_accept).
_BASIC = LinearPattern(r"(?i:\bbasic)" + SPACE + r"+[A-Za-z0-9+/]{8,}={0,2}")


def _basic_spans(text: str) -> Spans:
    for found in _BASIC.finditer(text):
        start, end = found.span()
        yield _SPACES.match(text, start + len("basic")).end(), end  # type: ignore[union-attr]


def _basic_accept(value: str) -> bool:
    """Base64 of printable text holding a ":" (``user:password``): not a word."""
    if len(value) % 4 or len(value) > 4096:
        return False
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return ":" in decoded and decoded.isprintable()


def _connection_spans(text: str) -> Spans:
    for found in _CONNECTION.finditer(text):
        start, end = found.span()
        yield text.index("=", start) + 1, end


def iban_ok(text: str) -> bool:
    """The ISO 13616 mod-97 check every real IBAN passes (length 15 to 34)."""
    compact = text.replace(" ", "")
    if not 15 <= len(compact) <= 34 or not compact.isascii() or not compact.isalnum():
        return False
    moved = (compact[4:] + compact[:4]).upper().translate(_IBAN_LETTERS)
    return int(moved) % 97 == 1


def ssn_ok(text: str) -> bool:
    """SSA rules: area not 000, 666 nor 9xx; group not 00; serial not 0000."""
    area, group, serial = text.split("-")
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def _shape(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass").translate(_SHAPE)


_long_shape = _last_text(_shape)


#: ``_IBAN`` on the shape (see _SHAPE), word boundaries included, in one RE2 pass: random
#: text holds many "AA00" starts but hardly any whole IBAN, so ``_IBAN`` seldom runs.
_IBAN_SHAPE = re2.compile(rb"(?:^|[^A0a])AA00(?: ?[A0]{4}){2,7}(?: ?[A0]{1,4})?(?:[^A0a]|$)")


def _iban_start(text: str) -> int | None:
    """Where ``_IBAN`` may first match (0 when unsure), or None: it cannot."""
    shaped = (_long_shape if len(text) >= SET_REACH else _shape)(text)
    if b"AA00" not in shaped:
        return None
    found = _IBAN_SHAPE.search(shaped)
    if found is None:
        return None
    return found.start() if len(shaped) == len(text) else 0


_long_iban_start = _last_text(_iban_start)


def _iban_prefilter(text: str) -> bool:
    if len(text) >= SET_REACH:
        return _long_may_hold_pii(text) and _long_iban_start(text) is not None
    shaped = text.encode("utf-8", "surrogatepass").translate(_SHAPE)
    return b"AA00" in shaped and _iban_start(text) is not None


def _ssn_prefilter(text: str) -> bool:
    if len(text) >= SET_REACH:
        return _long_may_hold_pii(text) and b"000-00-0000" in _long_shape(text)
    return b"000-00-0000" in text.encode("utf-8", "surrogatepass").translate(_SHAPE)


def _pii_shapes() -> re2._Regexp:
    """_CARD_SHAPES, and _IBAN_SHAPE's and the SSN's "000-00-0000" shapes rewritten with
    the bytes _SHAPE maps to each class, as one RE2 pattern over the UTF-8 bytes read as
    Latin-1 (a byte a character). A superset of the three prefilters, which
    test_detectors holds it to: widen one, and this with it."""
    # "A" is [A-Z], "0" is [0-9], "a" is [a-z_], so "[A0]" is [A-Z0-9] and "[^A0a]" is
    # [^A-Za-z0-9_]; a space stays a space.
    iban = (
        r"(?:^|[^A-Za-z0-9_])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?"
        r"(?:[^A-Za-z0-9_]|$)"
    )
    ssn = r"[0-9]{3}-[0-9]{2}-[0-9]{4}"
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    return re2.compile(f"(?:{_CARD_SHAPES_TEXT})|(?:{iban})|(?:{ssn})".encode(), options)


_PII_SHAPES = _pii_shapes()


def _may_hold_pii(text: str) -> bool:
    """Could a card number, an IBAN or an SSN prefilter pass on ``text``? Most long text
    holds none of their shapes: one pass then stands for the three prefilters' four."""
    data = text.encode("ascii") if text.isascii() else text.encode("utf-8", "surrogatepass")
    return _PII_SHAPES.search(data) is not None


_long_may_hold_pii = _last_text(_may_hold_pii)


#: The detectors that find token formats (also run over binary bodies, byte by byte).
TOKEN_KINDS = frozenset(
    {"private_key", "jwe", "jwt", "bearer", "api_key", "webhook", "url_password", "connection"}
)

BUILTIN: tuple[Detector, ...] = (
    Detector("private_key", hints=("-----BEGIN",), finder=_private_key_spans),
    Detector("private_key", hints=("LS0tLS1CRUdJTi",), finder=_key_b64_spans),
    Detector("jwe", LinearPattern(_JWE_TEXT), ("eyJ",)),
    Detector("jwt", JWT, ("eyJ",)),
    Detector("bearer", hints=("earer", "EARER"), finder=_bearer_spans),
    Detector(
        "basic",
        prefilter=HintSet(("asic ", "ASIC ", "asic\t")),
        finder=_basic_spans,
        accept=_basic_accept,
    ),
    Detector("api_key", prefilter=_API_KEY_HINTS, finder=_api_key_spans),
    Detector("url_password", LinearPattern(_URL_PASSWORD_TEXT), ("://",), group=1),
    Detector(
        "email",
        hints=("@", "%40", "64;", "40;", "&commat;"),
        accept=_email_tld_ok,
        finder=_email_spans,
    ),
    Detector(
        "card",
        _CARD_SEARCH,
        accept=_card_accept,
        reject=versions.unlabelled,
        prefilter=_card_prefilter,
        listed=True,
        cost=CARD_COST,
    ),
    # Issue 18: token formats and PII with checksums.
    Detector("webhook", hints=("hooks.slack.com", "/api/webhooks/"), finder=_webhook_spans),
    Detector("connection", prefilter=HintSet(_CONNECTION_HINTS), finder=_connection_spans),
    Detector(
        "iban",
        _SearchFrom(_IBAN, _iban_start, _long_iban_start),
        accept=iban_ok,
        prefilter=_iban_prefilter,
        listed=True,
        cost=IBAN_COST,
    ),
    Detector("ssn", LinearPattern(_SSN_TEXT), accept=ssn_ok, prefilter=_ssn_prefilter),
    Detector("phone", LinearPattern(_PHONE_TEXT), ("+",), group=1),
    # A password after a program's short option (mysql -p..., curl -u user:...).
    Detector(
        "command",
        prefilter=HintSet(commandline.HINTS),
        finder=commandline.command_spans,
        echo=True,
    ),
    # A PostgreSQL password file's line (host:port:database:user:password).
    Detector("pgpass", prefilter=pgpass.may_hold_entry, finder=pgpass.entry_spans, echo=True),
    # HTTP Digest response, nonce and cnonce outside an Authorization header.
    Detector("digest", prefilter=HintSet(digestauth.HINTS), finder=digestauth.digest_spans),
)

#: The names accepted in the rules file's [detectors] table.
BUILTIN_KINDS = tuple(dict.fromkeys(detector.kind for detector in BUILTIN))


def compile_user(regex: str) -> Pattern:
    """A user's pattern, compiled by RE2 (``re2.error`` when it is not RE2 syntax)."""
    options = re2.Options()
    options.log_errors = False
    return LinearPattern(regex, options)


def custom(kind: str, pattern: Pattern) -> Detector:
    """A user detector: the group named ``secret`` if the regex has one, else the match."""
    group = pattern.groupindex.get("secret", 0)
    return Detector(kind, pattern, group=group, echo=True)
