"""Secret generators for the adversarial sanitizer tests, and a leak finder.

Each strategy yields a ``Secret``: the text to plant and the forms that must not survive
(a card number planted with spaces must not survive with or without them).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

import pyarrow as pa
from hypothesis import strategies as st

from shadowtape import Exchange
from shadowtape.sanitize.detectors import luhn_check_digit
from shadowtape.tape import to_batch

_ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Secret:
    kind: str
    text: str

    def forms(self) -> set[str]:
        """Every form of the secret that must not be found after sanitizing."""
        forms = {self.text, quote(self.text, safe=""), quote_plus(self.text)}
        if self.kind == "card":
            forms.add(self.text.replace(" ", "").replace("-", ""))
        return forms


def _join(parts: list[str]) -> str:
    return "".join(parts)


# A random token: long enough to be searched for elsewhere (context.ECHO_MIN).
# Letters and digits both, so a token cannot be a mere word of the surrounding test data.
tokens = st.text(_ALNUM + "-_.~", min_size=12, max_size=40).filter(
    lambda t: sum(c.isalpha() for c in t) >= 3 and sum(c.isdigit() for c in t) >= 3
)
b64url = st.text(_ALNUM + "-_", min_size=8, max_size=60)


#: Real JWT headers: a pseudonym keeps the header (it holds no secret), so generated
#: headers would only make generated tokens collide with it.
_JWT_HEADERS = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0",
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9",
)


@st.composite
def jwts(draw: st.DrawFn) -> str:
    header = draw(st.sampled_from(_JWT_HEADERS))
    return f"{header}.eyJ{draw(b64url)}.{draw(b64url)}"


@st.composite
def cards(draw: st.DrawFn) -> str:
    """A 16-digit number that passes Luhn, maybe grouped by spaces, dashes or dots."""
    payload = str(draw(st.integers(2, 6))) + "".join(
        draw(st.lists(st.sampled_from(string.digits), min_size=14, max_size=14))
    )
    digits = payload + str(luhn_check_digit(payload))
    separator = draw(st.sampled_from(["", " ", "-", "."]))
    return separator.join(digits[i : i + 4] for i in range(0, 16, 4))


_label = st.text(string.ascii_lowercase + string.digits, min_size=2, max_size=12)


@st.composite
def emails(draw: st.DrawFn) -> str:
    local = draw(st.text(string.ascii_letters + string.digits + "._+-", min_size=1, max_size=20))
    local = draw(st.sampled_from(string.ascii_lowercase)) + local.strip(".")
    tld = draw(st.sampled_from(["com", "org", "io", "net", "de", "co", "example"]))
    labels = draw(st.lists(_label, min_size=1, max_size=3))
    return f"{local}@{'.'.join(labels)}.{tld}"


def _fixed(prefix: str, alphabet: str, size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=size, max_size=size).map(lambda rest: prefix + rest)


aws_keys = _fixed("AKIA", string.ascii_uppercase + string.digits, 16)
stripe_keys = _fixed("sk_live_", _ALNUM, 24)
github_tokens = _fixed("ghp_", _ALNUM, 36)
slack_tokens = st.tuples(
    st.sampled_from(["xoxb-", "xoxp-"]), st.text(string.digits + "-", min_size=12, max_size=24)
).map(lambda t: t[0] + "1" + t[1] + "a")

#: Secrets a detector finds anywhere in free text.
detectable = st.one_of(
    jwts().map(lambda t: Secret("jwt", t)),
    cards().map(lambda t: Secret("card", t)),
    emails().map(lambda t: Secret("email", t)),
    aws_keys.map(lambda t: Secret("api_key", t)),
    stripe_keys.map(lambda t: Secret("api_key", t)),
    github_tokens.map(lambda t: Secret("api_key", t)),
    slack_tokens.map(lambda t: Secret("api_key", t)),
)
#: Secrets that are only secret because of where they are (any shape at all).
positional = st.one_of(tokens.map(lambda t: Secret("token", t)), detectable)


def _texts(exchange: Exchange) -> list[str | bytes]:
    req, resp = exchange.request, exchange.response
    out: list[str | bytes] = [req.method, req.host, req.path, req.query, req.body, req.url]
    out += [part for pair in req.headers for part in pair]
    if resp is not None:
        out += [resp.reason, resp.body, *(part for pair in resp.headers for part in pair)]
    if exchange.error is not None:
        out.append(exchange.error.message)
    out += list(exchange.redactions)
    out += [part for item in exchange.tags.items() for part in item]
    return out


def _batch_texts(batch: pa.RecordBatch) -> list[str | bytes]:
    out: list[str | bytes] = []

    def visit(value: object) -> None:
        if isinstance(value, str | bytes):
            out.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                visit(item)
        elif isinstance(value, list | tuple):
            for item in value:
                visit(item)

    for column in batch.to_pylist():
        visit(column)
    return out


def leaks(exchange: Exchange, secrets: list[Secret]) -> list[str]:
    """Descriptions of every planted secret form still present, in the exchange or its batch."""
    texts = _texts(exchange) + _batch_texts(to_batch([exchange]))
    found = []
    for secret in secrets:
        for form in secret.forms():
            raw = form.encode()
            for text in texts:
                if (form in text) if isinstance(text, str) else (raw in text):
                    found.append(f"{secret.kind} {form!r} survives in {text!r:.200}")
    return found
