"""Telling letters and digits beyond ASCII apart in whole-text operations: the same
answer as the regular expressions, character for character, and the kept ones put back."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shadowtape.sanitize.beyondascii import KEPT, LETTER, NON_ASCII, NON_ASCII_ALNUM, Marked

ANY_CHARACTER = st.characters(codec=None)


@settings(deadline=None)
@given(st.text(ANY_CHARACTER, max_size=300))
def test_marked_text_is_what_the_regular_expressions_make(text: str) -> None:
    marked = Marked(text)
    assert marked.marked == NON_ASCII.sub(KEPT, NON_ASCII_ALNUM.sub(LETTER, text))
    assert marked.kept == any(not c.isascii() and not c.isalnum() for c in text)


@settings(deadline=None)
@given(st.text(ANY_CHARACTER, max_size=300), st.data())
def test_kept_characters_go_back_in_their_places(text: str, data: st.DataObject) -> None:
    marked = Marked(text)
    ascii_text = st.text(st.characters(max_codepoint=127), min_size=len(text), max_size=len(text))
    shaped = data.draw(ascii_text)
    expected = "".join(
        original if not original.isascii() and not original.isalnum() else new
        for original, new in zip(text, shaped, strict=True)
    )
    assert marked.put_back(shaped) == expected


def test_every_kind_of_character_is_told_apart() -> None:
    text = "aZ9_ \x00é«日¼٣\u0301\udcff\U0001f600\U00020000\U0010ffff"
    marked = Marked(text)
    assert marked.marked == "aZ9_ \x00z\x00zzz\x00\x00\x00z\x00"
    assert marked.put_back("#" * len(text)) == "######" + "#«###\u0301\udcff\U0001f600#\U0010ffff"
