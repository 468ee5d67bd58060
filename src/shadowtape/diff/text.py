"""Line-wise text diff: each changed block is one difference at ``line:N`` (baseline line).

Line numbers as locations let the noise model learn that, say, line 12 of a page holds a
clock. Very long texts are compared by digest instead: a line diff of megabytes would cost
more than the whole replay.
"""

from __future__ import annotations

import difflib

from shadowtape.diff.model import Difference, Kind

MAX_LINES = 5_000
MAX_BLOCKS = 20
_SNIPPET = 500


def decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def diff_text(a: str, b: str) -> list[Difference] | None:
    """Differences between two texts by line; None when they are too long to diff."""
    if a == b:
        return []
    lines_a = a.splitlines()
    lines_b = b.splitlines()
    if len(lines_a) > MAX_LINES or len(lines_b) > MAX_LINES:
        return None
    if lines_a == lines_b:  # only the line endings differ
        return []
    matcher = difflib.SequenceMatcher(None, lines_a, lines_b, autojunk=False)
    out: list[Difference] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        out.append(
            Difference(
                Kind.TEXT,
                f"line:{i1 + 1}",
                "\n".join(lines_a[i1:i2])[:_SNIPPET] if i2 > i1 else None,
                "\n".join(lines_b[j1:j2])[:_SNIPPET] if j2 > j1 else None,
            )
        )
        if len(out) >= MAX_BLOCKS:
            break
    return out
