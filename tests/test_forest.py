"""The compiled forest against known answers: a brute-force CART, scikit-learn's trees,
exhaustive subset search, the exact ANOVA of a full grid of cells, and itself under
other thread counts."""

from __future__ import annotations

from itertools import combinations, product

import numpy as np
import pytest

pytest.importorskip("numba")

from odyssey_analysis.fanova import TreeDecomposition, forest_mean_effects  # noqa: E402
from odyssey_analysis.forest import (  # noqa: E402
    Cells,
    CompiledForestSurrogate,
    cells_of,
    features_per_split,
    fit_forests,
)
from odyssey_analysis.space import Hyperparameter, SearchSpace  # noqa: E402
from odyssey_analysis.surrogate import (  # noqa: E402
    ForestSettings,
    RandomForestSurrogate,
    Surrogate,
    make_surrogate,
)


def one_tree(**kw) -> ForestSettings:
    return ForestSettings(n_trees=1, bootstrap=False, **kw)


def box_of(boxes, points):
    """The box each point falls in (each point must be in exactly one)."""
    inside = np.all((points[:, None, :] >= boxes.lower[None])
                    & (points[:, None, :] < boxes.upper[None]), axis=2)
    assert np.all(inside.sum(axis=1) == 1), "the boxes must partition the cube"
    return np.argmax(inside, axis=1)


def predict(fitted, points):
    """The forest's mean at ``points`` read from its boxes."""
    total = np.zeros(len(points))
    for boxes in fitted.trees:
        total += boxes.value[box_of(boxes, points)]
    return total / len(fitted.trees)


def partition(labels, values):
    """The rows grouped by leaf, each group with its leaf's value.

    Where several splits tie (two rows that any of several dimensions separate), trees
    may choose different dimensions; the groups of training rows are the same.
    """
    return sorted((tuple(np.flatnonzero(labels == k)), round(float(values[k]), 12))
                  for k in np.unique(labels))


# -- a brute-force CART ------------------------------------------------------------------
def brute_tree(x, y, min_leaf=1, max_depth=None, depth=0):
    """Exhaustive CART on continuous inputs: every split scored by its summed squared
    error computed from scratch. Returns a nested (feature, threshold, left, right) or
    a leaf value."""
    if (len(y) < 2 or len(y) < 2 * min_leaf or (max_depth is not None and depth >= max_depth)
            or np.var(y) <= np.finfo(float).eps):
        return float(np.mean(y))
    best = None
    for j in range(x.shape[1]):
        values = np.unique(x[:, j])
        for a, b in zip(values[:-1], values[1:]):
            if b <= a + 1e-7:
                continue
            t = a / 2 + b / 2
            go = x[:, j] <= t
            if go.sum() < min_leaf or (~go).sum() < min_leaf:
                continue
            sse = ((y[go] - y[go].mean()) ** 2).sum() + ((y[~go] - y[~go].mean()) ** 2).sum()
            if best is None or sse < best[0] - 1e-12:
                best = (sse, j, t, go)
    if best is None:
        return float(np.mean(y))
    _, j, t, go = best
    return (j, t, brute_tree(x[go], y[go], min_leaf, max_depth, depth + 1),
            brute_tree(x[~go], y[~go], min_leaf, max_depth, depth + 1))


def brute_leaves(tree, points):
    """Each point's leaf (as the path taken) and its value."""
    paths, values = [], []
    for p in points:
        node, path = tree, ""
        while isinstance(node, tuple):
            j, t, left, right = node
            node, path = (left, path + "l") if p[j] <= t else (right, path + "r")
        paths.append(path)
        values.append(node)
    names = {name: i for i, name in enumerate(sorted(set(paths)))}
    labels = np.array([names[q] for q in paths])
    leaf_values = np.zeros(len(names))
    leaf_values[labels] = values
    return labels, leaf_values


def count_leaves(tree) -> int:
    return count_leaves(tree[2]) + count_leaves(tree[3]) if isinstance(tree, tuple) else 1


