"""The estimators of the fractions: their parts against hand-computed answers."""

from __future__ import annotations

import numpy as np
import pytest

from odyssey_analysis.estimators import (
    ESTIMATORS,
    bias_shifted,
    blend,
    corrected_fractions,
    fitted_noise,
    leaf_members,
    leaf_variance,
    noise_share,
)
from odyssey_analysis.fanova import ForestDecomposition, LeafBoxes
from odyssey_analysis.methods import FanovaMethod
from odyssey_analysis.space import Hyperparameter, SearchSpace
from odyssey_analysis.surrogate import ForestSettings, RandomForestSurrogate


def halves() -> LeafBoxes:
    """x0 < 0.5 | x0 >= 0.5, then the right half split at x1 = 0.25."""
    lower = np.array([[0.0, 0.0], [0.5, 0.0], [0.5, 0.25]])
    upper = np.array([[0.5, 1.0], [1.0, 0.25], [1.0, 1.0]])
    return LeafBoxes(lower, upper, np.array([0.0, 1.0, 2.0]))


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "numpy"])
def test_each_trial_is_placed_in_the_box_that_holds_it(compiled, monkeypatch):
    from odyssey_analysis import _kernels

    if compiled and _kernels.compiled() is None:
        pytest.skip("Numba is not available")
    if not compiled:
        monkeypatch.setitem(_kernels._state, "kernels", None)
    x = np.array([[0.1, 0.9], [0.5, 0.1], [0.7, 0.25], [1.0, 1.0], [0.49, 0.0]])
    assert leaf_members(halves(), x, chunk=2).tolist() == [0, 1, 2, 2, 0]
    outside = LeafBoxes(np.array([[0.0, 0.0]]), np.array([[0.5, 0.5]]), np.array([1.0]))
    assert leaf_members(outside, x).tolist() == [-1, -1, -1, -1, 0]
    rng = np.random.default_rng(0)
    x = rng.random((300, 2))
    found = leaf_members(halves(), x)
    tree = halves()
    inside = np.all((x >= tree.lower[found]) & (x < tree.upper[found]), axis=1)
    assert inside.all()


def test_pooled_within_leaf_variance_by_hand():
    x = np.array([[0.1, 0.5], [0.2, 0.5], [0.3, 0.5], [0.9, 0.1], [0.9, 0.9], [0.8, 0.8]])
    y = np.array([1.0, 2.0, 3.0, 10.0, 4.0, 6.0])
    # leaf 0: 1, 2, 3 (SS 2, dof 2); leaf 1: one trial; leaf 2: 4, 6 (SS 2, dof 1)
    variance, dof = leaf_variance([halves(), halves()], x, y)
    assert dof == 6 and variance == pytest.approx(8.0 / 6.0)
    assert np.isnan(leaf_variance([halves()], x[[0, 3]], y[[0, 3]])[0])


def test_fitted_noise_prefers_repeated_configurations():
    rng = np.random.default_rng(1)
    x = np.repeat(rng.random((30, 2)), 2, axis=0)
    y = rng.standard_normal(60)
    noise = fitted_noise([halves()], x, y)
    pairs = y.reshape(30, 2)
    assert noise.source == "replicates" and noise.dof == 30
    assert noise.variance == pytest.approx(np.mean(pairs.var(axis=1, ddof=1)))
    leaves = fitted_noise([halves()], x[::2], y[::2])
    assert leaves.source == "leaves"


def test_noise_share_is_leaves_over_the_distinct_trials_a_tree_saw():
    x = np.random.default_rng(2).random((100, 2))
    seen = 100 * (1 - 0.99 ** 100)
    assert noise_share([halves()], x)[0] == pytest.approx(3 / seen)
    assert noise_share([halves()], x, bootstrap=False)[0] == pytest.approx(0.03)


def decomposition(variance, main, pair) -> ForestDecomposition:
    variance = np.asarray(variance, float)
    return ForestDecomposition(np.zeros(len(variance)), variance, np.asarray(main, float),
                               np.asarray(pair, float), True)


