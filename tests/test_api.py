"""One way to configure a fit: the method holds every setting, the old keywords still work."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from odyssey_analysis import (
    FanovaMethod,
    ForestSettings,
    RandomForestSurrogate,
    SearchSpace,
    TrialTable,
    analyze,
    fit_and_decompose,
)
from odyssey_analysis.methods import LocalFanovaMethod, method_from_options
from odyssey_analysis.space import Hyperparameter


def small_table(n: int = 60, seed: int = 0) -> TrialTable:
    rng = np.random.default_rng(seed)
    a, b, c = rng.uniform(0, 1, (3, n))
    frame = pd.DataFrame({"a": a, "b": b, "c": c,
                          "y": np.sin(4 * a) + 0.5 * b * c + rng.normal(0, 0.05, n)})
    space = SearchSpace(tuple(Hyperparameter(k, "float", 0.0, 1.0) for k in "abc"))
    return TrialTable.from_frame(frame, responses=["y"], space=space, group_by=[])


def only(study):
    return next(iter(study))


def same_fit(one, two) -> None:
    """Bit-identical forests (their settings and every tree's moments) and intervals."""
    assert one.fit["forest"] == two.fit["forest"]
    np.testing.assert_array_equal(one.tree_mean, two.tree_mean)
    np.testing.assert_array_equal(one.tree_variance, two.tree_variance)
    np.testing.assert_array_equal(one.main_variance, two.main_variance)
    assert one.oob_r2 == two.oob_r2 or (np.isnan(one.oob_r2) and np.isnan(two.oob_r2))
    a, b = one.intervals, two.intervals
    assert (a is None) == (b is None)
    if a is not None:
        np.testing.assert_array_equal(a.main_lower, b.main_lower)
        np.testing.assert_array_equal(a.main_upper, b.main_upper)


def test_the_bootstrap_leaf_rule_lives_in_the_method_whatever_the_way_in():
    table = small_table()
    settings = ForestSettings(n_trees=8, seed=3)
    method = FanovaMethod(RandomForestSurrogate(settings), n_bootstrap=10, curves=False)
    assert method.surrogate.settings.min_samples_leaf == 2
    assert FanovaMethod(RandomForestSurrogate(settings)).surrogate.settings.min_samples_leaf == 1
    by_object = only(analyze(table, method, n_jobs=1))
    with pytest.warns(FutureWarning, match="n_trees, seed, n_bootstrap, curves"):
        by_keywords = only(analyze(table, n_trees=8, seed=3, n_bootstrap=10, curves=False,
                                   n_jobs=1))
    x = table.resolve_space().encode(table.frame)
    y = table.frame["y"].to_numpy(dtype=float)
    shortcut = fit_and_decompose(x, y, table.resolve_space(), response="y", settings=settings,
                                 n_bootstrap=10, curves=False, rows_excluded={})
    assert by_object.fit["forest"]["min_samples_leaf"] == 2
    assert by_object.intervals is not None
    same_fit(by_object, by_keywords)
    same_fit(by_object, shortcut)


def test_a_leaf_size_given_is_kept_with_a_bootstrap():
    method = FanovaMethod(RandomForestSurrogate(ForestSettings(min_samples_leaf=1)),
                          n_bootstrap=10)
    assert method.surrogate.settings.min_samples_leaf == 1
    free = FanovaMethod(RandomForestSurrogate(ForestSettings(n_trees=4)), n_bootstrap=10)
    assert FanovaMethod(n_bootstrap=10) != FanovaMethod()
    assert free.surrogate.settings == ForestSettings(n_trees=4, min_samples_leaf=2)


def test_a_method_object_runs_without_a_warning_and_a_name_is_the_default_method():
    table = small_table()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        one = only(analyze(table, FanovaMethod(curves=False), n_jobs=1))
        two = only(analyze(table, "fanova", n_jobs=1))
    same_fit(one, two)


def test_method_from_options_sorts_forest_and_method_settings():
    method = method_from_options(n_trees=5, max_depth=3, pairs=False, top_quantile=None)
    assert type(method) is FanovaMethod
    assert method.surrogate.settings == ForestSettings(n_trees=5, max_depth=3,
                                                       min_samples_leaf=1)
    assert method.pairs is False
    local = method_from_options(top_quantile=0.3, n_trees=4)
    assert type(local) is LocalFanovaMethod and local.top_quantile == 0.3
    assert method_from_options() == FanovaMethod()


def test_mixing_a_method_object_with_flat_settings_is_refused():
    with pytest.raises(TypeError, match="go into the object"):
        analyze(small_table(), FanovaMethod(), n_trees=4)


def test_an_unknown_keyword_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="'n_tree'"):
        analyze(small_table(), n_tree=4)


def test_an_option_of_another_method_names_its_owner():
    from odyssey_analysis.errors import InputError

    with pytest.raises(InputError, match="top_quantile belongs to the local method"):
        method_from_options("fanova", top_quantile=0.2)


def test_the_space_given_second_still_works_with_a_warning():
    table = small_table()
    space = table.resolve_space()
    with pytest.warns(FutureWarning, match="space=space"):
        old = only(analyze(table, space, n_jobs=1))
    same_fit(old, only(analyze(table, space=space, n_jobs=1)))


def test_keep_forest_is_the_older_name_of_keep_trees():
    table = small_table()
    with pytest.warns(FutureWarning, match="keep_forest"):
        fit = only(analyze(table, n_trees=2, keep_forest=True, curves=False, n_jobs=1))
    assert fit.trees is not None and len(fit.trees) == 2