@pytest.mark.parametrize("min_leaf,max_depth", [(1, None), (3, None), (1, 3)])
def test_one_tree_is_the_brute_force_cart(min_leaf, max_depth):
    rng = np.random.default_rng(min_leaf + 10 * (max_depth or 0))
    x = rng.random((60, 3))
    y = np.sin(5 * x[:, 0]) + x[:, 1] * x[:, 2] + 0.05 * rng.standard_normal(60)
    settings = one_tree(min_samples_leaf=min_leaf, max_depth=max_depth)
    fitted = CompiledForestSurrogate(settings).fit(x, y)
    reference = brute_tree(x, y, min_leaf, max_depth)
    boxes = fitted.trees[0]
    assert boxes.n_leaves == count_leaves(reference)
    assert partition(box_of(boxes, x), boxes.value) == partition(*brute_leaves(reference, x))


def test_one_dimension_matches_scikit_learn_split_for_split():
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(3)
    x = rng.integers(0, 1024, (300, 1)) / 1024.0  # exact in float32, with ties
    y = np.cos(7 * x[:, 0]) + 0.2 * rng.standard_normal(300)
    points = (np.arange(1025) / 1024.0)[:, None]
    for leaf in (1, 4):
        ours = CompiledForestSurrogate(one_tree(min_samples_leaf=leaf)).fit(
            x, y, evaluate_at=points)
        theirs = DecisionTreeRegressor(min_samples_leaf=leaf, random_state=0).fit(x, y)
        assert ours.trees[0].n_leaves == theirs.get_n_leaves()
        np.testing.assert_allclose(ours.evaluated, theirs.predict(points), atol=1e-12)


def test_several_dimensions_match_scikit_learns_tree_on_all_features():
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(4)
    x = rng.integers(0, 4096, (200, 4)) / 4096.0
    y = x[:, 0] * 3 + np.sin(6 * x[:, 1]) + x[:, 2] * x[:, 3] + 0.1 * rng.standard_normal(200)
    ours = CompiledForestSurrogate(one_tree(min_samples_leaf=2)).fit(x, y).trees[0]
    theirs = DecisionTreeRegressor(min_samples_leaf=2, random_state=0).fit(x, y)
    assert ours.n_leaves == theirs.get_n_leaves()
    leaf = theirs.apply(x)
    values = np.zeros(leaf.max() + 1)
    values[leaf] = theirs.predict(x)
    assert partition(box_of(ours, x), ours.value) == partition(leaf, values)


def test_out_of_bag_r2_agrees_with_scikit_learns_forest():
    rng = np.random.default_rng(5)
    x = rng.random((500, 5))
    y = (10 * np.sin(np.pi * x[:, 0] * x[:, 1]) + 20 * (x[:, 2] - 0.5) ** 2 + 10 * x[:, 3]
         + 5 * x[:, 4] + rng.standard_normal(500))
    ours = CompiledForestSurrogate().fit(x, y)
    theirs = RandomForestSurrogate().fit(x, y)
    assert 0.5 < ours.oob_r2 < 1
    assert ours.oob_r2 == pytest.approx(theirs.oob_r2, abs=0.02)
    # The trees are alike in size (the same settings, other bootstrap draws).
    ours_leaves = np.mean([t.n_leaves for t in ours.trees])
    theirs_leaves = np.mean([t.n_leaves for t in theirs.trees])
    assert ours_leaves == pytest.approx(theirs_leaves, rel=0.05)


def test_out_of_bag_r2_is_nan_without_a_bootstrap():
    rng = np.random.default_rng(6)
    x = rng.random((50, 2))
    fitted = CompiledForestSurrogate(ForestSettings(n_trees=4, bootstrap=False)).fit(
        x, x[:, 0])
    assert np.isnan(fitted.oob_r2)


# -- levels ---------------------------------------------------------------------------------
def level_centres(edges):
    return 0.5 * (edges[:-1] + edges[1:])