def test_corrected_denominator_subtracts_the_fitted_noise_down_to_the_explained_part():
    pair = np.zeros((2, 2, 2))
    pair[1, 0, 1] = pair[1, 1, 0] = 0.1
    parts = decomposition([1.0, 2.0], [[0.5, 0.2], [1.0, 0.5]], pair)
    main, pairs = corrected_fractions(parts, 0.2, np.array([1.0, 0.5]))
    # tree 0: 1 - 0.2 = 0.8; tree 1: 2 - 0.1 = 1.9
    assert main == pytest.approx([(0.5 / 0.8 + 1.0 / 1.9) / 2, (0.2 / 0.8 + 0.5 / 1.9) / 2])
    assert pairs[0, 1] == pytest.approx(0.1 / 1.9 / 2)
    # much noise: never below what the mains and pairs explain (0.7 and 1.6)
    main, _ = corrected_fractions(parts, 10.0, np.array([1.0, 1.0]))
    assert main == pytest.approx([(0.5 / 0.7 + 1.0 / 1.6) / 2, (0.2 / 0.7 + 0.5 / 1.6) / 2])
    plain, _ = corrected_fractions(parts, 0.0, np.ones(2))
    assert plain == pytest.approx([(0.5 + 0.5) / 2, (0.2 + 0.25) / 2])


def test_blend_is_the_mean():
    a = (np.array([0.6, 0.2]), np.zeros((2, 2)))
    b = (np.array([0.4, 0.1]), np.ones((2, 2)))
    main, pair = blend(a, b)
    assert main == pytest.approx([0.5, 0.15]) and pair == pytest.approx(np.full((2, 2), 0.5))


def test_bias_shift_takes_the_forest_means_bias_off_and_stays_a_fraction():
    shifted = bias_shifted(np.array([0.5, 0.3, 0.02, 0.9]), np.array([0.7, 0.2, 0.05, 0.5]),
                           np.array([0.6, 0.25, 0.0, 0.7]))
    assert shifted == pytest.approx([0.4, 0.35, 0.0, 1.0])  # clipped to [0, 1]


def test_blend_corrected_reuses_the_bootstrap_world_and_needs_none():
    # Without a bootstrap the estimator simulates the same world sweeps (same streams)
    # as the bootstrap's first half, so both give the same fractions; with one, the
    # mains' intervals are centred on them.
    space = SearchSpace(tuple(Hyperparameter(n, "float", 0.0, 1.0) for n in "abc"))
    rng = np.random.default_rng(5)
    x = rng.random((120, 3))
    y = np.sin(4 * x[:, 0]) + x[:, 1] + 0.2 * rng.standard_normal(120)
    fits = []
    for n_bootstrap in (0, 10):
        method = FanovaMethod(RandomForestSurrogate(ForestSettings(min_samples_leaf=1, seed=2)),
                              estimator="blend-corrected", n_bootstrap=n_bootstrap,
                              curves=False, signal_permutations=0)
        assert method.trees_per_fit == 64 + 16 * (n_bootstrap * 2 or 10)
        fits.append(method.fit(x, y, space))
    plain, boot = (f.estimate for f in fits)
    assert plain.main == pytest.approx(boot.main, abs=1e-12)
    bl = boot.alternatives["blend"][0]
    ci = boot.intervals  # the mains' intervals are centred on the reported fractions
    assert ci.main_corrected == pytest.approx(boot.main)
    assert np.all((ci.main_lower <= boot.main) & (boot.main <= ci.main_upper))
    assert plain.intervals is None and not np.allclose(plain.main, bl)
    assert np.array_equal(plain.pair, plain.alternatives["blend"][1], equal_nan=True)


def test_blend_corrected_is_closer_to_an_additive_truth_than_the_blend():
    # y = a·x on the unit cube: the true main fractions are a_j² / Σ a². At 200 trials
    # the forest mean over-estimates the dominant x0; the world shows that smoothing.
    a = np.array([1.0, 0.5, 0.4, 0.3, 0.2])
    truth = a ** 2 / np.sum(a ** 2)
    space = SearchSpace(tuple(Hyperparameter(n, "float", 0.0, 1.0) for n in "abcde"))
    error = {"blend": [], "blend-corrected": []}
    for seed in range(3):
        rng = np.random.default_rng(seed)
        x = rng.random((200, 5))
        y = x @ a + 0.3 * np.sqrt(np.sum(a ** 2) / 12) * rng.standard_normal(200)
        fit = FanovaMethod(RandomForestSurrogate(ForestSettings(seed=seed)),
                           estimator="blend-corrected", curves=False,
                           signal_permutations=0).fit(x, y, space)
        for est in error:
            error[est].append(np.abs(fit.estimate.alternatives[est][0] - truth).max())
    assert all(c <= b for c, b in zip(error["blend-corrected"], error["blend"]))
    assert np.mean(error["blend-corrected"]) < 0.7 * np.mean(error["blend"])


