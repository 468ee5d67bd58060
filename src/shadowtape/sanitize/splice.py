"""Replacing parts of a text while keeping track of where the pseudonyms landed.

Within one text, the echo matcher, the field scan and the detectors replace values in
turn. A detector must never read across a pseudonym an earlier replacement put there:
whether the digits of a pseudonym and the digits beside it pass Luhn depends on the key,
so what is redacted would too. Every replacement of ``Context.text`` therefore goes
through ``splice``, which returns the new text and keeps ``made`` (the spans of the
pseudonyms so far, sorted, not overlapping) in the new text's offsets.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

#: (start, end, replacement) in the text's offsets, sorted and not overlapping.
Edit = tuple[int, int, str]
#: (start, end) of a pseudonym in a text.
Span = tuple[int, int]


def splice(text: str, edits: Sequence[Edit], made: list[Span] | None = None) -> str:
    """``text`` with each edit applied; ``made`` (when given) moved to the new offsets,
    with each replacement added (a span an edit cut into now covers the edit too)."""
    if not edits:
        return text
    pieces: list[str] = []
    spans: list[Span] = []
    after: list[int] = []  # the shift past each edit
    shift = done = 0
    for start, end, replacement in edits:
        pieces += (text[done:start], replacement)
        spans.append((start + shift, start + shift + len(replacement)))
        shift += len(replacement) - (end - start)
        after.append(shift)
        done = end
    pieces.append(text[done:])
    if made is not None:
        made[:] = _merge(_moved(made, edits, spans, after) + spans)
    return "".join(pieces)


def _moved(
    made: list[Span], edits: Sequence[Edit], spans: list[Span], after: list[int]
) -> list[Span]:
    """``made`` in the new offsets: a start or end inside an edit moves to its edge."""
    if not made:
        return []
    starts = [start for start, _, _ in edits]
    moved = []
    for start, end in made:
        i = bisect_right(starts, start) - 1
        if i >= 0:
            start = start + after[i] if start >= edits[i][1] else spans[i][0]
        j = bisect_left(starts, end) - 1
        if j >= 0:
            end = end + after[j] if end >= edits[j][1] else spans[j][1]
        moved.append((start, end))
    return moved


def _merge(spans: list[Span]) -> list[Span]:
    """Sorted, overlapping spans joined."""
    spans.sort()
    out: list[Span] = []
    for start, end in spans:
        if out and start < out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out
