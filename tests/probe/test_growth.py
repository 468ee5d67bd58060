"""The log-log fit of latency on size and its confidence interval."""

from __future__ import annotations

import random

import pytest

from shadowtape.probe.growth import fit, steeper_by, t95


def points(power: float, noise: float, seed: int = 1) -> list[tuple[int, float]]:
    rng = random.Random(seed)
    return [
        (n, 1e-4 * n**power * (1 + rng.uniform(-noise, noise)))
        for n in (40, 80, 160, 320, 640)
        for _ in range(3)
    ]


@pytest.mark.parametrize("power", [0.0, 1.0, 2.0])
def test_the_slope_is_the_power_and_its_interval_holds_it(power: float) -> None:
    found = fit(points(power, 0.1))
    assert found is not None
    assert found.low < power < found.high
    assert found.slope == pytest.approx(power, abs=0.1)


def test_steeper_growth_is_significant_and_equal_growth_is_not() -> None:
    quadratic, linear, other = fit(points(2, 0.2)), fit(points(1, 0.2)), fit(points(1, 0.2, 2))
    assert quadratic is not None and linear is not None and other is not None
    assert steeper_by(quadratic, linear) > 0.5
    assert steeper_by(other, linear) < 0


def test_one_size_has_no_slope() -> None:
    assert fit([(10, 0.01)] * 5) is None
    assert fit([(10, 0.01), (20, 0.02)]) is None


def test_t_quantiles() -> None:
    assert t95(1) == pytest.approx(12.706)
    assert t95(30) == pytest.approx(2.042)
    assert t95(1000) == pytest.approx(1.96)
    assert t95(0) == float("inf")
