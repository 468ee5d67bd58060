"""Does a field or header name look secret? Name normalisation and matching.

Field names (query parameters, JSON keys, form and multipart fields) are split into
lower-case words: ``accessToken``, ``access-token`` and ``ACCESS_TOKEN`` all become
``access token``. A pattern without wildcards matches when its words appear as a run in
the name's words that ends the name, or is followed only by words that keep it secret
(``hash``, ``value``, ``number``, digits...). So ``token`` matches ``refresh_token``,
``X-Auth-Token`` and ``token_hash`` but not ``tokens_used`` nor ``token_type``, and
``card`` matches ``card_number`` but not ``discard`` nor ``card_brand``. A pattern with
``*`` or ``?`` is a glob over the whole normalised name (words joined by ``_``); one that
starts with ``=`` matches the whole name only (``=code`` matches ``code``, not
``status_code``).

Header names follow the issue's wider rule: a header is secret when its lower-cased name
*contains* one of a few words (``key`` matches ``x-cache-key``, hence the allow-list).
"""

from __future__ import annotations

import fnmatch
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from functools import lru_cache
from itertools import accumulate, count
from operator import add
from urllib.parse import quote

import re2

_SPLIT = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^\W\d_]+")
_CACHE_SIZE = 8_192


#: Beyond ASCII: runs of letters, runs of digits (split at case changes afterwards).
_SPLIT_WIDE = re.compile(r"[^\W\d_]+|\d+")

#: Long secret words that end a word run together with what they qualify
#: (``accesstoken``, ``PGPASSWORD``, ``csrfmiddlewaretoken``), and the words each stands
#: for. Only words no ordinary word ends with: not ``key``, ``code``, ``pass`` or ``pin``
#: (``monkey``, ``barcode``, ``bypass``, ``spin``), nor ``tokens`` (``maxtokens``), nor
#: ``accesskey`` (an HTML attribute). ``token`` only after TOKEN_KINDS: ``jsonwebtoken``
#: is a package.
RUN_TOGETHER = {
    "password": ("password",), "passwd": ("passwd",), "passphrase": ("passphrase",),
    "passcode": ("passcode",), "secret": ("secret",), "token": ("token",),
    "credential": ("credential",), "credentials": ("credentials",),
    "privatekey": ("private", "key"), "apikey": ("api", "key"),
    "secretkey": ("secret", "key"),
    "signingkey": ("signing", "key"), "encryptionkey": ("encryption", "key"),
    "masterkey": ("master", "key"), "sessionkey": ("session", "key"),
    "sessionid": ("session", "id"),
    "passwort": ("passwort",), "kennwort": ("kennwort",), "wachtwoord": ("wachtwoord",),
}  # fmt: skip
#: What a word run together with ``token`` must start with to be split there.
TOKEN_KINDS = frozenset(
    {
        "access", "refresh", "id", "auth", "api", "client", "csrf", "csrfmiddleware",
        "xsrf", "identity", "session", "bearer", "oauth", "user", "app", "bot", "github",
        "gitlab", "npm", "slack", "personal", "security", "device", "registration",
        "reset", "invite", "verification", "confirmation", "push", "fcm", "apns",
        "service", "secret", "private", "master", "admin", "root", "deploy", "webhook",
        "sas", "sso", "saml", "mfa", "otp", "captcha", "recaptcha", "account", "team",
        "integration", "installation", "login", "signup", "upload", "download", "magic",
    }
)  # fmt: skip
#: Longest first, so ``clientsecretkey`` is ``client secret key``.
_RUN_TOGETHER_ENDS = tuple(sorted(RUN_TOGETHER, key=len, reverse=True))


@lru_cache(maxsize=_CACHE_SIZE)
def words(name: str) -> tuple[str, ...]:
    """``X-APIKey_v2`` -> ``('x', 'api', 'key', 'v', '2')``; ``accesstoken`` ->
    ``('access', 'token')`` (see RUN_TOGETHER); letters beyond ASCII stay in their word
    (``contraseña``, ``ПарольПользователя`` -> ``('пароль', 'пользователя')``)."""
    found = _SPLIT.findall(name) if name.isascii() else _split_wide(name)
    out: list[str] = []
    for word in map(str.lower, found):
        if not word.endswith(_RUN_TOGETHER_ENDS):
            out.append(word)
            continue
        end = next(e for e in _RUN_TOGETHER_ENDS if word.endswith(e))
        head = word[: -len(end)]
        if end == "token" and head and head not in TOKEN_KINDS:
            out.append(word)
            continue
        if head:
            out.append(head)
        out.extend(RUN_TOGETHER[end])
    return tuple(out)