def test_every_estimator_runs_and_the_corrected_one_undoes_the_noise_dilution():
    # y = x0 + noise: the true main fraction of x0 is 1. The per-tree estimator reads the
    # noise each tree fitted, as pairs and interactions of three or four; the corrected
    # one takes out what lies beyond pairs.
    space = SearchSpace(tuple(Hyperparameter(n, "float", 0.0, 1.0) for n in "abce"))
    rng = np.random.default_rng(3)
    x = rng.random((400, 4))
    y = x[:, 0] + 0.15 * rng.standard_normal(400)
    fits = {}
    for est in ESTIMATORS:
        method = FanovaMethod(RandomForestSurrogate(ForestSettings(seed=1)), estimator=est,
                              curves=False, signal_permutations=0)
        fits[est] = method.fit(x, y, space)
        assert fits[est].estimator == est
    top = {est: float(fit.main_fraction().mean["a"]) for est, fit in fits.items()}
    assert 1 - top["per-tree-corrected"] < 0.85 * (1 - top["per-tree"])
    assert top["blend"] == pytest.approx(0.5 * (top["forest-mean"] + top["per-tree-corrected"]))
    noise = fits["blend"].estimate.noise
    assert noise.source == "leaves" and 0.5 * 0.0225 < noise.variance < 3 * 0.0225


def test_a_level_grid_beyond_the_sobol_points_is_integrated_exactly():
    # 3^9 = 19,683 cells, more than the 2^13 variance points: the forest-mean fractions
    # must equal the exact grid ANOVA of the same forest's mean function.
    import time
    from itertools import product

    space = SearchSpace(tuple(Hyperparameter(f"h{j}", "ordinal", choices=(1, 2, 3))
                              for j in range(9)))
    rng = np.random.default_rng(4)
    cells = rng.integers(0, 3, (300, 9))
    x = (cells + 0.5) / 3
    y = (cells[:, 0] - 1.0) ** 2 + 0.5 * cells[:, 1] * cells[:, 2] + 0.3 * rng.random(300)
    surrogate = RandomForestSurrogate(ForestSettings(n_trees=16, seed=2))
    start = time.perf_counter()
    fit = FanovaMethod(surrogate, estimator="forest-mean", curves=False,
                       signal_permutations=0).fit(x, y, space)
    assert time.perf_counter() - start < 30
    assert fit.estimate.exact and fit.estimate.points == 3 ** 9
    grid = (np.array(list(product(range(3), repeat=9)), dtype=float) + 0.5) / 3
    values = surrogate.fit(x, y, evaluate_at=grid).evaluated.reshape((3,) * 9)
    mean, total = values.mean(), values.var()
    main = np.array([values.mean(axis=tuple(k for k in range(9) if k != j)).var()
                     for j in range(9)])
    assert fit.estimate.variance == pytest.approx(total, rel=1e-9)
    assert fit.estimate.mean == pytest.approx(mean, rel=1e-9)
    assert fit.estimate.main == pytest.approx(main / total, abs=1e-9)
    closed = values.mean(axis=tuple(range(2, 9))).var()
    assert fit.estimate.pair[0, 1] == pytest.approx((closed - main[0] - main[1]) / total,
                                                    abs=1e-9)


def test_blend_corrected_of_a_constant_response_reports_nan_shares():
    import warnings

    space = SearchSpace(tuple(Hyperparameter(n, "float", 0.0, 1.0) for n in "ab"))
    x = np.random.default_rng(0).random((50, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the constant-trees warning
        fit = FanovaMethod(RandomForestSurrogate(ForestSettings(seed=0)), curves=False,
                           signal_permutations=0).fit(x, np.ones(50), space)
    assert fit.estimate.estimator == "blend-corrected"
    assert np.isnan(fit.estimate.main).all()
