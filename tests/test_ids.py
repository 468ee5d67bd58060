from __future__ import annotations

import time

from shadowtape.ids import id_time_ms, new_id


def test_ids_made_in_one_process_strictly_increase_even_within_a_millisecond() -> None:
    ids = [new_id() for _ in range(10_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_ids_sort_by_time_and_encode_it() -> None:
    early, late = new_id(at_ms=1_000), new_id(at_ms=2_000)
    assert early < late
    assert id_time_ms(late) == 2_000
    now_ms = time.time_ns() // 1_000_000
    assert abs(id_time_ms(new_id()) - now_ms) < 1_000