def _split_wide(name: str) -> list[str]:
    """``_SPLIT`` for a name beyond ASCII: a word is a run of letters (any script) up to a
    change of case (``passwordHash``, ``APIKey``), or a run of digits."""
    out = []
    for run in _SPLIT_WIDE.findall(name):
        start = 0
        for i in range(1, len(run)):
            before, here = run[i - 1], run[i]
            if here.isupper() and (
                before.islower() or (before.isupper() and run[i + 1 : i + 2].islower())
            ):
                out.append(run[start:i])
                start = i
        out.append(run[start:])
    return out


def normalise(name: str) -> str:
    return "_".join(words(name))


def _is_glob(pattern: str) -> bool:
    return any(char in pattern for char in "*?[")


#: Words that may follow a secret word and keep the field secret: "password_hash",
#: "token_value", "card_number", "pin2". Any other word after it names something about
#: the secret, not the secret: "token_type", "cookie_name", "session_timeout".
TRAILING = frozenset(
    {
        "hash", "hashed", "digest", "value", "val", "confirm", "confirmation", "plain",
        "plaintext", "clear", "encrypted", "enc", "raw", "new", "old", "current", "id",
        "ids", "number", "num", "no", "nr", "data", "str", "string", "text", "code", "b64",
        "base64", "hex", "digits", "full", "secret", "token", "key", "again", "repeat",
        # Issue 18: an encoding or a version (SECRET_KEY_BASE, private_key_pem, api_key_v2)
        "base", "pem", "der", "jwk", "v",
    }
)  # fmt: skip


#: Words that are secret after any other word (a pattern ``+key``: ``stripe_key``,
#: ``hmac_key``, ``sms_code``, ``device_code``), unless the word before names what the
#: key or code identifies rather than proves: a record, a place in a store, a public
#: half, a category, a place, an outcome. Promotion, coupon, discount and referral codes
#: are shared in public by design, so they stay; invite, gift and voucher codes are
#: bearer credentials and go.
QUALIFIED_STOPS = {
    "key": frozenset(
        {
            "sort", "cache", "primary", "foreign", "partition", "row", "object", "s3",
            "template",
            "idempotency", "public", "pub", "publishable", "site", "lookup", "group",
            "grouping", "dedup", "dedupe", "deduplication", "map", "hash", "range",
            "routing", "ordering", "order", "shard", "unique", "composite", "compound",
            "natural", "surrogate", "candidate", "alternate", "secondary", "index",
            "message", "event", "translation", "i18n", "l10n", "locale", "lang",
            "language", "label", "text", "title", "field", "column", "attribute",
            "property", "config", "setting", "option", "feature", "flag", "experiment",
            "metric", "tag", "meta", "correlation", "file", "blob", "asset", "image",
            "entity", "resource", "record", "item", "node", "parent", "child", "lock",
            "state", "query", "search", "filter", "start", "evaluated", "next", "last",
            "first", "prev", "previous", "hot", "shortcut", "keyboard", "registry",
            "react", "list", "dict", "enum", "join", "redis", "cursor",
        }
    ),
    "code": frozenset(
        {
            "status", "error", "err", "country", "zip", "postal", "post", "area",
            "currency", "language", "lang", "locale", "http", "response", "resp", "order",
            "template", "invalid", "valid", "expired", "missing", "unknown", "duplicate",
            "exit", "return", "ret", "result", "reason", "decline", "failure", "fail",
            "event", "message", "msg", "warning", "region", "state", "province", "city",
            "county", "district", "phone", "dial", "dialing", "calling", "iso", "iata",
            "icao", "airport", "airline", "carrier", "station", "port", "product",
            "item", "sku", "article", "unit", "uom", "category", "class", "type",
            "kind", "tax", "vat", "bank", "branch", "swift", "bic", "sort", "color",
            "colour", "hs", "naics", "sic", "nace", "isic", "icd", "cpt", "diagnosis",
            "procedure", "source", "embed", "html", "promo", "promotion", "coupon",
            "discount", "campaign", "referral", "affiliate", "tracking", "department",
            "dept", "cost", "gl", "size", "style", "model", "brand", "variant",
            "vendor", "supplier", "mcc", "gtin", "ean", "upc", "isin", "key", "char",
            "scan", "ascii", "op", "hash", "short", "timezone", "tz", "exchange",
        }
    ),
}  # fmt: skip

