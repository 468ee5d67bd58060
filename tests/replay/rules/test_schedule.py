from __future__ import annotations

from datetime import timedelta

import pytest

from shadowtape.replay.rules.options import Pace
from shadowtape.replay.rules.schedule import LEAD_S, LagStats, Schedule
from tests.replay.helpers import T0


def test_recorded_gaps_divided_by_speed() -> None:
    s = Schedule(pace=Pace.RECORDED, speed=2.0)
    s.begin(now=100.0)
    dues = [s.due(T0 + timedelta(seconds=x)) for x in (0, 1, 3)]
    assert dues == pytest.approx([100 + LEAD_S, 100.5 + LEAD_S, 101.5 + LEAD_S])


def test_out_of_order_tape_never_schedules_backwards() -> None:
    s = Schedule(pace=Pace.RECORDED)
    s.begin(now=0.0)
    dues = [s.due(T0 + timedelta(seconds=x)) for x in (0, 2, 1, 3)]
    assert dues == sorted(dues)  # type: ignore[type-var]


def test_fixed_rate_is_open_loop() -> None:
    s = Schedule(pace=Pace.RECORDED, rate=100)
    s.begin(now=0.0)
    dues = [s.due(T0 + timedelta(seconds=x)) for x in (0, 50, 50.001)]
    assert dues == pytest.approx([LEAD_S, LEAD_S + 0.01, LEAD_S + 0.02])


def test_asap_has_no_plan() -> None:
    s = Schedule(pace=Pace.ASAP)
    s.begin()
    assert s.due(T0) is None


def test_lag_stats_flag_a_replayer_that_fell_behind() -> None:
    on_time = LagStats()
    for _ in range(1000):
        on_time.add(200)
    assert not on_time.fell_behind
    behind = LagStats(sample_size=100)
    for i in range(1000):
        behind.add(50_000 if i % 10 == 0 else 100)
    assert behind.fell_behind
    assert behind.summary()["max_lag_ms"] == 50.0
