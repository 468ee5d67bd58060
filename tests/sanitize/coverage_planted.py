"""Generators for the issue-18 coverage categories: token formats, PII with checksums,
and the text-body, XML, form, multipart and CSV places a secret-named value hides in.

Each generator yields ``(planted text, Secret)``: what goes into a body, and the part of
it that must not survive (a database URL is planted whole, its password must go).
"""

from __future__ import annotations

import base64
import string

from hypothesis import strategies as st

from tests.sanitize.planted import Secret, tokens

_ALNUM = string.ascii_letters + string.digits
_B64 = string.ascii_letters + string.digits + "+/"
_URLSAFE = string.ascii_letters + string.digits + "-_"


def _text(alphabet: str, size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=size, max_size=size)


@st.composite
def key_blocks(draw: st.DrawFn) -> tuple[str, Secret]:
    label = draw(
        st.sampled_from(["RSA PRIVATE KEY", "OPENSSH PRIVATE KEY", "PGP PRIVATE KEY BLOCK"])
    )
    lines = [draw(_text(_B64, 64)) for _ in range(draw(st.integers(1, 4)))]
    inner = "\n".join(lines)
    return f"-----BEGIN {label}-----\n{inner}\n-----END {label}-----", Secret("key", lines[0])


@st.composite
def encoded_key_blocks(draw: st.DrawFn) -> tuple[str, Secret]:
    """A key block base64-encoded whole, as a Kubernetes Secret's ``data`` holds one."""
    block, _ = draw(key_blocks())
    encoded = base64.b64encode(block.encode()).decode()
    return encoded, Secret("key", encoded[40:104])


@st.composite
def jwes(draw: st.DrawFn) -> tuple[str, Secret]:
    parts = [draw(_text(_URLSAFE, n)) for n in (40, 16, 60, 22)]
    token = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ." + ".".join(parts)
    return token, Secret("jwe", parts[2])


def _whole(kind: str, strategy: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[str, Secret]]:
    return strategy.map(lambda t: (t, Secret(kind, t)))


@st.composite
def db_urls(draw: st.DrawFn) -> tuple[str, Secret]:
    scheme = draw(st.sampled_from(["postgres", "postgresql", "mysql", "mongodb+srv", "redis"]))
    password = draw(st.text(_ALNUM, min_size=12, max_size=24).filter(_mixed))
    return f"{scheme}://app_user:{password}@db.internal.test:5432/app", Secret("db", password)


@st.composite
def azure_strings(draw: st.DrawFn) -> tuple[str, Secret]:
    key = draw(_text(_ALNUM, 44).filter(_mixed))
    name = draw(st.sampled_from(["AccountKey", "SharedAccessKey"]))
    text = f"DefaultEndpointsProtocol=https;AccountName=acct;{name}={key};EndpointSuffix=core"
    return text, Secret("azure", key)


@st.composite
def slack_hooks(draw: st.DrawFn) -> tuple[str, Secret]:
    secret = draw(_text(_ALNUM, 24).filter(_mixed))
    return f"https://hooks.slack.com/services/T01ABCDEF/B02GHIJKL/{secret}", Secret("hook", secret)


@st.composite
def ibans(draw: st.DrawFn) -> tuple[str, Secret]:
    country = draw(st.sampled_from(["DE", "FR", "GB", "NL", "ES"]))
    bban = draw(_text(string.digits, 18))
    numeric = "".join(str(int(c, 36)) for c in bban + country) + "00"
    check = 98 - int(numeric) % 97
    iban = f"{country}{check:02d}{bban}"
    return iban, Secret("iban", iban)


@st.composite
def ssns(draw: st.DrawFn) -> tuple[str, Secret]:
    area = draw(st.integers(1, 899).filter(lambda a: a != 666))
    ssn = f"{area:03d}-{draw(st.integers(1, 99)):02d}-{draw(st.integers(1, 9999)):04d}"
    return ssn, Secret("ssn", ssn)


@st.composite
def phones(draw: st.DrawFn) -> tuple[str, Secret]:
    number = (
        "+" + str(draw(st.integers(1, 9))) + draw(_text(string.digits, draw(st.integers(8, 12))))
    )
    return number, Secret("phone", number)


def _mixed(text: str) -> bool:
    return sum(c.isalpha() for c in text) >= 3 and sum(c.isdigit() for c in text) >= 3


#: Token formats: found in any body, text or binary.
token_formats = st.one_of(
    key_blocks(),
    encoded_key_blocks(),
    jwes(),
    _whole("ya29", _text(_URLSAFE, 40).map(lambda t: "ya29." + t)),
    _whole("npm", _text(_ALNUM, 36).map(lambda t: "npm_" + t)),
    _whole(
        "sendgrid",
        st.tuples(_text(_URLSAFE, 22), _text(_URLSAFE, 43)).map(lambda t: f"SG.{t[0]}.{t[1]}"),
    ),
    slack_hooks(),
    db_urls(),
    azure_strings(),
)
#: PII with a checksum or a strict shape: found in text bodies.
pii = st.one_of(ibans(), ssns(), phones())
#: Values that are secret because of their name: random tokens, maybe base64-encoded.
named_values = st.one_of(
    tokens.map(lambda t: (t, Secret("token", t))),
    tokens.map(lambda t: base64.b64encode(t.encode()).decode()).map(
        lambda t: (t, Secret("b64", t))
    ),
)
#: Names from the one shared list, in the spellings each format uses.
secret_names = st.sampled_from(
    ["password", "db_pass", "pwd", "client_secret", "api_token", "key", "code", "csrf_token",
     "AccountKey", "DB_PASSWORD", "db.password", "apiKey", "private-key"]
)  # fmt: skip