def test_good_levels_zero_and_two_of_three_take_one_split():
    edges = np.array([0, 1 / 3, 2 / 3, 1])
    rng = np.random.default_rng(7)
    level = rng.integers(0, 3, 90)
    x = np.column_stack([level_centres(edges)[level], rng.random(90)])
    y = np.where(level == 1, 0.0, 1.0)
    cells = (Cells(edges, ordered=False), None)
    fitted = CompiledForestSurrogate(one_tree(max_depth=1), cells, level_sets=True).fit(x, y)
    boxes = fitted.trees[0]
    # One split: the leaf of levels {0, 2} is two boxes (two runs of cells).
    assert sorted(np.round(boxes.value, 12)) == [0.0, 1.0, 1.0]
    good = boxes.value == 1.0
    np.testing.assert_allclose(np.sort(boxes.lower[good, 0]), [0, 2 / 3])
    np.testing.assert_allclose(np.sort(boxes.upper[good, 0]), [1 / 3, 1])
    assert TreeDecomposition(boxes).variance == pytest.approx(2 / 9, abs=1e-12)
    # Split as ordered cells, one split cannot separate level 1 from both others.
    for split_as_cells in (CompiledForestSurrogate(one_tree(max_depth=1), cells),
                           CompiledForestSurrogate(one_tree(max_depth=1),
                                                   (Cells(edges, ordered=True), None),
                                                   level_sets=True)):
        tree = split_as_cells.fit(x, y).trees[0]
        assert tree.n_leaves == 2
        assert TreeDecomposition(tree).variance < 2 / 9 - 0.01


def test_the_best_subset_split_is_the_best_of_all_subsets():
    rng = np.random.default_rng(8)
    k = 6
    edges = np.linspace(0, 1, k + 1)
    level = rng.integers(0, k, 120)
    effect = rng.standard_normal(k)
    y = effect[level] + 0.3 * rng.standard_normal(120)
    x = level_centres(edges)[level][:, None]
    fitted = CompiledForestSurrogate(one_tree(max_depth=1), (Cells(edges, False),),
                                     level_sets=True).fit(x, y)
    boxes = fitted.trees[0]
    left_value = boxes.value[0]
    ours = sum(((y[np.isclose(predict(fitted, x), v)] - v) ** 2).sum()
               for v in np.unique(boxes.value))
    best = min(((y[np.isin(level, s)] - y[np.isin(level, s)].mean()) ** 2).sum()
               + ((y[~np.isin(level, s)] - y[~np.isin(level, s)].mean()) ** 2).sum()
               for r in range(1, k) for s in combinations(range(k), r))
    assert ours == pytest.approx(best, rel=1e-12)
    assert left_value in boxes.value


def test_a_split_between_observed_levels_falls_on_a_cell_boundary():
    edges = np.linspace(0, 1, 6)  # five ordered levels; 1 and 3 never observed
    rng = np.random.default_rng(9)
    level = rng.choice([0, 2, 4], 60)
    x = level_centres(edges)[level][:, None]
    y = level.astype(float)
    fitted = CompiledForestSurrogate(one_tree(), (Cells(edges, ordered=True),)).fit(x, y)
    bounds = np.unique(np.concatenate([fitted.trees[0].lower, fitted.trees[0].upper]))
    assert np.all(np.isclose(bounds[:, None], edges[None]).any(axis=1)), bounds
    # scikit-learn's tree puts its thresholds at the missing levels' centres.
    theirs = RandomForestSurrogate(one_tree()).fit(x, y).trees[0]
    cuts = np.unique(theirs.upper[theirs.upper < 1])
    np.testing.assert_allclose(cuts, level_centres(edges)[[1, 3]])


def grid_space():
    return SearchSpace((
        Hyperparameter("opt", "categorical", choices=("a", "b", "c", "d")),
        Hyperparameter("layers", "ordinal", choices=(1, 2, 3, 4, 5),
                       weights=(1, 2, 1, 3, 1)),
        Hyperparameter("units", "int", lower=1, upper=6),
    ))


