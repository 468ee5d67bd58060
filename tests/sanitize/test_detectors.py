"""Detectors: what a secret looks like in free text, and what must not be mistaken for one."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadowtape import Exchange, Request, Response
from shadowtape.sanitize import Sanitizer
from shadowtape.sanitize.detectors import (
    _IBAN_TEXT,
    BUILTIN,
    FINDS_TRIES,
    LISTED_BATCH,
    SET_REACH,
    Finders,
    _card_start,
    _iban_start,
    _may_hold_pii,
    _private_key_spans,
    _shape,
    api_key_prefix,
    card_digits,
    iban_ok,
    is_card,
    is_email,
    is_jwt,
    luhn_check_digit,
    luhn_ok,
    ssn_ok,
)
from tests.sanitize.planted import aws_keys, cards, emails, github_tokens, jwts, stripe_keys


def kinds_found(text: str) -> set[str]:
    return {d.kind for d in BUILTIN if d.finds(text)}


@pytest.mark.parametrize(
    ("number", "ok"),
    [("4111111111111111", True), ("4111111111111112", False), ("79927398713", True)],
)
def test_luhn(number: str, ok: bool) -> None:
    assert luhn_ok(number) is ok


@given(st.text("0123456789", min_size=1, max_size=18))
def test_the_check_digit_makes_any_payload_pass_luhn(payload: str) -> None:
    assert luhn_ok(payload + str(luhn_check_digit(payload)))


@given(cards())
def test_generated_card_numbers_are_found_with_any_separator(card: str) -> None:
    for text in (card, f"pay with {card} today", f"<td>{card}</td>", f'"{card}"'):
        assert "card" in kinds_found(text), text
    assert is_card(card)


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111112",  # fails Luhn
        "order 14111111111111111",  # 17 digits inside a longer number
        "x4111111111111111",  # glued to a word
        "0.4111111111111111",  # a decimal
        "1700000000000000",  # a timestamp: starts with 1
        "4111 1111 1111",  # too short
    ],
)
def test_numbers_that_are_not_cards(text: str) -> None:
    assert "card" not in kinds_found(text)
    assert card_digits("41111111111111112") is None


def test_a_grouped_card_followed_by_a_number_is_still_found() -> None:
    assert "card" in kinds_found("4111 1111 1111 1111 2 items")


@given(emails())
def test_generated_emails_are_found(email: str) -> None:
    assert "email" in kinds_found(f"mail {email}.")
    assert is_email(email)


@pytest.mark.parametrize("text", ["logo@2x.png", "lodash@4.17.21", "@scope/pkg", "a@b"])
def test_things_that_look_like_emails_but_are_not(text: str) -> None:
    assert "email" not in kinds_found(text)


@given(jwts())
def test_generated_jwts_are_found(token: str) -> None:
    assert "jwt" in kinds_found(f"token={token}&x=1")
    assert is_jwt(token)


@given(st.one_of(aws_keys, stripe_keys, github_tokens))
def test_api_keys_are_found_and_keep_their_prefix(key: str) -> None:
    assert "api_key" in kinds_found(f"key: {key}\n")
    assert api_key_prefix(key) in ("AKIA", "sk_live_", "ghp_")


def test_bearer_tokens_in_text() -> None:
    assert "bearer" in kinds_found("curl -H 'Authorization: Bearer abcdefghijklmnop1234'")
    assert "bearer" not in kinds_found("send a bearer token in the header")


def test_private_key_blocks() -> None:
    block = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"
    assert "private_key" in kinds_found(f"key:\n{block}\n")


@given(st.text(max_size=200))
def test_hints_never_hide_a_match(text: str) -> None:
    """may_occur is only a shortcut: when it says no, the regex finds nothing either."""
    for detector in BUILTIN:
        if not detector.may_occur(text):
            assert not detector.finds(text.replace("\x00", ""))


# -- Issue 18: key blocks, token formats, PII ----------------------------------------------

_PEM_LINE = "MIIEpAIBAAKCAQEA7bq98s1xAbC"


@pytest.mark.parametrize(
    ("text", "kind", "secret"),
    [
        (
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQdGBF4x\n=ab\n"
            "-----END PGP PRIVATE KEY BLOCK-----",
            "private_key",
            "lQdGBF4x",
        ),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n"
            "-----END OPENSSH PRIVATE KEY-----",
            "private_key",
            "b3BlbnNzaC1rZXk",
        ),
        (
            f"cut: -----BEGIN RSA PRIVATE KEY-----\n{_PEM_LINE}\n{_PEM_LINE}",
            "private_key",
            _PEM_LINE,
        ),
        (
            f'{{"k": "-----BEGIN EC PRIVATE KEY-----\\n{_PEM_LINE}\\n{_PEM_LINE[:9]}',
            "private_key",
            _PEM_LINE,
        ),
        (
            "eyJhbGciOiJSU0EtT0FFUCJ9.OKOawDo13gRp2oja.48V1_ALb6US04U3b.5eym8TW_c8SuK0lt.XFBoMYUZodetZdvT",
            "jwe",
            "5eym8TW_c8SuK0lt",
        ),
        ("ya29.a0AfH6SMBx1234567890abcdefghij", "api_key", "ya29.a0AfH6SMBx1234567890abcdefghij"),
        ("npm_" + "a1" * 18, "api_key", "npm_" + "a1" * 18),
        ("SG." + "a" * 22 + "." + "b" * 43, "api_key", "SG." + "a" * 22),
        ("glpat-ABCdef123456ghiJKL789", "api_key", "glpat-ABCdef123456ghiJKL789"),
        (
            "https://hooks.slack.com/services/T0001/B0002/XXXXXXXXXXXXXXXXXXXXXXXX",
            "webhook",
            "XXXXXXXXXXXXXXXXXXXXXXXX",
        ),
        ("postgres://app:s3cr3tPass@db.test:5432/app", "url_password", "s3cr3tPass"),
        ("mongodb+srv://admin:hunter22@cluster0.example.net/x", "url_password", "hunter22"),
        ("redis://:pw12345x@cache:6379/0", "url_password", "pw12345x"),
        (
            "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=r;SharedAccessKey=abc123+/=;",
            "connection",
            "abc123+/=",
        ),
        (
            "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Zm9vYmFy==;EndpointSuffix=x",
            "connection",
            "Zm9vYmFy==",
        ),
        ("IBAN DE89 3704 0044 0532 0130 00 on file", "iban", "3704 0044 0532"),
        ("IBAN GB82WEST12345698765432 on file", "iban", "GB82WEST12345698765432"),
        ("SSN 123-45-6789.", "ssn", "123-45-6789"),
        ("call +4915112345678 now", "phone", "+4915112345678"),
    ],
)
def test_issue_18_formats_are_found(text: str, kind: str, secret: str) -> None:
    detector = next(d for d in BUILTIN if d.kind == kind)
    assert detector.finds(text)
    assert secret in "".join(
        text[a:b] for a, b in detector.spans(text) if detector.accepts(text[a:b])
    )


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("DE89 3704 0044 0532 0130 01", "iban"),  # fails mod-97
        ("666-12-3456 000-12-3456 912-12-3456 123-00-4567 123-45-0000", "ssn"),
        ("1e+10000000 and 2024+12345678x and a+12345678", "phone"),
        ("https://user@host.test/ and http://host:8080/", "url_password"),
        ("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----", "private_key"),
    ],
)
def test_issue_18_lookalikes_are_not_found(text: str, kind: str) -> None:
    detector = next(d for d in BUILTIN if d.kind == kind)
    assert not detector.finds(text)


def test_iban_and_ssn_checks() -> None:
    assert iban_ok("GB82 WEST 1234 5698 7654 32") and not iban_ok("GB82 WEST 1234 5698 7654 33")
    assert ssn_ok("078-05-1120") and not ssn_ok("666-05-1120")


def test_a_key_block_cut_short_is_removed_from_its_begin_line() -> None:
    detector = next(d for d in BUILTIN if d.kind == "private_key")
    text = f"x\n-----BEGIN RSA PRIVATE KEY-----\n{_PEM_LINE}\n{_PEM_LINE[:7]}"
    [(start, end)] = list(detector.spans(text))
    assert (start, end) == (2, len(text))


# -- Key blocks without Python's re: the patterns they replaced are the oracle.

_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_END = re.compile(r"-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_BODY = re.compile(r"[A-Za-z0-9+/=\s,:\\\-]*+")


def _key_oracle(text: str) -> list[tuple[int, int]]:
    spans, at = [], 0
    while (begin := _BEGIN.search(text, at)) is not None:
        end = _END.search(text, begin.end())
        if end is not None:
            stop = end.end()
        else:
            body = _BODY.match(text, begin.end())
            stop = body.end() if body else begin.end()
            while stop > begin.end() and text[stop - 1].isspace():
                stop -= 1
        spans.append((begin.start(), stop))
        at = stop
    return spans


_KEY_PIECES = st.sampled_from(
    [
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----",
        "-----END PRIVATE KEY-----",
        "-----END PGP PRIVATE KEY BLOCK-----",
        "-----BEGIN ",
        "-----END ",
        "PRIVATE KEY",
        "MIIE",
        "AAAA==",
        "Proc-Type: 4,ENCRYPTED",
        *"\n\r \u2003\v#x\\é",
    ]
)


@given(st.lists(_KEY_PIECES, max_size=14).map("".join))
def test_key_block_spans_are_those_of_the_begin_end_patterns(text: str) -> None:
    assert list(_private_key_spans(text)) == _key_oracle(text)


# -- The work budget: a text packed with candidates is dropped, a real one is kept.

_SANITIZER = Sanitizer(key=b"detector-density-key")
_DENSE = "request.body: dropped (too dense to scan)"
_SIZE = 256 * 1024


def _posted(text: str, content_type: str = "text/plain") -> Exchange:
    body = text.encode()
    return Exchange(
        request=Request(
            "POST",
            "api.example.test",
            path="/upload",
            headers=(("Content-Type", content_type),),
            body=body,
            body_size=len(body),
        ),
        response=Response(200, "OK"),
    )


def _repeat(unit: str) -> str:
    return (unit * (_SIZE // len(unit) + 1))[:_SIZE]


@pytest.mark.parametrize(
    "text",
    [
        _repeat("4111 1111 1111 "),  # a card-shaped candidate every 15 bytes, none valid
        _repeat("4111 1111-2111 1111 1111 "),
        _repeat("DE89 3704 "),  # IBAN-shaped candidates, none valid
    ],
    ids=["card groups", "card groups, mixed separators", "IBAN groups"],
)
def test_a_text_packed_with_candidates_is_dropped_as_too_dense(text: str) -> None:
    out = _SANITIZER.sanitize(_posted(text))
    assert _DENSE in out.redactions
    assert out.request.body == b""


def _order_export() -> str:
    """Orders with 16-digit ids shaped like card numbers (some pass Luhn), as a shop
    exports them."""
    rows = ["order_id,created,customer,amount,currency,status"]
    for i in range(4000):
        order_id = f"{4000_0000_0000_0000 + i * 7919:016d}"
        rows.append(
            f"{order_id},2024-05-{i % 28 + 1:02d}T12:{i % 60:02d}:00Z,Zoë Martin {i},"
            f"{i % 500 + 0.99:.2f},EUR,{'paid' if i % 3 else 'refunded'}"
        )
    return "\n".join(rows)


def _time_series() -> str:
    points = [
        f'{{"ts":{1733539200000 + i * 60000},"value":{i % 97}.{i % 10}}}' for i in range(9000)
    ]
    return '{"metric":"cpu","points":[' + ",".join(points) + "]}"


@pytest.mark.parametrize(
    ("text", "content_type"),
    [
        (_order_export(), "text/csv"),
        (_order_export(), "text/plain"),
        (_time_series(), "text/plain"),
    ],
    ids=["order export as CSV", "order export as text", "millisecond time series"],
)
def test_real_number_heavy_bodies_are_not_dropped(text: str, content_type: str) -> None:
    out = _SANITIZER.sanitize(_posted(text, content_type))
    assert not any("dropped" in where for where in out.redactions), out.redactions[:3]
    assert len(out.request.body) >= len(text.encode())


def test_finds_answers_maybe_after_many_rejected_candidates() -> None:
    """Without a budget, finds() stops early; the replacing pass decides, and spends."""
    card = next(d for d in BUILTIN if d.kind == "card")
    text = "4111 1111 1111 1112 " * (FINDS_TRIES + 1)  # none passes Luhn
    assert card.finds(text)
    assert not card.finds("4111 1111 1111 1112 " * (FINDS_TRIES - 1))


@pytest.mark.parametrize("kind", ["card", "iban"])
def test_a_dense_text_is_paid_for_before_any_candidate_is_checked(kind: str) -> None:
    """Card and IBAN candidates are found in C and paid for all at once: a text with
    more than its budget allows fails before the first checksum, not after thousands."""
    from shadowtape.sanitize.context import Context, TooDense
    from shadowtape.sanitize.pseudonym import Pseudonymizer
    from shadowtape.sanitize.rules import Policy

    detector = next(d for d in BUILTIN if d.kind == kind)
    unit = "4111 1111 1111 1111 " if kind == "card" else "GB82 WEST 1234 5698 7654 32 "

    def ctx() -> Context:
        fresh = Context(Policy.build(), Pseudonymizer(b"k"))
        fresh.work_limit = 100 * detector.cost
        return fresh

    dense = ctx()
    with pytest.raises(TooDense):
        dense.detect(unit * 101, detector, "x")  # every candidate valid: none replaced yet
    assert dense.work == 101 * detector.cost and dense.replaced == 0
    within = ctx()
    assert unit not in within.detect(unit * 100, detector, "x")
    assert within.replaced == 100


@given(
    st.lists(
        st.one_of(
            st.text(max_size=30),
            cards(),
            emails(),
            jwts(),
            stripe_keys,
            st.sampled_from(["Bearer abcdefghijklmnopqrstu", "+14155550123", "DE89 3704"]),
        ),
        max_size=6,
    ).map(" ".join)
)
def test_finders_agree_with_each_detector_on_its_own(text: str) -> None:
    """One pass for every detector's literals skips only detectors that find nothing."""
    assert Finders(BUILTIN)(text) == tuple(d for d in BUILTIN if d.finds(text))


