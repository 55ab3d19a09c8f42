"""The parts of the calibrated intervals: measure points, the noise estimate, the rule."""

from __future__ import annotations

import numpy as np
import pytest

from odyssey_analysis.intervals import (
    RATIO_FLOOR,
    calibrated_interval,
    percentile_interval,
    ratio_corrected,
    spanning_interval,
    z_value,
)
from odyssey_analysis.noise import noise_variance, replicate_variance, variogram_nugget
from odyssey_analysis.space import Hyperparameter, SearchSpace
from odyssey_analysis.space.points import draw_design, variance_points


def mixed_space() -> SearchSpace:
    return SearchSpace((Hyperparameter("opt", "categorical", choices=("adam", "sgd", "rms")),
                        Hyperparameter("layers", "ordinal", choices=(1, 2, 3, 4)),
                        Hyperparameter("lr", "float", 1e-4, 1e-1, scale="log")))


def test_level_grid_integrates_exactly_with_the_level_weights():
    space = SearchSpace((Hyperparameter("opt", "categorical", choices=("a", "b", "c")),
                         Hyperparameter("layers", "ordinal", choices=(1, 2, 3, 4))))
    pts = variance_points(space, 1 << 10, seed=0)
    assert pts.exact and len(pts.points) == 12
    assert pts.weights.sum() == pytest.approx(1.0)
    # f = level index of opt + 10 · level index of layers: mean 1 + 15, variance 2/3 + 125.
    opt = np.floor(pts.points[:, 0] * 3)
    layers = np.floor(pts.points[:, 1] * 4)
    mean, variance = pts.mean_and_variance(opt + 10 * layers)
    assert mean == pytest.approx(1 + 15)
    assert variance == pytest.approx(2 / 3 + 100 * 1.25)


def test_sobol_points_cover_the_measure_and_repeat_with_the_seed():
    space = mixed_space()
    pts = variance_points(space, 1000, seed=3)
    assert not pts.exact and len(pts.points) == 1024  # a power of two
    np.testing.assert_array_equal(pts.points, variance_points(space, 1000, seed=3).points)
    assert not np.array_equal(pts.points, variance_points(space, 1000, seed=4).points)
    # Levels sit on their centres; the numeric input is uniform (mean 1/2, var 1/12).
    assert set(np.round(pts.points[:, 0], 6)) == {round(c, 6) for c in (1 / 6, 1 / 2, 5 / 6)}
    mean, variance = pts.mean_and_variance(pts.points[:, 2])
    assert mean == pytest.approx(0.5, abs=1e-3)
    assert variance == pytest.approx(1 / 12, rel=1e-2)


def test_designs_are_independent_draws_of_the_measure():
    space = mixed_space()
    x = draw_design(space, 4000, np.random.default_rng(0))
    assert x.shape == (4000, 3)
    counts = np.unique(np.round(x[:, 1], 6), return_counts=True)[1]
    assert len(counts) == 4 and counts.min() > 900
    assert x[:, 2].mean() == pytest.approx(0.5, abs=0.02)


def test_replicate_variance_pools_repeated_configurations():
    rng = np.random.default_rng(1)
    x = np.repeat(rng.random((200, 2)), 3, axis=0)
    y = 5 * x[:, 0] + 0.3 * rng.standard_normal(600)
    variance, dof = replicate_variance(x, y)
    assert dof == 400
    assert variance == pytest.approx(0.09, rel=0.15)
    estimate = noise_variance(x, y, np.array([False, False]))
    assert estimate.source == "replicates" and estimate.dof == 400


def test_variogram_nugget_finds_the_noise_of_a_smooth_response():
    rng = np.random.default_rng(2)
    x = rng.random((1000, 3))
    y = np.sin(3 * x[:, 0]) + x[:, 1] ** 2 + 0.2 * rng.standard_normal(1000)
    nugget = variogram_nugget(x, y, np.zeros(3, dtype=bool))
    assert nugget == pytest.approx(0.04, rel=0.3)
    estimate = noise_variance(x, y, np.zeros(3, dtype=bool))
    assert estimate.source == "nugget"
    assert estimate.variance == pytest.approx(nugget, rel=1e-12)


def test_no_noise_estimate_without_numeric_inputs_or_replicates():
    x = np.array([[0.25, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.75]] * 2)[:6]
    y = np.arange(6.0)
    estimate = noise_variance(x, y, np.array([True, True]))
    assert estimate.source == "none" and estimate.variance == 0.0


def test_ratio_correction_undoes_a_known_shrinkage():
    truth = np.array([0.6, 0.3, 0.001])
    # The world's refits come out 20 % low for the large effects and 0.002 high for the
    # tiny one: the same bias applied to an estimate is undone.
    replicates = np.tile(truth * np.array([0.8, 0.8, 1.0]) + [0, 0, 0.002], (50, 1))
    estimate = np.array([0.48, 0.24, 0.003])
    corrected = ratio_corrected(estimate, replicates, truth)
    assert corrected[:2] == pytest.approx([0.6, 0.3])
    assert truth[2] < RATIO_FLOOR and corrected[2] == pytest.approx(0.001)


def test_an_unbiased_world_gives_the_spread_interval():
    rng = np.random.default_rng(4)
    estimate = np.array([0.5, 0.2])
    world = estimate + 0.0 * rng.standard_normal((100, 2))
    resampled = estimate + np.array([0.05, 0.01]) * rng.standard_normal((100, 2))
    ci = calibrated_interval(estimate, world, resampled, 0.9)
    np.testing.assert_allclose(ci.corrected, estimate)
    half = z_value(0.9) * resampled.std(axis=0, ddof=1)
    np.testing.assert_allclose(ci.upper - ci.corrected, half)
    np.testing.assert_allclose(ci.corrected - ci.lower, half)
    assert z_value(0.9) == pytest.approx(1.6449, abs=1e-4)


