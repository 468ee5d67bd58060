"""The verdict memo: computes once per distinct text, stays bounded."""

from __future__ import annotations

from shadowtape.sanitize.memo import TextMemo


def test_computes_once_per_text_and_stays_bounded() -> None:
    calls: list[str] = []

    def compute(text: str) -> int:
        calls.append(text)
        return len(text)

    memo = TextMemo(compute, size=4)
    long_text = "x" * 1000
    assert memo("abc") == 3 and memo("abc") == 3
    assert memo(long_text) == 1000 and memo(long_text) == 1000
    assert calls == ["abc", long_text]
    for i in range(10):
        memo(str(i))
    assert len(memo._memo) <= 4
