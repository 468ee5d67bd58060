from __future__ import annotations

import gc
import weakref

from shadowtape.replay.collector import Collector


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> weakref.ref[_Node]:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_a_run_collects_only_when_asked_and_restores_the_interpreter() -> None:
    assert gc.isenabled()
    with Collector(young=100, force=1_000_000) as collector:
        assert not gc.isenabled()  # no pause the engine did not ask for
        assert gc.get_freeze_count() > 0  # what existed before the run is not scanned
        garbage = [_cycle() for _ in range(500)]
        assert all(ref() is not None for ref in garbage)  # nothing collected on its own
        assert collector.step()
        assert all(ref() is None for ref in garbage)
        assert not collector.step()  # nothing allocated since: nothing due
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_forced_step_waits_for_the_higher_threshold() -> None:
    with Collector(young=100, force=5_000) as collector:
        garbage = [_cycle() for _ in range(500)]  # about 1,500 tracked objects
        assert not collector.step(force=True)
        assert all(ref() is not None for ref in garbage)
        more = [_cycle() for _ in range(3_000)]
        assert collector.step(force=True)
        assert all(ref() is None for ref in garbage + more)


def test_a_run_inside_a_run_leaves_the_outer_one_in_charge() -> None:
    with Collector():
        with Collector():
            assert not gc.isenabled()
        assert not gc.isenabled()  # still the outer run's
    assert gc.isenabled()
