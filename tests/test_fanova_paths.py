"""Every route through the engine against the brute force of ``test_fanova_exact``.

The forest reader (compiled walk, NumPy batches, several batches), the edge index it
yields, the one-pass decomposition with its curves and pair grids on one or several
threads: each must agree with the brute-force evaluation, and the routes with one
another bit for bit.
"""

from __future__ import annotations

from itertools import combinations
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor
from test_fanova_exact import BruteForce, small_forest

import odyssey_analysis.fanova as engine
from odyssey_analysis import _kernels
from odyssey_analysis.fanova import (
    EdgeIndex,
    LeafBoxes,
    TreeDecomposition,
    decompose_trees,
    forest_leaf_boxes,
    leaf_boxes,
)

needs_numba = pytest.mark.skipif(not _kernels.COMPILED, reason="numba is not installed")


def discrete_forest(seed: int, d: int = 3, trees: int = 5):
    """Ties and a constant column: levels on a grid, one dimension never split on."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(150, d))
    x[:, 0] = np.round(x[:, 0] * 4) / 4
    x[:, 1] = 0.5
    y = np.sin(4 * x[:, 0]) + x[:, -1] + rng.normal(0, 0.1, 150)
    return RandomForestRegressor(trees, random_state=seed, min_samples_leaf=2).fit(x, y)


def same_boxes(a: LeafBoxes, b: LeafBoxes) -> None:
    for u, v in ((a.lower, b.lower), (a.upper, b.upper), (a.value, b.value)):
        assert u.tobytes() == v.tobytes()
    for j in range(a.dim):
        ia, ib = a.edge_index, b.edge_index
        assert ia.edges[j].tobytes() == ib.edges[j].tobytes()
        np.testing.assert_array_equal(ia.lo[j], ib.lo[j])
        np.testing.assert_array_equal(ia.hi[j], ib.hi[j])


def numpy_reader(monkeypatch) -> None:
    monkeypatch.setattr(_kernels, "compiled", lambda: None)


@pytest.mark.parametrize("make", [lambda: small_forest(1, 4, n=300, trees=4, depth=None),
                                  lambda: discrete_forest(2)])
def test_leaf_centres_fall_in_their_own_leaf(make):
    forest = make()
    d = forest.n_features_in_
    for est, boxes in zip(forest.estimators_, forest_leaf_boxes(
            [e.tree_ for e in forest.estimators_], d)):
        centre = 0.5 * (boxes.lower + boxes.upper)
        leaves = np.flatnonzero(est.tree_.children_left == -1)
        np.testing.assert_array_equal(est.apply(centre), leaves)
        np.testing.assert_array_equal(boxes.value, est.predict(centre))


@needs_numba
@pytest.mark.parametrize("seed", range(4))
def test_compiled_numpy_batched_and_generic_readers_agree(seed, monkeypatch):
    forest = small_forest(seed, 3, n=400, trees=6, depth=None) if seed % 2 else \
        discrete_forest(seed)
    d = forest.n_features_in_
    trees = [e.tree_ for e in forest.estimators_]
    cut = (-0.5, 0.8) if seed == 3 else None
    compiled = forest_leaf_boxes(trees, d, cut)
    numpy_reader(monkeypatch)
    batched = forest_leaf_boxes(trees, d, cut)
    monkeypatch.setattr(engine, "BATCH_NODES", 50)  # one tree per batch
    small_batches = forest_leaf_boxes(trees, d, cut)
    for a, b, c in zip(compiled, batched, small_batches):
        same_boxes(a, b)
        same_boxes(a, c)
        same_boxes(a, LeafBoxes(a.lower, a.upper, a.value))  # index from the bounds


@needs_numba
def test_trees_with_children_numbered_before_parents_take_the_batch_reader():
    forest = small_forest(4, 3, n=200, trees=2, depth=None)
    tree = forest.estimators_[0].tree_
    n = tree.node_count
    perm = np.r_[0, np.arange(1, n)[::-1]]  # the root stays 0; deeper nodes reversed
    new_of = np.empty(n, dtype=np.intp)
    new_of[perm] = np.arange(n)
    remap = lambda child: np.where(child == -1, -1, new_of[child])  # noqa: E731
    flipped = SimpleNamespace(
        node_count=n, children_left=remap(tree.children_left[perm]),
        children_right=remap(tree.children_right[perm]), feature=tree.feature[perm],
        threshold=tree.threshold[perm], value=tree.value[perm])
    a, b = leaf_boxes(tree, 3), leaf_boxes(flipped, 3)
    order = np.argsort(perm[np.flatnonzero(flipped.children_left == -1)])
    np.testing.assert_array_equal(a.lower, b.lower[order])
    np.testing.assert_array_equal(a.upper, b.upper[order])
    np.testing.assert_array_equal(a.value, b.value[order])


def test_edge_index_of_bounds_matches_the_tree_edges():
    forest = small_forest(6, 3)
    est = forest.estimators_[0]
    boxes = leaf_boxes(est.tree_, 3)
    index = EdgeIndex.of(boxes.lower, boxes.upper)
    brute = BruteForce(est, 3)
    for j in range(3):
        np.testing.assert_array_equal(index.edges[j], brute.edges[j])
        np.testing.assert_array_equal(index.edges[j][index.lo[j]], boxes.lower[:, j])
        np.testing.assert_array_equal(index.edges[j][index.hi[j]], boxes.upper[:, j])


@pytest.mark.parametrize("compiled", [False, pytest.param(True, marks=needs_numba)])
@pytest.mark.parametrize("seed,d", [(0, 1), (1, 2), (2, 3), (3, 4)])
def test_decompose_trees_matches_brute_force_with_curves_and_pair_grids(seed, d, compiled,
                                                                         monkeypatch):
    if not compiled:
        numpy_reader(monkeypatch)
    forest = small_forest(seed, d, trees=3)
    trees = forest_leaf_boxes([e.tree_ for e in forest.estimators_], d)
    rng = np.random.default_rng(seed)
    grids = {j: np.sort(np.r_[0.0, rng.uniform(size=9), 1.0]) for j in range(d)}
    pair_grids = {j: np.sort(rng.uniform(size=4 + j)) for j in range(d)}
    parts = decompose_trees(trees, grids=grids, pair_grids=pair_grids)
    for i, est in enumerate(forest.estimators_):
        brute = BruteForce(est, d)
        assert parts.mean[i] == pytest.approx(brute.mean, abs=1e-9)
        assert parts.variance[i] == pytest.approx(brute.variance, abs=1e-9)
        for j in range(d):
            assert parts.main[i, j] == pytest.approx(brute.closed_variance((j,)), abs=1e-9)
            np.testing.assert_allclose(parts.curves[j][i], brute.marginal_at(j, grids[j]),
                                       atol=1e-9)
        for j, k in combinations(range(d), 2):
            assert parts.pair[i, j, k] == pytest.approx(
                max(brute.pure_pair_variance(j, k), 0.0), abs=1e-9)
            assert parts.pair[i, k, j] == parts.pair[i, j, k]
            pc = parts.pair_curves[(j, k)]
            joint = brute.pair_at(j, k, pair_grids[j], pair_grids[k])
            np.testing.assert_allclose(pc.joint[i], joint, atol=1e-9)
            inter = (joint - brute.marginal_at(j, pair_grids[j])[:, None]
                     - brute.marginal_at(k, pair_grids[k])[None, :] + brute.mean)
            np.testing.assert_allclose(pc.interaction[i], inter, atol=1e-9)


def test_threads_give_the_same_bits():
    forest = small_forest(9, 4, n=300, trees=8, depth=None)
    trees = forest_leaf_boxes([e.tree_ for e in forest.estimators_], 4)
    grids = {j: np.linspace(0, 1, 11) for j in range(4)}
    one = decompose_trees(trees, grids=grids, pair_grids=grids, n_threads=1)
    three = decompose_trees(trees, grids=grids, pair_grids=grids, n_threads=3)
    for name in ("mean", "variance", "main", "pair"):
        assert getattr(one, name).tobytes() == getattr(three, name).tobytes()
    for j in grids:
        assert one.curves[j].tobytes() == three.curves[j].tobytes()
    for jk, pc in one.pair_curves.items():
        assert pc.joint.tobytes() == three.pair_curves[jk].joint.tobytes()


def test_decomposition_equals_one_tree_at_a_time():
    forest = small_forest(10, 3, n=250, trees=4, depth=None)
    trees = forest_leaf_boxes([e.tree_ for e in forest.estimators_], 3)
    parts = decompose_trees(trees)
    for i, boxes in enumerate(trees):
        dec = TreeDecomposition(boxes)
        assert (parts.mean[i], parts.variance[i]) == (dec.mean, dec.variance)
        for j in range(3):
            assert parts.main[i, j] == dec.main_variance(j)
        for j, k in combinations(range(3), 2):
            assert parts.pair[i, j, k] == dec.pair_variance(j, k)[0]


def test_kept_trees_drop_their_index_and_clipping_keeps_it():
    boxes = leaf_boxes(small_forest(2, 2).estimators_[0].tree_, 2)
    assert boxes.index is not None
    assert boxes.clipped((0.0, 0.5)).index is boxes.index
    bare = boxes.without_index()
    assert bare.index is None and bare.value is boxes.value
    same_boxes(boxes, bare)


@pytest.mark.parametrize("batch", [1, 200, 1 << 20])
def test_batches_of_any_size_give_the_same_bits(batch, monkeypatch):
    forest = small_forest(12, 3, n=200, trees=5, depth=None)
    trees = forest_leaf_boxes([e.tree_ for e in forest.estimators_], 3)
    grids = {j: np.linspace(0, 1, 7) for j in range(3)}
    reference = decompose_trees(trees, grids=grids, pair_grids=grids)
    monkeypatch.setattr(engine, "BATCH_LEAVES", batch)
    parts = decompose_trees(trees, grids=grids, pair_grids=grids)
    for name in ("mean", "variance", "main", "pair"):
        assert getattr(parts, name).tobytes() == getattr(reference, name).tobytes()
    for j in grids:
        assert parts.curves[j].tobytes() == reference.curves[j].tobytes()
