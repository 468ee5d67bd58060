from __future__ import annotations

import gc
import weakref

from shadowtape.replay.timing.collector import Collector


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> weakref.ref[_Node]:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_run_collects_only_when_a_collection_is_due_and_restores_the_interpreter() -> None:
    assert gc.isenabled()
    clock = _Clock()
    with Collector(every=10, grace=2, clock=clock) as collector:
        assert not gc.isenabled()  # no pause the engine did not ask for
        assert gc.get_freeze_count() > 0  # what existed before the run is not scanned
        garbage = [_cycle() for _ in range(5_000)]  # far past the interpreter's thresholds
        assert all(ref() is not None for ref in garbage)  # nothing collected on its own
        clock.now += 9.9
        assert not collector.step()
        assert all(ref() is not None for ref in garbage)
        clock.now += 0.2
        assert collector.step()
        assert all(ref() is None for ref in garbage)
        assert not collector.step()  # the next one is a whole period away
        assert collector.collections == 1
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_forced_step_gives_the_gaps_a_grace_period_first() -> None:
    clock = _Clock()
    with Collector(every=10, grace=2, clock=clock) as collector:
        garbage = [_cycle() for _ in range(500)]
        clock.now += 11
        assert not collector.step(force=True)  # a gap may still come
        assert all(ref() is not None for ref in garbage)
        clock.now += 1.5
        assert collector.step(force=True)  # none came: collect whatever the schedule
        assert all(ref() is None for ref in garbage)


def test_a_run_inside_a_run_leaves_the_outer_one_in_charge() -> None:
    with Collector():
        with Collector():
            assert not gc.isenabled()
        assert not gc.isenabled()  # still the outer run's
    assert gc.isenabled()