@pytest.mark.parametrize("surrogate", ["compiled", "sets", "sklearn"])
def test_box_main_variances_are_the_exact_anova_of_the_full_grid(surrogate):
    space = grid_space()
    cells = cells_of(space)
    rng = np.random.default_rng(10)
    # Levels b of opt, 2 and 4 of layers, 3 and 4 of units are never observed.
    opt = rng.choice([0, 2, 3], 150)
    layers = rng.choice([0, 2, 4], 150)
    units = rng.choice([0, 1, 4, 5], 150)
    idx = np.column_stack([opt, layers, units])
    x = np.column_stack([level_centres(c.edges)[idx[:, j]] for j, c in enumerate(cells)])
    y = (np.array([0, 1, 3, 0.5])[opt] + np.array([0, 1, 2, 3, 4])[layers] * 0.3
         + units * (opt == 2) + 0.2 * rng.standard_normal(150))
    grid = np.array(list(product(*[level_centres(c.edges) for c in cells])))
    weights = np.prod(np.array(list(product(*[np.diff(c.edges) for c in cells]))), axis=1)
    if surrogate == "sets":
        model = CompiledForestSurrogate(ForestSettings(n_trees=8), cells, level_sets=True)
    else:
        model = make_surrogate(surrogate, ForestSettings(n_trees=8)).with_levels(cells)
    fitted = model.fit(x, y, evaluate_at=grid)
    f = fitted.evaluated.reshape([c.n_levels for c in cells])
    w = weights.reshape(f.shape)
    mean = (w * f).sum()
    exact = []
    for j in range(3):
        others = tuple(k for k in range(3) if k != j)
        wj = w.sum(axis=others)
        marginal = (w * f).sum(axis=others) / wj
        exact.append((wj * (marginal - mean) ** 2).sum())
    boxes, _ = forest_mean_effects(fitted.trees, pairs=False)
    if surrogate != "sklearn":
        np.testing.assert_allclose(boxes, exact, rtol=1e-9, atol=1e-12)
    else:  # its splits cut missing levels' cells in two
        assert np.max(np.abs(boxes - exact) / np.array(exact)) > 1e-3


def test_many_ordered_cells_split_as_the_brute_force_cart():
    # An integer of 400 values, most of them unobserved, beside a range: the rows each
    # leaf holds are the exhaustive CART's, splits falling on cell boundaries.
    edges = np.linspace(0, 1, 401)
    rng = np.random.default_rng(21)
    level = rng.choice(rng.choice(400, 45, replace=False), 80)
    x = np.column_stack([level_centres(edges)[level], rng.random(80)])
    y = np.sin(9 * x[:, 0]) + x[:, 1] + 0.05 * rng.standard_normal(80)
    for min_leaf in (1, 3):
        fitted = CompiledForestSurrogate(one_tree(min_samples_leaf=min_leaf),
                                         (Cells(edges, ordered=True), None)).fit(x, y)
        boxes = fitted.trees[0]
        reference = brute_tree(x, y, min_leaf)
        assert boxes.n_leaves == count_leaves(reference)
        assert partition(box_of(boxes, x), boxes.value) == partition(
            *brute_leaves(reference, x))
        on_edges = np.isin(np.round(boxes.upper[:, 0] * 400, 9), np.arange(401))
        assert on_edges.all()


@pytest.mark.parametrize("level_sets", [False, True])
def test_predictions_at_points_are_the_mean_of_the_boxes_holding_them(level_sets):
    # Five dimensions (a range, an integer's 300 cells, unordered levels, two ranges);
    # deep trees; with level_sets, trees with set splits are walked point by point.
    rng = np.random.default_rng(22)
    int_edges, cat_edges = np.linspace(0, 1, 301), np.linspace(0, 1, 6)
    n = 250
    x = rng.random((n, 5))
    x[:, 1] = level_centres(int_edges)[rng.integers(0, 300, n)]
    x[:, 2] = level_centres(cat_edges)[rng.integers(0, 5, n)]
    y = (np.sin(6 * x[:, 0]) + x[:, 1] ** 2 + np.array([0, 2, -1, 1, 0.5])[
        (x[:, 2] * 5).astype(int)] + x[:, 3] * x[:, 4] + 0.1 * rng.standard_normal(n))
    cells = (None, Cells(int_edges, ordered=True), Cells(cat_edges, ordered=False), None,
             None)
    points = rng.random((700, 5))
    model = CompiledForestSurrogate(ForestSettings(n_trees=12, seed=3), cells,
                                    level_sets=level_sets)
    fitted = model.fit(x, y, evaluate_at=points, clip=(-0.5, 2.5))
    expected = np.zeros(len(points))
    for boxes in fitted.trees:
        expected += np.clip(boxes.value, -0.5, 2.5)[box_of(boxes, points)]
    np.testing.assert_allclose(fitted.evaluated, expected / len(fitted.trees), rtol=1e-13,
                               atol=1e-13)
    assert max(t.n_leaves for t in fitted.trees) > 64  # deep enough to take many steps


