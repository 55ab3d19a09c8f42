"""The decomposition engine against a brute-force evaluation of small trees.

The brute force evaluates each tree on every cell of the grid of all its split points
(so the tree is constant on each cell) and computes the functional ANOVA by weighted
averaging over axes of that d-dimensional array. The engine must agree to 1e-9.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor

from odyssey_analysis import _kernels
from odyssey_analysis.fanova import LeafBoxes, TreeDecomposition, leaf_boxes

PATHS = [pytest.param(False, id="numpy"),
         pytest.param(True, id="compiled", marks=pytest.mark.skipif(
             not _kernels.COMPILED, reason="numba is not installed"))]


def split_points(trees, j):
    """The split points of input ``j`` in every tree, clipped into [0, 1]."""
    return [np.clip(t.threshold[(t.feature == j) & (t.children_left != -1)], 0, 1)
            for t in trees]


class BruteForce:
    """Functional ANOVA of one tree by full enumeration of its split grid."""

    def __init__(self, estimator, d: int, cutoffs=None) -> None:
        self._enumerate([estimator.tree_], d, estimator.predict, cutoffs)

    def _enumerate(self, trees, d, predict, cutoffs=None) -> None:
        """The function on every cell of the grid of all ``trees``' split points."""
        self.edges = [np.unique(np.concatenate([[0.0, 1.0], *split_points(trees, j)]))
                      for j in range(d)]
        self.widths = [np.diff(e) for e in self.edges]
        mids = [0.5 * (e[:-1] + e[1:]) for e in self.edges]
        mesh = np.meshgrid(*mids, indexing="ij")
        values = predict(np.column_stack([m.ravel() for m in mesh]))
        if cutoffs is not None:
            values = np.clip(values, *cutoffs)
        self.f = values.reshape([m.size for m in mids])
        self.d = d
        w = self.widths[0]
        for j in range(1, d):
            w = np.multiply.outer(w, self.widths[j])
        self.w = w
        self.mean = float((self.w * self.f).sum())
        self.variance = float((self.w * (self.f - self.mean) ** 2).sum())

    def marginal(self, subset):
        """Joint marginal over ``subset`` (array over the subset's cells)."""
        others = tuple(k for k in range(self.d) if k not in subset)
        weighted = (self.w * self.f).sum(axis=others)
        wsub = self.w.sum(axis=others)
        return weighted / wsub, wsub

    def closed_variance(self, subset):
        m, w = self.marginal(tuple(sorted(subset)))
        return float((w * (m - self.mean) ** 2).sum())

    def pure_pair_variance(self, j, k):
        return (self.closed_variance((j, k)) - self.closed_variance((j,))
                - self.closed_variance((k,)))

    def marginal_at(self, j, x):
        m, _ = self.marginal((j,))
        idx = np.clip(np.searchsorted(self.edges[j], x, side="right") - 1, 0, m.size - 1)
        return m[idx]

    def pair_at(self, j, k, xj, xk):
        m, _ = self.marginal((j, k))
        ij = np.clip(np.searchsorted(self.edges[j], xj, side="right") - 1, 0, m.shape[0] - 1)
        ik = np.clip(np.searchsorted(self.edges[k], xk, side="right") - 1, 0, m.shape[1] - 1)
        return m[np.ix_(ij, ik)]


def small_forest(seed: int, d: int, n: int = 60, trees: int = 4, depth: int = 5):
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, d))
    y = np.sin(5 * x[:, 0]) + x[:, 1 % d] * x[:, (d - 1)] + rng.normal(0, 0.1, n)
    return RandomForestRegressor(trees, max_depth=depth, random_state=seed).fit(x, y)


@pytest.mark.parametrize("compiled", PATHS)
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_engine_matches_brute_force(seed, d, compiled):
    forest = small_forest(seed, d)
    rng = np.random.default_rng(100 + seed)
    for est in forest.estimators_:
        brute = BruteForce(est, d)
        dec = TreeDecomposition(leaf_boxes(est.tree_, d))
        dec.use_kernels = compiled
        assert dec.mean == pytest.approx(brute.mean, abs=1e-9)
        assert dec.variance == pytest.approx(brute.variance, abs=1e-9)
        for j in range(d):
            assert dec.main_variance(j) == pytest.approx(brute.closed_variance((j,)), abs=1e-9)
            x = np.sort(np.concatenate([rng.uniform(size=17), [0.0, 1.0]]))
            np.testing.assert_allclose(dec.marginal_on(j, x), brute.marginal_at(j, x),
                                       atol=1e-9)
        for j, k in combinations(range(d), 2):
            pure, closed = dec.pair_variance(j, k)
            assert closed == pytest.approx(brute.closed_variance((j, k)), abs=1e-9)
            assert pure == pytest.approx(max(brute.pure_pair_variance(j, k), 0.0), abs=1e-9)
            xj = np.sort(rng.uniform(size=7))
            xk = np.sort(rng.uniform(size=5))
            np.testing.assert_allclose(dec.pair_on(j, k, xj, xk),
                                       brute.pair_at(j, k, xj, xk), atol=1e-9)
        for size in range(1, d + 1):
            for subset in combinations(range(d), size):
                assert dec.closed_variance(subset) == pytest.approx(
                    brute.closed_variance(subset), abs=1e-9)


