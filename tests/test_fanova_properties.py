"""Properties of the decomposition on random data (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from odyssey_analysis import SearchSpace, TrialTable, analyze
from odyssey_analysis.fanova import TreeDecomposition
from odyssey_analysis.methods import method_from_options
from odyssey_analysis.space import Hyperparameter


def random_study(seed: int, d: int, n: int, ignored: bool = False, **kwargs):
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, d))
    coef = rng.normal(size=d)
    if ignored:
        coef[-1] = 0.0
    y = np.sin(3 * x @ coef) + (x[:, 0] * x[:, min(1, d - 1)] if not ignored or d > 2 else 0)
    frame = pd.DataFrame({f"h{i}": x[:, i] for i in range(d)})
    frame["y"] = y
    space = SearchSpace(tuple(Hyperparameter(f"h{i}", "float", 0.0, 1.0) for i in range(d)))
    table = TrialTable.from_frame(frame, responses=["y"], space=space, group_by=[])
    options = dict(n_trees=6, grid_points=5, pair_grid_points=4)
    n_jobs = kwargs.pop("n_jobs", 1)
    options.update(kwargs)
    return analyze(table, method_from_options(**options), space=space, n_jobs=n_jobs)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), d=st.integers(1, 4), n=st.integers(12, 80))
def test_fractions_are_shares_of_the_variance(seed, d, n):
    result = next(iter(random_study(seed, d, n)))
    ok = result.valid_trees
    main = result.main_variance[ok] / result.tree_variance[ok, None]
    pair = result.pair_variance[ok] / result.tree_variance[ok, None, None]
    assert np.all(main >= 0) and np.all(main <= 1 + 1e-9)
    assert np.all(pair >= 0) and np.all(pair <= 1 + 1e-9)
    higher = result.higher_order_per_tree()
    assert np.all(higher >= -1e-9) and np.all(higher <= 1 + 1e-9)
    if d <= 2:
        np.testing.assert_allclose(higher, 0.0, atol=1e-9)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(12, 80))
def test_higher_order_is_the_pure_three_way_effect(seed, n):
    """With three hyperparameters the remainder is the pure 3-way effect, which inclusion–
    exclusion over closed variances (the boxes' pairwise overlaps: another code path than
    the pair sweep) gives as V − Σ closed(jk) + Σ main(j)."""
    result = next(iter(random_study(seed, 3, n, keep_trees=True)))
    ok = result.valid_trees
    trees = [t for t, keep in zip(result.trees, ok) if keep]
    pure3 = []
    for boxes in trees:
        dec = TreeDecomposition(boxes)
        closed = sum(dec.closed_variance([j, k]) for j, k in ((0, 1), (0, 2), (1, 2)))
        mains = sum(dec.main_variance(j) for j in range(3))
        pure3.append((dec.variance - closed + mains) / dec.variance)
    np.testing.assert_allclose(result.higher_order_per_tree(), pure3, atol=1e-9)


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_same_seed_gives_identical_numbers(seed):
    a = random_study(seed, 3, 60)
    b = random_study(seed, 3, 60, n_jobs=2)
    ra, rb = next(iter(a)), next(iter(b))
    assert np.array_equal(ra.main_variance, rb.main_variance)
    assert np.array_equal(ra.pair_variance, rb.pair_variance)
    assert a.importance_table().equals(b.importance_table())


def test_ignored_hyperparameter_gets_almost_nothing():
    result = next(iter(random_study(4, 4, 400, ignored=True, n_trees=16)))
    mean, _ = result.main_fraction()
    assert mean.iloc[-1] < 0.01
    pair_mean, _ = result.pair_fraction()
    assert pair_mean.iloc[-1, :].max() < 0.01