def test_integers_become_ordered_cells_and_constants_none():
    space = SearchSpace((
        Hyperparameter("lr", "float", lower=1e-4, upper=1, scale="log"),
        Hyperparameter("batch", "int", lower=16, upper=256, scale="log"),
        Hyperparameter("fixed", "constant", choices=(3,)),
        Hyperparameter("act", "categorical", choices=("relu", "tanh")),
    ))
    lr, batch, fixed, act = cells_of(space)
    assert lr is None and fixed is None
    assert batch.ordered and batch.n_levels == 241
    # Each whole number's cell holds its encoding.
    values = np.arange(16, 257)
    u = space["batch"].encode(values)
    assert np.all((batch.edges[:-1] < u) & (u < batch.edges[1:]))
    assert not act.ordered and act.n_levels == 2


# -- determinism, batches, the protocol ---------------------------------------------------
def test_the_same_seed_gives_the_same_forest_for_any_thread_count():
    rng = np.random.default_rng(11)
    x = rng.random((300, 4))
    x[:, 3] = level_centres(np.linspace(0, 1, 5))[rng.integers(0, 4, 300)]
    y = x[:, 0] + np.where(x[:, 3] > 0.5, 1, 0) + 0.1 * rng.standard_normal(300)
    cells = (None, None, None, Cells(np.linspace(0, 1, 5), ordered=False))
    settings = ForestSettings(n_trees=16, max_features=0.5, seed=42)
    points = rng.random((100, 4))
    one = CompiledForestSurrogate(settings, cells, n_jobs=1, level_sets=True).fit(
        x, y, evaluate_at=points, clip=(0.2, 1.5))
    two = CompiledForestSurrogate(settings, cells, n_jobs=2, level_sets=True).fit(
        x, y, evaluate_at=points, clip=(0.2, 1.5))
    assert one.oob_r2 == two.oob_r2
    assert one.evaluated.tobytes() == two.evaluated.tobytes()
    for a, b in zip(one.trees, two.trees):
        assert a.lower.tobytes() == b.lower.tobytes()
        assert a.value.tobytes() == b.value.tobytes()
    other = CompiledForestSurrogate(settings.__class__(n_trees=16, max_features=0.5, seed=43),
                                    cells).fit(x, y, evaluate_at=points, clip=(0.2, 1.5))
    assert other.evaluated.tobytes() != one.evaluated.tobytes()


def test_many_forests_in_one_call_are_the_forests_fitted_one_by_one(monkeypatch):
    import odyssey_analysis.forest as forest

    rng = np.random.default_rng(12)
    problems = [(rng.random((n, 3)), rng.standard_normal(n)) for n in (40, 25, 60, 33)]
    seeds = [5, 6, 7, 8]
    points = rng.random((50, 3))
    surrogate = CompiledForestSurrogate(ForestSettings(n_trees=5))
    monkeypatch.setattr(forest, "BATCH_BYTES", 30_000)  # several batches of trees
    many = surrogate.fit_many(problems, seeds, n_trees=7, evaluate_at=points, clip=(-1, 1))
    for (x, y), seed, got in zip(problems, seeds, many):
        alone = surrogate.replicate(n_trees=7, seed=seed).fit(x, y, evaluate_at=points,
                                                               clip=(-1, 1))
        assert len(got.trees) == 7
        assert got.evaluated.tobytes() == alone.evaluated.tobytes()
        assert got.oob_r2 == alone.oob_r2 or (np.isnan(got.oob_r2) and np.isnan(alone.oob_r2))
        for a, b in zip(got.trees, alone.trees):
            assert a.upper.tobytes() == b.upper.tobytes()
    assert fit_forests([], [], ForestSettings()) == []


