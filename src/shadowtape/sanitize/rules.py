"""What counts as secret: the built-in defaults, the user's TOML rules, and the allow-list.

A rules file only *adds* to the defaults (more headers, field names, JSON paths, text
patterns) or *keeps* named things untouched (the allow-list); a built-in detector can be
switched off by name. ``Policy`` is the compiled result the sanitizer runs with.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import re2

from shadowtape.errors import SanitizeError
from shadowtape.sanitize import detectors
from shadowtape.sanitize.detectors import Detector, Finders
from shadowtape.sanitize.jsonpath import JsonPath, JsonPathError
from shadowtape.sanitize.memo import TextMemo
from shadowtape.sanitize.names import HeaderMatcher, NameMatcher

#: Headers whose value is always secret (cookie headers keep their cookie names).
SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key")
#: A header whose lower-cased name contains one of these is secret (and so is a header
#: whose name matches a secret field name: X-Card-Number, Stripe-Signature).
SECRET_HEADER_WORDS = ("token", "secret", "key", "session", "auth", "password")
#: Headers that match the rules above but hold no secret (a challenge, a CORS flag).
ALLOWED_HEADERS = (
    "www-authenticate",
    "proxy-authenticate",
    "access-control-allow-credentials",
    ":authority",
)
#: Query, JSON, form and multipart field names that hold secrets (see names.py for matching).
SECRET_FIELDS = (
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "passcode",
    "secret",
    "token",
    "api_key",
    "apikey",
    "access_key",
    "private_key",
    "secret_key",
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "auth",
    "authorization",
    "credential",
    "credentials",
    "session",
    "session_id",
    "sessionid",
    "sessid",
    "jsessionid",
    "phpsessid",
    "sid",
    "signature",
    "sig",
    "otp",
    "pin",
    "ssn",
    "card",
    "card_number",
    "cardnumber",
    "ccnum",
    "cvv",
    "cvv2",
    "cvc",
    "security_code",
    "iban",
    "account_number",
    "routing_number",
    # Issue 18: one list for every format (forms, multipart, CSV, XML, text, JSON).
    # "=key" and "=code" match the whole name only: "key" and "code" alone are an API
    # key and an OAuth code, while "sort_key" or "status_code" hold nothing secret.
    "pass",
    "=key",
    "=code",
    "auth_code",
    "authorization_code",
    "verification_code",
    "recovery_code",
    "backup_code",
    "mfa_code",
    "code_verifier",
    "csrf",
    "xsrf",
    "account_key",
    "encryption_key",
    "signing_key",
    "master_key",
    "ssh_key",
    "license_key",
    "shared_access_key",
    "connection_string",
    "database_url",
    "dsn",
    "mnemonic",
    "seed_phrase",
    # Plurals that hold secrets, not counts: "passwords", "api_keys", "secrets". Not
    # "tokens", "keys", "codes", "sessions" or "cards": "max_tokens": 256 is a number.
    "passwords",
    "passphrases",
    "passcodes",
    "secrets",
    "api_keys",
    "apikeys",
    "access_keys",
    "secret_keys",
    "private_keys",
    "access_tokens",
    "refresh_tokens",
    "id_tokens",
    "auth_tokens",
    "client_secrets",
    "session_ids",
    "card_numbers",
    "account_numbers",
    "recovery_codes",
    "backup_codes",
    "ssh_keys",
    "signing_keys",
    "encryption_keys",
    # Issue 18, found by a security review (see names.py: RUN_TOGETHER, QUALIFIED_STOPS).
    "+key",
    "+code",
    "pass_word",
    "pass_phrase",
    "creds",
    "ccv",
    "cc_number",
    "cc_num",
    "card_pan",
    "social_security",
    "national_id",
    "national_insurance_number",
    "passport_number",
    "passport_no",
    "tax_id",
    "passwort",
    "kennwort",
    "contraseña",
    "contrasena",
    "mot_de_passe",
    "motdepasse",
    "senha",
    "wachtwoord",
    "hasło",
    "haslo",
    "lösenord",
    "losenord",
    "passord",
    "adgangskode",
    "salasana",
    "heslo",
    "jelszó",
    "jelszo",
    "пароль",
    "密码",
    "密碼",
    "パスワード",
    "비밀번호",
    # Issue 18, the last of the review list. A pepper is a server-side secret by
    # definition, but "pepper" alone is a spice as often: as the whole name (a constant
    # or small number kept, as under "key") or after "password". Not "salt": a salt is
    # public by design (stored beside its hash, sent to clients by SRP and SCRAM logins)
    # and proves nothing alone. Seeds of one-time-password generators are the secret
    # itself ("seed" alone is a random seed). "cred" abbreviates credential ("jwt" is
    # not here: it names a config section as often, and a JWT is found by its shape). A
    # CAPTCHA response is a bearer token for one submission. RFC 8628's
    # verification_uri_complete embeds the device flow's user code.
    "=pepper",
    "password_pepper",
    "otp_seed",
    "totp_seed",
    "hotp_seed",
    "mfa_seed",
    "cred",
    "recaptcha_response",
    "captcha_response",
    "turnstile_response",
    "verification_uri_complete",
    "verification_url_complete",
)

_TABLES: dict[str, tuple[str, ...]] = {
    "redact": ("headers", "keys", "json_paths", "patterns"),
    "allow": ("headers", "keys", "json_paths", "cookies"),
    "detectors": detectors.BUILTIN_KINDS,
}


@dataclass(frozen=True, slots=True)
class TextPattern:
    """A user regex for free text; the group named ``secret``, if any, is what is replaced."""

    name: str
    regex: str


@dataclass(frozen=True, slots=True)
class Rules:
    """User rules, on top of the defaults. Every field is optional."""

    redact_headers: tuple[str, ...] = ()
    redact_keys: tuple[str, ...] = ()
    redact_json_paths: tuple[str, ...] = ()
    redact_patterns: tuple[TextPattern, ...] = ()
    allow_headers: tuple[str, ...] = ()
    allow_keys: tuple[str, ...] = ()
    allow_json_paths: tuple[str, ...] = ()
    allow_cookies: tuple[str, ...] = ()
    #: Built-in detectors switched off by name ("email", "card", "jwt", ...).
    disabled_detectors: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Rules:
        """Read a TOML rules file; any problem is one SanitizeError line."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            where = os.fspath(path)
            raise SanitizeError(f"cannot read sanitize rules {where!r}: {reason}") from None
        return cls.from_toml(text, source=os.fspath(path))

    @classmethod
    def from_toml(cls, text: str, *, source: str = "<rules>") -> Rules:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SanitizeError(f"sanitize rules {source!r} are not valid TOML: {exc}") from None
        return cls.from_mapping(data, source=source)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], *, source: str = "<rules>") -> Rules:
        where = f"sanitize rules {source!r}"
        _known(data, tuple(_TABLES), where, "table")
        redact = _table(data, "redact", where)
        allow = _table(data, "allow", where)
        switches = _table(data, "detectors", where)
        for name, value in switches.items():
            if not isinstance(value, bool):
                raise SanitizeError(f"{where}: [detectors] {name} must be true or false")
        rules = cls(
            redact_headers=_strings(redact, "headers", f"{where}: [redact]"),
            redact_keys=_strings(redact, "keys", f"{where}: [redact]"),
            redact_json_paths=_strings(redact, "json_paths", f"{where}: [redact]"),
            redact_patterns=_patterns(redact.get("patterns", []), f"{where}: [redact]"),
            allow_headers=_strings(allow, "headers", f"{where}: [allow]"),
            allow_keys=_strings(allow, "keys", f"{where}: [allow]"),
            allow_json_paths=_strings(allow, "json_paths", f"{where}: [allow]"),
            allow_cookies=_strings(allow, "cookies", f"{where}: [allow]"),
            disabled_detectors=frozenset(k for k, v in switches.items() if v is False),
        )
        Policy.build(rules, where=where)  # compile once so errors surface at load time
        return rules


