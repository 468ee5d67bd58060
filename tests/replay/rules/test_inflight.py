from __future__ import annotations

from shadowtape.replay.rules.inflight import InFlight


def test_the_mean_is_the_time_in_flight_over_the_span() -> None:
    flight = InFlight()
    assert flight.mean() is None
    for start in range(0, 100, 10):  # ten requests of 40, one starting every 10
        flight.add(start, start + 40)
    assert flight.mean() == round(400 / 130, 2)


def test_one_at_a_time_is_one_and_nothing_timed_is_none() -> None:
    flight = InFlight()
    flight.add(5, 10)
    flight.add(10, 20)
    assert flight.mean() == 1.0
    instant = InFlight()
    instant.add(3, 3)
    assert instant.mean() is None