_PIECES = st.one_of(
    st.text(max_size=30),
    cards(),
    emails(),
    jwts(),
    stripe_keys,
    st.sampled_from(["Bearer abcdefghijklmnopqrstu", "+14155550123", "DE89 3704", "123-45-6789"]),
)


@given(st.lists(_PIECES, max_size=6).map(" ".join), st.booleans())
def test_finders_agree_with_each_detector_on_long_texts_too(text: str, pad_first: bool) -> None:
    """A long text is told which detectors' literals it holds by one RE2::Set pass: it
    skips, and lets through, exactly the detectors their own tests would."""
    padding = "x " * (SET_REACH // 2)
    long = padding + text if pad_first else text + padding
    finders = Finders(BUILTIN)
    assert finders(long) == tuple(d for d in BUILTIN if d.finds(long))
    assert finders.occurring(long, BUILTIN) == tuple(d for d in BUILTIN if d.may_occur(long))
    assert finders.occurring(long, BUILTIN[3:5]) == tuple(
        d for d in BUILTIN[3:5] if d.may_occur(long)
    )


@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                ["DE89 3704 0044 0532 0130 00", "GB82 WEST", "4111 1111 1111 1111", "3782"]
            ),
            st.sampled_from(["4111111111111111", "123-45-6789", "378282246310005", "é"]),
            st.text("AZaz09_ -.é\ud800", max_size=12),
        ),
        max_size=12,
    ).map("".join),
    st.booleans(),
)
def test_one_pass_rules_out_cards_ibans_and_ssns_only_when_each_check_would(
    text: str, pad_first: bool
) -> None:
    """A long text is asked once whether it may hold any of the three shapes; the answer
    no never stands where the card, IBAN or SSN check of its own would say maybe."""
    padding = "x " * (SET_REACH // 2)
    long = padding + text if pad_first else text + padding
    direct = (
        _card_start(long) is not None
        or _iban_start(long) is not None
        or b"000-00-0000" in _shape(long)
    )
    assert _may_hold_pii(long) or not direct


@given(
    st.lists(
        st.one_of(
            st.sampled_from(["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "DE89"]),
            st.text("AZ09 -x%é", max_size=12),
        ),
        max_size=12,
    ).map("".join),
    st.sampled_from([0, SET_REACH]),
)
def test_the_iban_search_starts_where_python_re_would_first_match(text: str, pad: int) -> None:
    text = "." * pad + text
    iban = next(d for d in BUILTIN if d.kind == "iban")
    assert iban.pattern is not None
    expected = [m.span() for m in re.finditer(_IBAN_TEXT, text, re.ASCII)]
    assert [m.span() for m in iban.pattern.finditer(text)] == expected
    assert iban.may_occur(text) or not expected


def test_a_text_far_too_dense_stops_after_the_first_batch_of_candidates() -> None:
    """Candidates are listed in batches, each paid for before the next is listed."""
    from dataclasses import replace

    from shadowtape.sanitize.context import Context, TooDense
    from shadowtape.sanitize.pseudonym import Pseudonymizer
    from shadowtape.sanitize.rules import Policy

    card = next(d for d in BUILTIN if d.kind == "card")
    assert card.pattern is not None
    consumed = []

    class Counting:
        groupindex: dict[str, int] = {}

        def finditer(self, text: str) -> Iterator[re.Match[str]]:
            for found in card.pattern.finditer(text):  # type: ignore[union-attr]
                consumed.append(found)
                yield found

        def match(self, text: str) -> re.Match[str] | None:
            return None

    counted = replace(card, pattern=Counting())
    ctx = Context(Policy.build(), Pseudonymizer(b"k"))
    ctx.work_limit = LISTED_BATCH * card.cost // 2
    with pytest.raises(TooDense):
        ctx.detect("4111 1111 1111 1112 " * (3 * LISTED_BATCH), counted, "x")
    assert len(consumed) == LISTED_BATCH and ctx.replaced == 0


#: The URL-password pattern as it was: a scheme found from its first letter.
_URL_PASSWORD_BEFORE = re.compile(
    r"[A-Za-z][A-Za-z0-9+.\-]{0,20}://[^:/?#@\s\"'<>]{0,256}:([^/?#@\s\"'<>]{1,256})@"
)


@given(st.lists(st.sampled_from(["a", "Z", "1", "+", ".", "-", ":", "/", "@", " ", "://"])))
def test_url_passwords_are_found_where_they_were(parts: list[str]) -> None:
    """The scheme is found from its last letter now (a DFA of one scheme start, not one
    per letter): the same passwords, in the same places."""
    text = "".join(parts)
    detector = next(d for d in BUILTIN if d.kind == "url_password")
    assert list(detector.spans(text)) == [
        found.span(1) for found in _URL_PASSWORD_BEFORE.finditer(text)
    ]


# -- HTTP Basic credentials outside the Authorization header ------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('{"auth": "Basic dXNlcjpTM2NyZXRQdzk="}', ["dXNlcjpTM2NyZXRQdzk="]),
        ("proxy said: basic   YWxpY2U6aHVudGVyMg==, retry", ["YWxpY2U6aHVudGVyMg=="]),
        ("Basic authentication is required", []),  # a word, not base64 of user:pass
        ("basic dGVzdHRlc3Q=", []),  # base64, but of no user:password
    ],
)
def test_basic_credentials_in_free_text(text: str, found: list[str]) -> None:
    basic = next(d for d in BUILTIN if d.kind == "basic")
    spans = [text[a:b] for a, b in basic.spans(text) if basic.accepts(text[a:b])]
    assert spans == found