def _known(data: Mapping[str, object], valid: tuple[str, ...], where: str, what: str) -> None:
    for name in data:
        if name not in valid:
            raise SanitizeError(
                f"{where}: unknown {what} {name!r}; valid: {', '.join(valid) or 'none'}"
            )


def _table(data: Mapping[str, object], name: str, where: str) -> Mapping[str, object]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise SanitizeError(f"{where}: {name!r} must be a table ([{name}])")
    _known(value, _TABLES[name], f"{where}: [{name}]", "key")
    return value


def _strings(table: Mapping[str, object], name: str, where: str) -> tuple[str, ...]:
    value = table.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SanitizeError(f"{where} {name} must be a list of non-empty strings")
    return tuple(value)


def _patterns(value: object, where: str) -> tuple[TextPattern, ...]:
    if not isinstance(value, list):
        raise SanitizeError(f"{where} patterns must be a list of {{name, regex}} tables")
    out = []
    for item in value:
        if (
            not isinstance(item, dict)
            or set(item) != {"name", "regex"}
            or not all(isinstance(v, str) and v for v in item.values())
        ):
            raise SanitizeError(
                f"{where} each pattern needs exactly a name and a regex, both non-empty strings"
            )
        out.append(TextPattern(name=item["name"], regex=item["regex"]))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Policy:
    """Defaults plus rules, compiled: what the sanitizer asks while it works."""

    secret_header: HeaderMatcher
    allowed_header: HeaderMatcher
    secret_field: NameMatcher
    allowed_field: NameMatcher
    allowed_cookies: frozenset[str]
    secret_paths: tuple[JsonPath, ...]
    allowed_paths: tuple[JsonPath, ...]
    detectors: tuple[detectors.Detector, ...]
    #: Header name -> one of HEADER_KINDS, memoised.
    header_kind: Callable[[str], str] = field(init=False)
    #: Text -> (detectors that find something in it, may it hold a secret-named field).
    static_scope: TextMemo[tuple[tuple[Detector, ...], bool]] = field(init=False)
    _finders: Finders = field(init=False, repr=False, compare=False)
    #: JSON text -> may one of its object keys be secret (see NameMatcher.in_json_keys).
    json_keys_may_match: TextMemo[bool] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "header_kind", lru_cache(maxsize=4_096)(self._header_kind))
        object.__setattr__(self, "static_scope", TextMemo(self._static_scope))
        object.__setattr__(self, "_finders", Finders(self.detectors))
        object.__setattr__(
            self,
            "json_keys_may_match",
            TextMemo(self.secret_field.in_json_keys),
        )

    @classmethod
    def build(cls, rules: Rules | None = None, *, where: str = "sanitize rules") -> Policy:
        rules = rules or Rules()
        try:
            secret_paths = tuple(JsonPath(p) for p in rules.redact_json_paths)
            allowed_paths = tuple(JsonPath(p) for p in rules.allow_json_paths)
        except JsonPathError as exc:
            raise SanitizeError(f"{where}: {exc}") from None
        unknown = rules.disabled_detectors - set(detectors.BUILTIN_KINDS)
        if unknown:
            raise SanitizeError(
                f"{where}: unknown detector {sorted(unknown)[0]!r}; "
                f"valid: {', '.join(detectors.BUILTIN_KINDS)}"
            )
        found = [d for d in detectors.BUILTIN if d.kind not in rules.disabled_detectors]
        for pattern in rules.redact_patterns:
            try:
                compiled = detectors.compile_user(pattern.regex)
            except re2.error as exc:
                reason = (
                    exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
                )
                raise SanitizeError(
                    f"{where}: pattern {pattern.name!r} is not a valid regex: {reason} "
                    "(patterns use RE2 syntax, which runs in linear time: no look-arounds "
                    "or back-references)"
                ) from None
            if compiled.match(""):
                raise SanitizeError(f"{where}: pattern {pattern.name!r} matches empty text")
            found.append(detectors.custom(pattern.name, compiled))
        return cls(
            secret_header=HeaderMatcher(
                (*SECRET_HEADERS, *_exact(rules.redact_headers)),
                SECRET_HEADER_WORDS,
                globs=_globs(rules.redact_headers),
            ),
            allowed_header=HeaderMatcher(
                (*ALLOWED_HEADERS, *_exact(rules.allow_headers)),
                (),
                globs=_globs(rules.allow_headers),
            ),
            secret_field=NameMatcher((*SECRET_FIELDS, *rules.redact_keys)),
            allowed_field=NameMatcher(rules.allow_keys),
            allowed_cookies=frozenset(rules.allow_cookies),
            secret_paths=secret_paths,
            allowed_paths=allowed_paths,
            detectors=tuple(found),
        )

    def _header_kind(self, name: str) -> str:
        if self.allowed_header.matches(name):
            return "allowed"
        lowered = name.lower()
        if lowered in ("cookie", "set-cookie"):
            return lowered
        if self.secret_header.matches(name) or self.secret_field.matches(name):
            return "secret"
        return "other"

    def occurring(self, text: str, among: tuple[Detector, ...]) -> tuple[Detector, ...]:
        """The detectors of ``among`` that may occur in ``text`` (see Finders)."""
        return self._finders.occurring(text, among)

    def _static_scope(self, text: str) -> tuple[tuple[Detector, ...], bool]:
        found = self._finders(text)
        return found, self.secret_field.may_occur(text.lower())


def _exact(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(n for n in names if not any(c in n for c in "*?["))


def _globs(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(n for n in names if any(c in n for c in "*?["))


__all__ = ["Policy", "Rules", "TextPattern"]
