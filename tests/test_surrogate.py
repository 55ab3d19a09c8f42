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
