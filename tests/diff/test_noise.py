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


def _stale_candidate(p: float, seed: int = 0) -> tuple[NoiseModel, int]:
    """An intermittently stale candidate: baseline pairs always agree on $.balance; the
    candidate serves a stale one with probability `p` (the review's cand_aa case)."""
    import random

    rng = random.Random(seed)
    model = NoiseModel()
    stale = [Difference(Kind.BODY_VALUE, "$.balance", 1, 2)]
    for _ in range(200):
        a, b = rng.random() < p, rng.random() < p
        model.observe_both([], stale if a != b else [])
    return model, sum(rng.random() < p for _ in range(1000))


def test_candidate_pairs_do_not_excuse_where_the_baselines_are_steady() -> None:
    for p in (0.05, 0.1):
        model, ab = _stale_candidate(p)
        assert model.rate("$.balance", Kind.BODY_VALUE) > 0
        assert not model.is_noise("$.balance", Kind.BODY_VALUE, ab, 1000), p


def test_candidate_pairs_excuse_where_the_baselines_vary_too() -> None:
    model = NoiseModel()
    ts = [Difference(Kind.BODY_VALUE, "$.ts")]
    for n in range(40):
        model.observe_both(ts if n % 4 == 0 else [], ts)
    assert model.is_noise("$.ts", Kind.BODY_VALUE, 40, 40)


def test_one_identical_request_is_one_pair() -> None:
    model = NoiseModel()
    model.observe_both([], [Difference(Kind.BODY_VALUE, "$.x")])
    assert (model.pairs, model.baseline_pairs) == (1, 1)
    assert model.rate("$.x", Kind.BODY_VALUE) == 1.0
