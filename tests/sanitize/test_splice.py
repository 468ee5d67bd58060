"""splice: edits applied, and the pseudonyms' spans kept in the new text's offsets."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from shadowtape.sanitize.splice import Span, splice


def test_edits_are_applied_and_their_spans_recorded() -> None:
    made: list[Span] = []
    text = splice("ab SECRET cd KEY ef", [(3, 9, "xyzw"), (13, 16, "QQQQQ")], made)
    assert text == "ab xyzw cd QQQQQ ef"
    assert [text[start:end] for start, end in made] == ["xyzw", "QQQQQ"]


def test_earlier_spans_move_with_the_text_and_absorb_edits_cutting_into_them() -> None:
    made: list[Span] = [(0, 2), (6, 10)]  # "ab" and "PSEU" were pseudonyms already
    text = splice("ab cd PSEUDO ef", [(3, 5, "long"), (8, 11, "x")], made)
    assert text == "ab long PSxO ef"
    # "ab" stays; "PSEU" moved by two and now runs to the end of the edit cutting into it.
    assert made == [(0, 2), (3, 7), (8, 11)]


@given(st.text(alphabet="ab", max_size=30), st.data())
def test_every_replacement_lies_inside_a_recorded_span(text: str, data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.sets(st.integers(0, len(text)), max_size=6)))
    edits = [
        (start, end, "R" * data.draw(st.integers(1, 4)))
        for start, end in zip(cuts[::2], cuts[1::2], strict=False)
    ]
    made: list[Span] = []
    new = splice(text, edits, made)
    assert new.count("R") == sum(len(rep) for _, _, rep in edits)
    inside = sum(new[start:end].count("R") for start, end in made)
    assert inside == new.count("R") and all(s < e for s, e in made)
    assert all(a[1] <= b[0] for a, b in pairwise(made))