@pytest.mark.parametrize("compiled", PATHS)
def test_fully_grown_trees_match_brute_force(compiled):
    forest = small_forest(8, 3, n=300, trees=2, depth=None)
    for est in forest.estimators_:
        brute = BruteForce(est, 3)
        dec = TreeDecomposition(leaf_boxes(est.tree_, 3))
        dec.use_kernels = compiled
        for j, k in combinations(range(3), 2):
            assert dec.pair_variance(j, k)[1] == pytest.approx(
                brute.closed_variance((j, k)), rel=1e-9, abs=1e-12)


def test_blocked_pair_grid_matches_single_block(monkeypatch):
    """Large trees are processed in row blocks; the blocks must add up exactly."""
    forest = small_forest(7, 3, n=400, trees=2, depth=None)
    est = forest.estimators_[0]
    brute = BruteForce(est, 3)
    dec = TreeDecomposition(leaf_boxes(est.tree_, 3))
    dec.use_kernels = False
    import odyssey_analysis.fanova as engine

    monkeypatch.setattr(engine, "PAIR_BLOCK_CELLS", 997)
    for j, k in combinations(range(3), 2):
        _, closed = dec.pair_variance(j, k)
        assert closed == pytest.approx(brute.closed_variance((j, k)), abs=1e-9)


def test_cutoffs_clamp_leaf_values():
    forest = small_forest(3, 3)
    est = forest.estimators_[0]
    values = est.tree_.value[est.tree_.children_left == -1, 0, 0]
    cut = (float(np.quantile(values, 0.25)), float(np.quantile(values, 0.75)))
    brute = BruteForce(est, 3, cutoffs=cut)
    dec = TreeDecomposition(leaf_boxes(est.tree_, 3, cutoffs=cut))
    assert dec.variance == pytest.approx(brute.variance, abs=1e-9)
    for j in range(3):
        assert dec.main_variance(j) == pytest.approx(brute.closed_variance((j,)), abs=1e-9)


def test_leaf_order_and_dimension_order_do_not_matter():
    forest = small_forest(11, 4)
    boxes = leaf_boxes(forest.estimators_[0].tree_, 4)
    dec = TreeDecomposition(boxes)
    rng = np.random.default_rng(0)
    rows = rng.permutation(boxes.n_leaves)
    cols = np.array([2, 0, 3, 1])
    shuffled = TreeDecomposition(LeafBoxes(boxes.lower[rows][:, cols],
                                           boxes.upper[rows][:, cols], boxes.value[rows]))
    assert shuffled.variance == pytest.approx(dec.variance, rel=1e-12)
    for new_j, old_j in enumerate(cols):
        assert shuffled.main_variance(new_j) == pytest.approx(dec.main_variance(old_j),
                                                              rel=1e-9, abs=1e-15)
    for a, b in combinations(range(4), 2):
        assert shuffled.pair_variance(a, b)[0] == pytest.approx(
            dec.pair_variance(cols[a], cols[b])[0], rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("compiled", PATHS)
def test_two_dimensions_leave_nothing_to_higher_order(compiled):
    forest = small_forest(5, 2, n=200, trees=3, depth=None)
    for est in forest.estimators_:
        dec = TreeDecomposition(leaf_boxes(est.tree_, 2))
        dec.use_kernels = compiled
        pure, closed = dec.pair_variance(0, 1)
        assert closed == pytest.approx(dec.variance, rel=1e-9)
        total = dec.main_variance(0) + dec.main_variance(1) + pure
        assert total == pytest.approx(dec.variance, rel=1e-9)


class ForestBruteForce(BruteForce):
    """The forest-mean function on the grid of every tree's split points."""

    def __init__(self, forest, d: int) -> None:  # noqa: D107 - as the parent, for a forest
        self._enumerate([e.tree_ for e in forest.estimators_], d, forest.predict)


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "numpy"])
@pytest.mark.parametrize("seed, d", [(0, 2), (1, 3), (2, 3), (3, 5)])
def test_forest_mean_effects_match_brute_force(seed, d, compiled, monkeypatch):
    """Mains and pure pairs of the forest's mean function, from all trees' leaves at once,
    against the mean function enumerated on the union of the trees' split grids, by the
    compiled kernel and by the NumPy path."""
    from odyssey_analysis import _kernels
    from odyssey_analysis.fanova import forest_mean_effects

    if compiled and _kernels.compiled() is None:
        pytest.skip("Numba is not available")
    if not compiled:
        monkeypatch.setitem(_kernels._state, "kernels", None)
    forest = small_forest(seed, d, trees=5, depth=4)
    boxes = [leaf_boxes(e.tree_, d) for e in forest.estimators_]
    main, pair = forest_mean_effects(boxes)
    brute = ForestBruteForce(forest, d)
    for j in range(d):
        assert main[j] == pytest.approx(brute.closed_variance((j,)), abs=1e-9)
    for j, k in combinations(range(d), 2):
        assert pair[j, k] == pytest.approx(max(brute.pure_pair_variance(j, k), 0.0),
                                           abs=1e-9)
    # Averaging the trees is not averaging their variances: the two differ.
    per_tree = np.mean([TreeDecomposition(b).main_variance(0) for b in boxes])
    assert not np.isclose(per_tree, main[0], rtol=1e-3)
