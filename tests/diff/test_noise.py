"""The noise decision: Diffy's thresholds plus a significance test."""

from __future__ import annotations

from shadowtape.diff.model import Difference, Kind
from shadowtape.diff.noise import NoiseModel, NoiseSettings, excess_p_value, is_noise

S = NoiseSettings()


def test_a_location_the_baselines_never_disagree_on_is_not_noise() -> None:
    assert not is_noise(1, 1000, 0, 1000, S)


def test_about_as_often_is_noise() -> None:
    assert is_noise(50, 100, 45, 100, S)
    assert is_noise(100, 100, 100, 100, S)


def test_much_more_often_and_significant_is_a_regression() -> None:
    assert not is_noise(90, 100, 10, 100, S)


def test_more_often_by_chance_on_a_small_sample_is_noise() -> None:
    # 3 of 10 vs 1 of 10 clears both of Diffy's thresholds but is not significant.
    assert excess_p_value(3, 10, 1, 10) > 0.2
    assert is_noise(3, 10, 1, 10, S)


def test_large_counts_use_the_normal_approximation() -> None:
    assert excess_p_value(5200, 10000, 5000, 10000) < 0.01
    assert excess_p_value(5010, 10000, 5000, 10000) > 0.3


def test_the_model_counts_each_location_once_per_pair_and_by_noise_group() -> None:
    model = NoiseModel()
    model.observe(
        [Difference(Kind.BODY_VALUE, "$.a[0].t"), Difference(Kind.BODY_VALUE, "$.a[1].t")]
    )
    model.observe([Difference(Kind.BODY_EXTRA, "$.opt")])
    assert model.pairs == 2
    assert model.rate("$.a[*].t", Kind.BODY_VALUE) == 0.5
    # A field that comes and goes is noise whether the candidate drops or adds it.
    assert model.rate("$.opt", Kind.BODY_MISSING) == 0.5


def test_a_candidate_that_fails_now_and_then_is_not_excused_by_its_own_repeats() -> None:
    model = NoiseModel()
    for n in range(40):
        flaky = [Difference(Kind.NEW_ERROR, "status")] if n % 2 else []
        model.observe([*flaky, Difference(Kind.BODY_VALUE, "$.ts")], candidate=True)
    assert model.rate("$.ts", Kind.BODY_VALUE) == 1.0
    assert model.rate("status", Kind.NEW_ERROR) == 0.0
    assert not model.is_noise("status", Kind.NEW_ERROR, 20, 40)
    assert model.is_noise("$.ts", Kind.BODY_VALUE, 40, 40)
