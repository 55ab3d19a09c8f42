"""The surrogate forest: out-of-bag R² and settings."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor

from odyssey_analysis.surrogate import ForestSettings, fit_forest


def data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, 3))
    return x, np.sin(5 * x[:, 0]) + rng.normal(0, 0.1, n)


def test_oob_r2_matches_scikit_learn_when_every_trial_is_left_out_somewhere():
    x, y = data()
    ours = fit_forest(x, y, ForestSettings(n_trees=64, seed=3))
    ref = RandomForestRegressor(64, oob_score=True, random_state=3, max_features=1.0).fit(x, y)
    assert ours.oob_r2 == pytest.approx(ref.oob_score_, rel=1e-12)


def test_oob_r2_ignores_trials_that_every_tree_saw():
    x, y = data()
    few = fit_forest(x, y, ForestSettings(n_trees=2, seed=0))
    # scikit-learn would count the trials seen by both trees as predicted 0.
    assert 0.5 < few.oob_r2 <= 1.0


def test_no_bootstrap_has_no_oob_r2():
    x, y = data()
    assert np.isnan(fit_forest(x, y, ForestSettings(n_trees=4, bootstrap=False)).oob_r2)


def reference_oob_r2(forest, x, y):
    """Out-of-bag R² the slow way: scikit-learn's bootstrap helper and tree.predict."""
    from sklearn.ensemble._forest import _generate_unsampled_indices

    n = len(y)
    total, count = np.zeros(n), np.zeros(n)
    for tree in forest.estimators_:
        left_out = _generate_unsampled_indices(tree.random_state, n, n, None)
        total[left_out] += tree.predict(x[left_out])
        count[left_out] += 1
    seen = count > 0
    pred = total[seen] / count[seen]
    return float(1.0 - np.mean((y[seen] - pred) ** 2) / np.var(y[seen]))


@pytest.mark.parametrize("n_trees,n", [(5, 40), (32, 300)])
def test_oob_r2_equals_tree_by_tree_predictions_bit_for_bit(n_trees, n):
    x, y = data(n, seed=n_trees)
    fitted = fit_forest(x, y, ForestSettings(n_trees=n_trees, seed=7))
    assert fitted.oob_r2 == reference_oob_r2(fitted.forest, x, y)


def test_oob_r2_falls_back_to_scikit_learns_draw_when_the_redraw_differs(monkeypatch):
    import odyssey_analysis.surrogate as surrogate

    x, y = data(120)
    fitted = fit_forest(x, y, ForestSettings(n_trees=6, seed=1))
    monkeypatch.setattr(surrogate._BootstrapRedraw, "left_out",
                        lambda self, seed: np.arange(3))  # a wrong redraw
    assert surrogate.out_of_bag_r2(fitted.forest, x, y) == reference_oob_r2(
        fitted.forest, x, y)


def test_forest_threads_and_the_study_context_do_not_change_the_trees():
    from odyssey_analysis._threads import fit_threads
    from odyssey_analysis.surrogate import RandomForestSurrogate

    x, y = data(200)
    one = RandomForestSurrogate(ForestSettings(n_trees=8, seed=2), n_jobs=1).fit(x, y)
    with fit_threads(2):
        two = RandomForestSurrogate(ForestSettings(n_trees=8, seed=2)).fit(x, y)
    assert one.oob_r2 == two.oob_r2
    for a, b in zip(one.trees, two.trees):
        assert a.lower.tobytes() == b.lower.tobytes()
        assert a.value.tobytes() == b.value.tobytes()


@pytest.mark.parametrize("n, leaf, features, bagging", [
    (200, 1, 1.0, True), (500, 2, 0.5, True), (150, 1, "sqrt", False)])
def test_the_lean_forest_is_scikit_learns_forest_bit_for_bit(n, leaf, features, bagging):
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.default_rng(n)
    x = rng.random((n, 5))
    y = x[:, 0] + x[:, 1] * x[:, 2] + 0.1 * rng.standard_normal(n)
    settings = ForestSettings(n_trees=24, min_samples_leaf=leaf, max_features=features,
                              bootstrap=bagging, seed=11)
    ours = fit_forest(x, y, settings, n_jobs=2).forest
    reference = RandomForestRegressor(n_estimators=24, min_samples_leaf=leaf,
                                      max_features=features, bootstrap=bagging,
                                      random_state=11).fit(x, y)
    for a, b in zip(ours.estimators_, reference.estimators_, strict=True):
        assert a.random_state == b.random_state
        np.testing.assert_array_equal(a.tree_.threshold, b.tree_.threshold)
        np.testing.assert_array_equal(a.tree_.value, b.tree_.value)
    ours.n_jobs = 1  # scikit-learn's threaded predict sums trees in finishing order
    np.testing.assert_array_equal(ours.predict(x), reference.predict(x))


def test_a_pickled_forest_loads_in_a_fresh_process(tmp_path):
    import pickle
    import subprocess
    import sys

    rng = np.random.default_rng(0)
    x = rng.random((60, 3))
    forest = fit_forest(x, x[:, 0], ForestSettings(n_trees=4)).forest
    path = tmp_path / "forest.pkl"
    path.write_bytes(pickle.dumps(forest))
    code = (f"import pickle; f = pickle.loads(open({str(path)!r}, 'rb').read()); "
            "print(len(f.estimators_))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "4"