#: The words before ``key`` and ``code`` that free text is searched for (fieldstarts):
#: the common secret ones. Everywhere names are parsed (JSON, forms, queries, multipart,
#: CSV, headers) the rule is wider: any word but QUALIFIED_STOPS.
TEXT_QUALIFIERS = {
    "key": (
        "stripe", "hmac", "client", "app", "application", "tls", "ssl", "consumer", "user",
        "signing", "sign", "encryption", "decryption", "master", "license", "licence",
        "account", "storage", "service", "admin", "root", "shared", "crypto", "cipher",
        "aes", "gpg", "pgp", "ssh", "rsa", "deploy", "webhook", "bot", "integration",
        "partner", "merchant", "server", "mac", "otp", "totp", "mfa", "jwt", "maps",
        "recaptcha", "captcha", "auth", "authentication", "session", "cookie", "csrf",
        "xsrf", "subscription", "instrumentation", "ingestion", "write", "read", "live",
        "test", "prod", "production", "sandbox", "dev", "kms", "vault", "sendgrid",
        "mailgun", "twilio", "slack", "github", "gitlab", "openai", "anthropic",
    ),
    "code": (
        "sms", "otp", "totp", "mfa", "2fa", "two factor", "one time", "email", "login",
        "signin", "sign in", "reset", "confirmation", "confirm", "activation", "pairing",
        "device", "user", "verification", "verify", "invite", "invitation", "auth",
        "authorization", "access", "recovery", "backup", "security", "gift", "voucher",
        "redeem", "redemption", "unlock", "magic", "challenge", "oauth", "grant", "pin",
        "phone", "mobile", "text", "passcode", "secret", "enrollment", "enrolment",
    ),
}  # fmt: skip

#: First words of a name that asks a question about a secret (``has_password``,
#: ``is_secret``, ``always-auth``): its value is a flag, not the secret.
FLAG_WORDS = frozenset({"has", "is", "always", "should", "can", "must", "needs", "requires", "was"})


#: Names of what names a field of a name/value pair, in every format: the keys of
#: ``{"name": "DB_PASSWORD", "value": "..."}`` and the elements of
#: ``<key>password</key><string>...</string>`` (a property list).
PAIR_NAMES = frozenset({"name", "key", "field", "variable", "param", "parameter", "header"})


def _trails(rest: tuple[str, ...]) -> bool:
    """Are these words (after a secret word) only TRAILING words or digits?"""
    return all(word in TRAILING or word.isdigit() for word in rest)