def test_the_forest_follows_the_surrogate_protocol():
    surrogate = make_surrogate("compiled", ForestSettings(n_trees=4, seed=3))
    assert isinstance(surrogate, Surrogate)
    told = CompiledForestSurrogate(level_sets=True).with_levels(
        (None, Cells(np.linspace(0, 1, 3), False)))
    again = told.replicate(n_trees=2, seed=9)
    assert again.cells == told.cells and again.settings.n_trees == 2 and again.level_sets
    assert again.settings.seed == 9
    rng = np.random.default_rng(13)
    x = rng.random((30, 2))
    fitted = again.fit(x, x[:, 0])
    assert fitted.settings["surrogate"] == "compiled" and fitted.evaluated is None
    assert fitted.settings["level_sets"] is True
    assert surrogate.fit(x, x[:, 0]).settings["level_sets"] is False
    assert len(fitted.trees) == 2 and fitted.trees[0].dim == 2
    assert make_surrogate("sklearn").with_levels(told.cells).fit(
        x, x[:, 0]).settings["surrogate"] == "sklearn"


@pytest.mark.parametrize("max_features,d,expected", [
    (1.0, 9, 9), (0.5, 9, 4), (0.01, 9, 1), (3, 9, 3), (20, 9, 9), ("sqrt", 9, 3),
    ("log2", 9, 3)])
def test_features_per_split_as_scikit_learn_counts_them(max_features, d, expected):
    assert features_per_split(max_features, d) == expected


def test_both_forests_give_the_same_importance_on_the_same_data():
    from odyssey_analysis import FanovaMethod

    space = SearchSpace((
        Hyperparameter("a", "float", lower=0, upper=1),
        Hyperparameter("b", "float", lower=0, upper=1),
        Hyperparameter("c", "categorical", choices=("x", "y", "z")),
    ))
    rng = np.random.default_rng(14)
    n = 800
    x = np.column_stack([rng.random(n), rng.random(n),
                         level_centres(np.linspace(0, 1, 4))[rng.integers(0, 3, n)]])
    y = 4 * x[:, 0] + np.sin(6 * x[:, 1]) + 2 * (x[:, 2] > 0.6) + 0.3 * rng.standard_normal(n)
    shares = {}
    for name in ("compiled", "sklearn"):
        method = FanovaMethod(make_surrogate(name), pairs=False, curves=False)
        shares[name] = method.fit(x, y, space).estimate.main
    np.testing.assert_allclose(shares["compiled"], shares["sklearn"], atol=0.02)


@pytest.mark.parametrize("choice", [None, "compiled", "sklearn"])
def test_the_command_line_records_the_forest_it_used(tmp_path, choice):
    import json

    import pandas as pd
    from click.testing import CliRunner

    from odyssey_analysis.cli import main

    rng = np.random.default_rng(15)
    frame = pd.DataFrame({"lr": 10 ** rng.uniform(-5, -1, 40),
                          "opt": rng.choice(["adam", "sgd", "rms"], 40)})
    frame["loss"] = np.log10(frame["lr"]) ** 2 + (frame["opt"] == "sgd") + rng.random(40)
    csv = tmp_path / "sweep.csv"
    frame.to_csv(csv, index=False)
    out = tmp_path / "out"
    extra = [] if choice is None else ["--surrogate", choice]
    result = CliRunner().invoke(main, ["analyze", str(csv), "--response", "loss", "--out",
                                       str(out), "--trees", "4", "--jobs", "1", *extra])
    assert result.exit_code == 0, result.output
    details = json.loads((out / "analysis.json").read_text())
    used = choice or "compiled"
    assert details["method"]["surrogate"] == used
    assert details["fits"][0]["fit"]["forest"]["surrogate"] == used
