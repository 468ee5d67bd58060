"""Pseudonyms stay what they were: the same value, the same key, the same pseudonym,
whichever way the code tells its characters apart (short and long text beyond ASCII)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shadowtape.sanitize.pseudonym import WHOLE_TEXT, Pseudonymizer
from tests.sanitize.reference_pseudonym import Pseudonymizer as Reference

KEY = b"reference-key"
NOW = Pseudonymizer(KEY)
BEFORE = Reference(KEY)

#: Characters of every kind: ASCII, Latin-1, letters and marks beyond, surrogates, digits
#: of other scripts, symbols and CJK ideographs.
ANY_CHARACTER = st.characters(codec=None)
#: A long text: a few characters repeated past WHOLE_TEXT, or drawn one by one.
LONG = st.one_of(
    st.text(ANY_CHARACTER, min_size=1, max_size=12).map(
        lambda unit: (unit * (WHOLE_TEXT // len(unit) + 2))[: WHOLE_TEXT + len(unit)]
    ),
    st.text(ANY_CHARACTER, min_size=WHOLE_TEXT, max_size=WHOLE_TEXT + 300),
)


@given(st.text(ANY_CHARACTER, max_size=60))
def test_short_values_keep_their_pseudonyms(value: str) -> None:
    assert NOW(value) == BEFORE(value)


@settings(max_examples=300, deadline=None)
@given(LONG, st.sampled_from(["", "0099", "sk_live_", "%41%", "x@"]))
def test_long_values_beyond_ascii_keep_their_pseudonyms(value: str, head: str) -> None:
    assert NOW(head + value) == BEFORE(head + value)


@settings(deadline=None)
@given(st.text(st.characters(max_codepoint=127), min_size=WHOLE_TEXT, max_size=3000))
def test_long_ascii_values_keep_their_pseudonyms(value: str) -> None:
    assert NOW(value) == BEFORE(value)


def test_the_long_secrets_of_the_benchmark_keep_their_pseudonyms() -> None:
    for unit in ("é«a", "ab!", "日本語テキスト、", "٣٤٥ ¼ ½ ⅓", "\udcff\x00é"):
        value = "000123" + unit * (6000 // len(unit))
        assert NOW(value) == BEFORE(value)