def _has_run(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    """Does ``needle`` occur in ``haystack`` followed only by TRAILING words or digits?"""
    size = len(needle)
    if size == 0 or size > len(haystack):
        return False
    for i in range(len(haystack) - size + 1):
        if haystack[i : i + size] == needle and all(
            word in TRAILING or word.isdigit() for word in haystack[i + size :]
        ):
            return True
    return False


#: A constant's name: words of letters joined by ``_ . -``, one case a word
#: (``invalid_request``, ``card-declined``, ``NOT_FOUND``, ``NoSuchKey``, ``Throttling``,
#: a country or airport code ``DE``, ``BER``: up to seven capitals, as an eight-letter
#: device code ``WDJBMJHT`` is a credential), or a sentence of three words or more.
_SYMBOL = re.compile(
    r"[a-z]{2,}(?:[_.\-][a-z]+)*|[A-Z]{2,}(?:_[A-Z]+)+|[A-Z]{2,7}|(?:[A-Z][a-z]+){2,}|[A-Z][a-z]{2,}"
    # a sentence (an i18n message under "invalid_code"): words of letters and blanks
    r"|[A-Za-z][a-z]*(?: [a-z]+){2,}[.!?]?"
)
_SYMBOL_MAX = 64


def is_symbol(value: object) -> bool:
    """Is ``value`` the name of a constant or a small code, not a secret? Under a name
    that is secret as the whole name only (``code``, ``key``), an error code
    (``"code": "invalid_request"``, ``"code": 404``) or a settings key (``"key":
    "theme"``) is what the field usually holds; a credential (an OAuth code, a one-time
    code, an API key) has digits or no such shape."""
    if isinstance(value, str):
        return len(value) <= _SYMBOL_MAX and _SYMBOL.fullmatch(value) is not None
    return type(value) is int and 0 <= value < 1000


#: The words a key's identifier ends with: it names a key, it is not one.
_KEY_IDS = frozenset({("key", "id"), ("key", "ids")})


class NameMatcher:
    """Matches names against word-run patterns and globs; results are cached."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        self._runs = tuple(
            words(p) for p in self.patterns if not _is_glob(p) and not p.startswith(("=", "+"))
        )
        #: Each run's first word -> the runs it starts: a name is tried only against the
        #: runs that start with one of its words.
        self._runs_by_first: dict[str, tuple[tuple[str, ...], ...]] = {}
        for run in self._runs:
            if run:
                self._runs_by_first[run[0]] = (*self._runs_by_first.get(run[0], ()), run)
        self._wholes = frozenset(words(p) for p in self.patterns if p.startswith("="))
        #: "+key": a word secret after any other word but those QUALIFIED_STOPS names.
        self._qualified = {
            word: frozenset(map(words, QUALIFIED_STOPS.get(word, ())))
            for p in self.patterns
            if p.startswith("+") and len(words(p)) == 1
            for word in words(p)
        }
        self._globs = tuple(
            re.compile(fnmatch.translate(normalise_glob(p))) for p in self.patterns if _is_glob(p)
        )
        self.matches: Callable[[str], bool] = lru_cache(maxsize=_CACHE_SIZE)(self._match)
        self.hints = _hints(self.patterns)
        self._hint_search = (
            None
            if self.hints is None
            else re2.compile("|".join(map(re.escape, self.hints)).encode())
        )
        self._json_keys = _json_keys_pattern(self)
        self._name_hints = _name_hints(self.hints)
        self._json_values = _json_values_pattern(self.hints)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def _match(self, name: str) -> bool:
        name_words = words(name)
        # A path (node_modules/passport-accesstoken) is not a field, nor a key's id
        # (signing_key_id, as a JWT's kid): globs only.
        if (
            "/" not in name
            and name_words[-2:] not in _KEY_IDS
            and (
                name_words in self._wholes
                or self._by_runs(name_words)
                or self._by_qualified(name_words)
            )
        ):
            return True
        if self._globs:
            joined = "_".join(name_words)
            return any(glob.match(joined) for glob in self._globs)
        return False

    def _by_runs(self, name_words: tuple[str, ...]) -> bool:
        """Does a word run match? Not one after a first word in FLAG_WORDS, unless the
        run starts with it (``has_password`` is a flag; a rule may name it)."""
        runs = self._runs_by_first
        if len(name_words) > 1 and name_words[0] in FLAG_WORDS:
            return any(
                name_words[: len(run)] == run and _trails(name_words[len(run) :])
                for run in runs.get(name_words[0], ())
            )
        for word in frozenset(name_words).intersection(runs):
            if any(_has_run(name_words, run) for run in runs[word]):
                return True
        return False

    def _by_qualified(self, name_words: tuple[str, ...]) -> bool:
        """Does a ``+word`` pattern match: the word after another one that its stop-list
        does not hold (one to three words back: ``s3`` is ``s 3``), then only trailing
        words or digits?"""
        if not self._qualified or not name_words or name_words[0] in FLAG_WORDS:
            return False
        for i in range(1, len(name_words)):
            stops = self._qualified.get(name_words[i])
            if stops is None or not _trails(name_words[i + 1 :]):
                continue
            if not any(name_words[max(0, i - size) : i] in stops for size in (1, 2, 3)):
                return True
        return False

    def whole_only(self, name: str) -> bool:
        """Does ``name`` match only as a whole name (``=code``) or by a ``+word`` pattern
        (``device_code``), by no run or glob? Such a field often holds a constant."""
        name_words = words(name)
        if name_words not in self._wholes and not self._by_qualified(name_words):
            return False
        if self._by_runs(name_words):
            return False
        joined = "_".join(name_words)
        return not any(glob.match(joined) for glob in self._globs)

    def may_match(self, name: str) -> bool:
        """False only when ``matches(name)`` is (a test for one name, cheaper than that
        when it is not memoised: a search for the hints in C, linear in the name)."""
        if self._name_hints is None:
            return bool(self.patterns)
        if len(name) > _SHORT_NAME and self._hint_search is not None:
            return self._hint_search.search(_utf8(name.lower())) is not None
        return self._name_hints.search(name.lower()) is not None

    def matching_any(self, lowered: list[str], names: list[str]) -> list[str]:
        """The ``names`` that may match, given each one ``lowered``: one RE2 pass over
        them all, the hints of the few that hold one placed afterwards."""
        if not self.patterns:
            return []
        if self._hint_search is None:
            return names
        return [names[i] for i in self.holding_hints(lowered)]

    def holding_hints(self, lowered: list[str]) -> list[int]:
        """The indexes of the texts in ``lowered`` (each lower-cased) that hold a hint,
        in order (every index when there are no hints to look for): one RE2 pass."""
        if self._hint_search is None:
            return list(range(len(lowered))) if self.patterns else []
        joined = "\x00".join(lowered)  # no hint holds the separator
        data = _utf8(joined)
        if self._hint_search.search(data) is None:
            return []
        sizes = map(len, lowered) if len(data) == len(joined) else map(len, map(_utf8, lowered))
        return self._hinted(data, sizes)

    def matching_any_ascii(self, lowered: str, names: list[str]) -> list[str]:
        """``matching_any`` of ASCII ``names`` given ``lowered``, all of them lower-cased
        and joined by NUL (one ``str.lower`` for them all, not one per name)."""
        if not self.patterns:
            return []
        if self._hint_search is None:
            return names
        data = lowered.encode("ascii")
        if self._hint_search.search(data) is None:
            return []
        return [names[i] for i in self._hinted(data, map(len, names))]

    def _hinted(self, data: bytes, sizes: Iterable[int]) -> list[int]:
        """The indexes of the texts (``sizes`` long, joined by NUL in ``data``) that hold
        a hint, in order."""
        assert self._hint_search is not None
        ends = list(map(add, accumulate(sizes), count(1)))
        found = dict.fromkeys(
            bisect_right(ends, hint.start()) for hint in self._hint_search.finditer(data)
        )
        return list(found)

    def in_json_keys(self, text: str) -> bool:
        """Does an object key of this JSON text match? A cheap test that never misses one.

        One RE2 pass for a quoted string that ends the way a matching name ends (see
        ``endings``) followed by a colon, so a hint that occurs in values only
        ("shipping" holds "pin") costs nothing.
        """
        if self._json_keys is None:
            return bool(self.patterns)
        return self._json_keys.search(_utf8(ascii_lower(text))) is not None

    def in_json_values(self, text: str) -> bool:
        """Does a string value (not an object key) of this JSON text hold a hint? A cheap
        test that never misses one, but for a hint spelled with ``\\u`` escapes.

        One RE2 pass: a string that holds a hint, then what may follow a value (a
        comma, a closing bracket, the end), never a colon.
        """
        if self._json_values is None:
            return bool(self.patterns)
        return self._json_values.search(_utf8(ascii_lower(text))) is not None

    def endings(
        self, between: str, rest: str, *, beyond_ascii: bool = False, any_qualifier: bool = False
    ) -> tuple[str | None, str | None] | None:
        """How the names this matcher matches end, as RE2 patterns for lower-cased text.

        (runs, wholes), each None when there is none: ``runs`` matches the end of every
        name matched by a word run (the run, then only trailing words or digits),
        ``wholes`` every name matched whole ("=key"). A superset: the case that splits
        words is gone. ``between`` is a character class of what may stand between two
        words (underscores, dots and dashes in a bare name); a glob contributes its
        longest literal word followed by ``rest*``. None when a glob has no literal word:
        then any name may match. A ``+word`` pattern is among ``runs``: with
        ``any_qualifier``, the word after any letter or digit (the caller tells its stop
        words apart: a JSON key pattern only decides whether a document is walked);
        without, only after the words TEXT_QUALIFIERS lists, as in free text a stop word
        (``status_code`` in every row of a table) would cost a try at every occurrence.
        Runs beyond ASCII only with ``beyond_ascii``: text formats read ASCII names (see
        fieldstarts), and each such run costs DFA states there for nothing; nor a run
        that holds another one followed only by trailing words (``client secret``
        holds ``secret``): its texts are the other's
        candidates already, as runs are searched after anything.
        """
        if self.hints is None:
            return None
        gap = f"{between}*"
        trailing = "|".join(sorted(TRAILING))
        kept = [run for run in self._runs if run and (beyond_ascii or _is_ascii(run))]
        runs = [gap.join(map(re.escape, run)) for run in _unsubsumed(kept)]
        for word in self._qualified:
            if any_qualifier:  # after any letter or digit: stop words are told apart later
                runs.append(f"[a-z0-9]{gap}{re.escape(word)}")
            else:
                sep = "[_.\\-]?"  # one separator at most: a gap loop costs DFA states
                before = sorted({sep.join(map(re.escape, words(q))) for q in TEXT_QUALIFIERS[word]})
                runs.append(f"(?:{'|'.join(before)}){sep}{re.escape(word)}")
        ends = [f"(?:{'|'.join(runs)})(?:{gap}(?:{trailing}|\\pN+))*{gap}"] if runs else []
        ends += [f"{re.escape(w)}{rest}*" for w in _glob_words(self.patterns)]
        wholes = [
            gap.join(map(re.escape, whole))
            for whole in self._wholes
            if whole and (beyond_ascii or _is_ascii(whole))
        ]
        return (
            "|".join(ends) or None,
            f"{gap}(?:{'|'.join(wholes)}){gap}" if wholes else None,
        )

    def may_occur(self, lowered_text: str) -> bool:
        """False only when no name in ``lowered_text`` can match (a fast pre-check)."""
        if self._hint_search is None:
            return bool(self.patterns)
        return self._hint_search.search(_utf8(lowered_text)) is not None


def _is_ascii(run: tuple[str, ...]) -> bool:
    return all(map(str.isascii, run))


def _unsubsumed(runs: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """``runs`` but those holding another one followed only by trailing words or digits
    (``client secret`` holds ``secret``, ``cvv 2`` holds ``cvv``)."""
    distinct = list(dict.fromkeys(runs))
    have = frozenset(distinct)
    return [run for run in distinct if not _holds_another(run, have)]


def _holds_another(run: tuple[str, ...], runs: frozenset[tuple[str, ...]]) -> bool:
    """Does a shorter part of ``run`` in ``runs`` end it, but for trailing words?"""
    size = len(run)
    return any(
        run[i:j] in runs and _trails(run[j:])
        for i in range(size)
        for j in range(i + 1, size + 1)
        if j - i < size
    )


def normalise_glob(pattern: str) -> str:
    """Normalise the literal parts of a glob the way names are normalised."""
    parts = re.split(r"([*?]|\[[^\]]*\])", pattern)
    out = []
    for part in parts:
        if not part:
            continue
        if part in ("*", "?") or part.startswith("["):
            out.append(part)
        else:
            lead = "_" if part[0] in "-_." else ""
            trail = "_" if part[-1] in "-_." else ""
            out.append(lead + normalise(part) + trail)
    return "".join(out)


#: What may stand between two words of a quoted JSON key, and follow a glob's word.
_JSON_KEY = (r"[^a-z0-9\"\n]", r"[^\"\n]")


def _json_keys_pattern(matcher: NameMatcher) -> re2._Regexp | None:
    """A quoted string ending the way a matching name ends, then a colon (None: any)."""
    endings = matcher.endings(*_JSON_KEY, beyond_ascii=True, any_qualifier=True)
    if endings is None:
        return None
    runs, wholes = endings
    keys = []
    if runs is not None:
        keys.append(f'"[^"\\n]*?(?:{runs})"')
    if wholes is not None:
        keys.append(f'"(?:{wholes})"')
    if not keys:
        return None
    return re2.compile(f"(?:{'|'.join(keys)})[\\t-\\r\\x1c-\\x20\\x85\\p{{Z}}]*:".encode())


#: Past this length a name (a long text tested as one) is searched by RE2, at DFA speed.
_SHORT_NAME = 256


def _name_hints(hints: tuple[str, ...] | None) -> re.Pattern[str] | None:
    """The hints as one alternation of literals for ``may_match`` (None: no such test).

    Python's ``re`` on a short name costs less than a call into RE2, and a pattern of
    literals only cannot backtrack. A name is lowered whole there and word by word in
    ``words``, which agree on every character but the Greek sigma (its lower case
    depends on where it stands in a word): no hint may hold one.
    """
    if not hints or any(sigma in hint for hint in hints for sigma in "σς"):
        return None
    return re.compile("|".join(map(re.escape, hints)))


def _json_values_pattern(hints: tuple[str, ...] | None) -> re2._Regexp | None:
    """A JSON string holding a hint, followed as a value is (None: no such test).

    Read byte by byte (Latin-1), so that any byte but a quote or backslash stands inside
    a string, whatever the text's encoding; a hint beyond ASCII is its UTF-8 bytes, as
    the text searched is UTF-8. A search from a
    string's closing quote reads what lies between strings as a string: punctuation,
    numbers, ``true``, ``false`` and ``null``, which may hold no hint but a false one
    (a superset: the test never misses a value that holds one).
    """
    if not hints:
        return None
    inside = r'(?:[^"\\]|\\.)*'
    found = "|".join("".join(f"\\x{b:02x}" for b in _utf8(hint)) for hint in hints)
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    options.dot_nl = True
    pattern = f'"{inside}(?:{found}){inside}"[\\t\\n\\r ]*(?:[,\\]}}]|\\z)'
    return re2.compile(pattern.encode(), options=options)


def _utf8(text: str) -> bytes:
    """RE2 reads UTF-8; a lone surrogate (from a JSON escape) is kept, not an error."""
    return text.encode("utf-8", "surrogatepass")


def _glob_words(patterns: tuple[str, ...]) -> list[str]:
    """The longest literal word of each glob (one that any name it matches holds)."""
    out = []
    for pattern in patterns:
        if _is_glob(pattern):
            literal = re.split(r"[*?]|\[[^\]]*\]", pattern)
            candidates = [w for part in literal for w in words(part)]
            if candidates:
                out.append(max(candidates, key=len))
    return out


def _hints(patterns: tuple[str, ...]) -> tuple[str, ...] | None:
    """Literal words one of which any matching name must contain (None: no such set).

    A word-run pattern needs all its words, so one word is enough as a hint; a pattern
    with a word that is itself a one-word pattern needs no hint of its own, and a hint
    that contains a shorter hint is implied by it.
    """
    singles = {words(p) for p in patterns if not _is_glob(p) and len(words(p)) == 1}
    hints: set[str] = set()
    for pattern in patterns:
        literal = re.split(r"[*?]|\[[^\]]*\]", pattern) if _is_glob(pattern) else [pattern]
        candidates = [w for part in literal for w in words(part)]
        if not candidates or max(len(w) for w in candidates) < 2:
            return None
        if not _is_glob(pattern) and any((w,) in singles for w in candidates):
            hints.update(w for w in candidates if (w,) in singles)
            continue
        hints.add(max(candidates, key=len))
    minimal = {h for h in hints if not any(o != h and o in h for o in hints)}
    # A URL or a form carries a name beyond ASCII percent-encoded: that is a hint too.
    minimal.update(quote(h, safe="").lower() for h in list(minimal) if not h.isascii())
    return tuple(sorted(minimal))


class HeaderMatcher:
    """Secret headers: exact names, names containing a word, and globs; case-insensitive."""

    def __init__(
        self, exact: Iterable[str], contains: Iterable[str], globs: Iterable[str] = ()
    ) -> None:
        self._exact = frozenset(header_key(name) for name in exact)
        self._contains = tuple(header_key(word) for word in contains)
        self._globs = tuple(re.compile(fnmatch.translate(header_key(g))) for g in globs)
        self.matches: Callable[[str], bool] = lru_cache(maxsize=_CACHE_SIZE)(self._match)

    def __bool__(self) -> bool:
        return bool(self._exact or self._contains or self._globs)

    def _match(self, name: str) -> bool:
        lowered = header_key(name)
        if lowered in self._exact or any(word in lowered for word in self._contains):
            return True
        return any(glob.match(lowered) for glob in self._globs)


#: The one character whose lower case is two characters ("i" and a combining dot).
_DOTTED_I = "\u0130"


def ascii_lower(text: str) -> str:
    """Lower-cased, with every index still pointing at the same character.

    str.lower() keeps the length for all text but "İ", which becomes two characters: it
    is lowered to the dotless i (U+0131) instead (a letter either way; the name hints are ASCII).
    """
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return text.replace(_DOTTED_I, "\u0131").lower()


def header_key(name: str) -> str:
    """Header names compare case-insensitively, with ``_`` and ``-`` equivalent."""
    return name.strip().lower().replace("_", "-")
