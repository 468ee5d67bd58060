"""Echo search strings: every encoded form of a secret, and any number of secrets at once."""

from __future__ import annotations

import base64
import html
import json
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from shadowtape.sanitize.context import EXACT_ECHO, Context
from shadowtape.sanitize.echoforms import FORMS_CACHED, _cached_forms, forms
from shadowtape.sanitize.echoindex import LONG, PENDING, PREFIX, WIDTH, EchoIndex, scan
from shadowtape.sanitize.pseudonym import Pseudonymizer
from shadowtape.sanitize.rules import Policy

PSEUDO = Pseudonymizer(b"k")


def test_forms_cover_url_html_json_and_base64() -> None:
    value, out = 'a&b<c"d/é+Zq9v', "replacement-x"
    found = dict(forms(value, out))
    b64 = base64.b64encode(value.encode()).decode()
    for form in (
        value,
        html.escape(value),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        b64,
        b64.rstrip("="),
        base64.urlsafe_b64encode(value.encode()).decode(),
    ):
        assert form in found, form
    assert found[b64] == base64.b64encode(out.encode()).decode()
    assert found[html.escape(value)] == html.escape(out)


def test_a_long_value_keeps_its_encoded_forms() -> None:
    saml = base64.b64encode(b"<samlp:Response>" * 2000).decode()  # 42 KB, with "+/="
    assert dict(forms(saml, "x"))[quote(saml, safe="")] == quote("x")
    huge = "x&y " * (64 * 1024 // 2)
    c = Context(Policy.build(), PSEUDO)
    out = c.secret(huge, "request.header.x-api-key")
    assert c.text(f"echo: {huge}.", "response.body") == f"echo: {out}."
    assert c.text(f"echo: {quote(huge)}.", "response.body") == f"echo: {quote(out)}."


def test_an_echo_in_each_encoding_is_replaced() -> None:
    c = Context(Policy.build(), PSEUDO)
    secret = 'Zq9v"R2xT<7mPa&4KwE'
    c.secret(secret, "request.cookie.sid")
    encodings = [
        html.escape(secret),
        json.dumps(secret)[1:-1],
        base64.b64encode(secret.encode()).decode(),
        base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="),
    ]
    for encoded in encodings:
        out = c.text(f"<p>{encoded}</p>", "response.body.text")
        assert encoded not in out, encoded


def _knowing(values: list[str], location: str) -> Context:
    """A context that found each of ``values`` at ``location``: more than EXACT_ECHO
    search strings, so echo searches them all at once."""
    c = Context(Policy.build(), PSEUDO)
    for value in values:
        c.secret(value, location)
    assert len(c.echo) > EXACT_ECHO
    return c


def test_any_number_of_secrets_anywhere_in_one_pass_per_group() -> None:
    values = [f"sec{i:04d}-Tok" for i in range(600)]
    c = _knowing(values, "request.body$.t")
    text = "".join(f"x{value}." for value in values)  # glued to other token characters
    out = c.text(text, "response.body.text")
    assert all(value not in out for value in values)
    assert out == "".join(f"x{PSEUDO(value)}." for value in values)


def test_index_bytes_and_non_ascii() -> None:
    index = EchoIndex({"naïve-secret": "XXXXXXXXXXXX", "plain-secret": "YYYYYYYYYYYY"})
    assert index.contains("a naïve-secret b") and not index.contains("nothing here")
    assert index.sub("é plain-secret naïve-secret") == "é YYYYYYYYYYYY XXXXXXXXXXXX"
    assert index.sub_bytes("naïve-secret".encode()) == b"XXXXXXXXXXXX"


def test_shared_prefixes_long_strings_and_the_longest_match() -> None:
    echo = {f"tok{i:06d}": f"TOK{i:06d}" for i in range(2000)}
    echo["tok000001-and-more"] = "LONGER-REPLACED!!"
    long_key = "L" + "x" * 200
    echo[long_key] = "R" * 201
    index = EchoIndex(echo)
    text = f"a tok000001-and-more b tok001999c {long_key}! tok00"
    assert index.sub(text) == f"a LONGER-REPLACED!! b TOK001999c {'R' * 201}! tok00"
    assert index.contains("xx" + long_key) and not index.contains("L" + "x" * 150)


def _reference(text: str, echo: dict[str, str]) -> str:
    """Leftmost match, longest at that position, by brute force."""
    out, at = [], 0
    while at < len(text):
        found = max((key for key in echo if text.startswith(key, at)), key=len, default=None)
        if found is None:
            out.append(text[at])
            at += 1
        else:
            out.append(echo[found])
            at += len(found)
    return "".join(out)


KEYS = st.lists(st.text(alphabet="abcé😀", min_size=WIDTH, max_size=14), min_size=40, max_size=120)


@settings(max_examples=40, deadline=None)
@given(KEYS, st.lists(st.sampled_from(["a", "b", "é", "x", "😀", "abc"]), max_size=400))
def test_a_long_text_is_searched_with_patterns_as_the_trie_would(
    keys: list[str], filler: list[str]
) -> None:
    echo = {key: f"<{i}>" for i, key in enumerate(keys)}
    text = "".join(f"{part}{keys[i % len(keys)]}" for i, part in enumerate(filler))
    text = text.ljust(LONG, "x")
    index = EchoIndex(echo)
    assert index.sub(text) == _reference(text, echo)
    assert index.contains(text) == (_reference(text, echo) != text)
    data = text.encode("utf-8")
    assert index.sub_bytes(data) == _reference(text, echo).encode("utf-8")


def test_strings_added_between_searches_are_found_and_compiling_is_paid_for() -> None:
    spent: list[int] = []
    echo = {f"sec{i:04d}-Tok": f"R{i:04d}" for i in range(40)}
    index = EchoIndex(echo, spend=spent.append)
    text = "lorem ipsum " * 400 + "sec0007-Tok"
    assert index.sub(text).endswith("R0007") and spent
    for i in range(40, 200):
        echo[f"sec{i:04d}-Tok"] = f"R{i:04d}"
        index.add([f"sec{i:04d}-Tok"])
        assert index.sub(text + f"sec{i:04d}-Tok").endswith(f"R0007R{i:04d}")


def test_many_cookies_echoed_in_a_large_body_are_replaced() -> None:
    values = [f"Val{i:04d}xYz{i * 7919:08d}" for i in range(40)]
    c = _knowing(values, "request.cookie.c")
    text = "lorem ipsum dolor sit amet " * 40_000 + values[17] + " end"
    out = c.text(text, "response.body.text", kind=True)
    assert out.endswith(f"{PSEUDO(values[17])} end") and values[17] not in out


def test_the_forms_of_a_long_value_are_not_kept_in_the_cache() -> None:
    """A recorder sees values an attacker chooses: caching a dozen encodings of each
    megabyte value would hold gigabytes alive."""
    _cached_forms.cache_clear()  # a full cache would not grow: start from an empty one
    before = _cached_forms.cache_info().currsize
    long = "é" * (FORMS_CACHED + 1)
    assert forms(long, "a" * len(long))[0] == (long, "a" * len(long))
    assert _cached_forms.cache_info().currsize == before
    forms("é" * FORMS_CACHED, "a" * FORMS_CACHED)
    assert _cached_forms.cache_info().currsize == before + 1


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 9), min_size=1, max_size=10, unique=True),
    st.lists(st.tuples(st.integers(0, 79), st.integers(0, 130)), max_size=40),
)
def test_long_strings_are_found_by_their_first_bytes_and_checked_whole(
    picks: list[int], pieces: list[tuple[int, int]]
) -> None:
    """Strings past PREFIX bytes are compiled by their first bytes only: what is found is
    still each string whole, leftmost then longest, as one by one; a string's first
    bytes without the rest are passed over, even where a shorter string starts."""
    head = "s" * (PREFIX - 2)
    keys = [f"{head}{i:02d}" + "x" * (i * 7) for i in range(10)]  # share their first bytes
    keys += [f"k{i:03d}" + "y" * (i % 5) * 20 for i in range(70)]
    chosen = [keys[i] for i in picks] + keys[10 : 11 + PENDING]  # past PENDING: compiled
    echo = {key: "R" * len(key) for key in chosen}
    index = EchoIndex(echo)
    text = "".join(
        (chosen[i % len(chosen)][: cut if cut < 130 else None]) + " " for i, cut in pieces
    ).ljust(LONG * 8, ".")  # long enough to be searched with the compiled patterns
    assert index.edits(text) == scan(text, list(echo), echo)


def test_strings_found_again_and_again_are_not_paid_for_again_and_again() -> None:
    """A text that repeats search strings (a periodic secret, echoed) is searched by a
    pattern compiled anew without them: every string is found, and what is paid stays
    bounded by the strings, not by their repetitions."""
    keys = [f"{i:03d}abcdefghijklm" for i in range(40)]
    spent: list[int] = []
    index = EchoIndex(dict.fromkeys(keys, ""), spend=spent.append)
    text = keys[3] * 20_000 + keys[7] + keys[3] * 20_000 + keys[39]
    assert index.occurring(text) == {keys[3], keys[7], keys[39]}
    assert sum(spent) < 2_000  # 40,000 occurrences of one string