def test_a_bias_widens_the_interval_and_moves_its_centre():
    estimate = np.array([0.5])
    world = np.full((40, 1), 0.4)  # the world's refits shrink by 20 %
    resampled = 0.5 + 0.01 * np.random.default_rng(5).standard_normal((40, 1))
    ci = calibrated_interval(estimate, world, resampled, 0.9)
    assert ci.corrected[0] == pytest.approx(0.625)
    # Half-width z · sqrt(spread² + (2 · 0.125)²), clipped at 1 above.
    half = z_value(0.9) * np.sqrt(resampled.std(ddof=1) ** 2 + 0.25 ** 2)
    assert ci.lower[0] == pytest.approx(0.625 - half)
    assert ci.upper[0] == 1.0
    lo, hi = percentile_interval(resampled, 0.9)
    assert hi[0] < ci.corrected[0]  # the percentile interval misses the corrected share
    assert ci.lower[0] >= 0.0 and ci.upper[0] <= 1.0


def _null_sweep(rep: int, kind: str) -> tuple[np.ndarray, np.ndarray, SearchSpace]:
    space = SearchSpace(tuple(Hyperparameter(n, "float", 0.0, 1.0) for n in "abcd"))
    rng = np.random.default_rng([5, rep])
    x = rng.random((200, 4))
    y = (rng.random(200) if kind == "noise" else
         np.sin(6 * x[:, 0]) + x[:, 1] ** 2 + 0.3 * rng.standard_normal(200))
    return x, y, space


def test_intervals_cover_zero_for_pure_noise_and_for_null_hyperparameters():
    from odyssey_analysis.methods import FanovaMethod
    from odyssey_analysis.surrogate import ForestSettings, RandomForestSurrogate

    def fit(rep: int, kind: str):
        x, y, space = _null_sweep(rep, kind)
        surrogate = RandomForestSurrogate(ForestSettings(n_trees=32, min_samples_leaf=2,
                                                         seed=rep))
        return FanovaMethod(surrogate, n_bootstrap=10, curves=False).fit(x, y, space)

    iu = np.triu_indices(4, 1)
    # Pure noise: no detectable signal, and every effect's interval reaches 0.
    noise = fit(0, "noise")
    assert not noise.has_signal
    assert (noise.intervals.main_lower == 0).all() and (noise.intervals.pair_lower[iu] == 0).all()
    # y = sin(6a) + b² + noise: c and d, and every pair, have no effect.
    covered = []
    for rep in range(3):
        ci = fit(rep, "signal").intervals
        covered += list(np.concatenate([ci.main_lower[2:], ci.pair_lower[iu]]) <= 1e-12)
    assert len(covered) == 24 and np.mean(covered) >= 0.9


def test_spanning_interval_keeps_the_calibrated_half_width_beyond_both_centres():
    rng = np.random.default_rng(7)
    estimate = np.array([0.6, 0.2, 0.004])
    world = estimate * np.exp(rng.normal(-0.2, 0.05, (30, 3)))
    resampled = estimate + rng.normal(0, 0.03, (30, 3))
    ci = calibrated_interval(estimate, world, resampled)
    same = spanning_interval(ci.corrected, estimate, ci.corrected, resampled)
    np.testing.assert_allclose(same, (ci.lower, ci.upper))
    inner = (ci.lower > 0.05) & (ci.upper < 0.95)  # away from the clipping
    lower, upper = spanning_interval(ci.corrected - 0.05, estimate, ci.corrected, resampled)
    np.testing.assert_allclose(lower[inner], ci.lower[inner] - 0.05)
    np.testing.assert_allclose(upper, ci.upper)
    lower, upper = spanning_interval(ci.corrected + 0.05, estimate, ci.corrected, resampled)
    np.testing.assert_allclose(lower, ci.lower)
    np.testing.assert_allclose(upper[inner], ci.upper[inner] + 0.05)


def test_refits_fitted_in_smaller_chunks_give_the_same_intervals(monkeypatch):
    """Large sweeps fit fewer bootstrap refits per call (bounded memory); how the refits
    are chunked changes no number, for the intervals nor for the default estimator."""
    from odyssey_analysis.methods import FanovaMethod
    from odyssey_analysis.methods import fanova as method_module

    rng = np.random.default_rng(4)
    x = rng.random((150, 3))
    y = np.sin(5 * x[:, 0]) + 0.5 * x[:, 1] * x[:, 2] + 0.1 * rng.standard_normal(150)
    space = SearchSpace(tuple(Hyperparameter(f"x{i}", "float", 0.0, 1.0) for i in range(3)))
    assert method_module.refits_per_call(200) == method_module.REFITS_PER_CALL
    assert method_module.refits_per_call(100_000) == 1

    def fit():
        return FanovaMethod(n_bootstrap=12).fit(x, y, space).estimate

    whole = fit()
    monkeypatch.setattr(method_module, "REFIT_TRIALS_PER_CALL", 3 * len(y))
    assert method_module.refits_per_call(len(y)) == 3
    chunked = fit()
    for name in ("main_lower", "main_upper", "pair_lower", "pair_upper", "main_corrected"):
        assert np.array_equal(getattr(whole.intervals, name), getattr(chunked.intervals, name),
                              equal_nan=True), name
    assert np.array_equal(whole.main, chunked.main)
