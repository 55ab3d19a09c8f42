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
from odyssey_analysis.surrogate import make_surrogate


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
    method = FanovaMethod(make_surrogate(None, settings), n_bootstrap=10, curves=False)
    assert method.surrogate.settings.min_samples_leaf == 2
    assert FanovaMethod(make_surrogate(None, settings)).surrogate.settings.min_samples_leaf == 1
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


# -- results ---------------------------------------------------------------------------------

def test_the_package_namespace_holds_only_the_public_names():
    import odyssey_analysis

    names = dir(odyssey_analysis)
    assert not {"Any", "TYPE_CHECKING", "importlib", "annotations"} & set(names)
    assert set(odyssey_analysis.__all__) | {"__version__"} == set(names)
    for name in odyssey_analysis.__all__:
        assert getattr(odyssey_analysis, name) is not None


def test_a_public_function_is_not_shadowed_by_its_module():
    """Importing a submodule sets the package attribute of its name: no public function
    may share a submodule's name, or it turns into the module once that is imported."""
    import importlib
    import pkgutil

    import odyssey_analysis

    modules = {m.name for m in pkgutil.iter_modules(odyssey_analysis.__path__)}
    functions = set(odyssey_analysis.__all__) - {"presets", "testing"}
    assert not functions & modules
    importlib.import_module("odyssey_analysis.compare")
    assert callable(odyssey_analysis.compare_variants)


def test_results_are_easy_to_read():
    from odyssey_analysis import FitInfo, Share

    table = small_table()
    study = analyze(table, method_from_options(n_trees=8, grid_points=5, pair_grid_points=4),
                    n_jobs=1)
    fit = only(study)
    for share in (fit.main_fraction(), fit.pair_fraction(), fit.higher_order_fraction(),
                  fit.total_fraction(["a", "b"])):
        assert isinstance(share, Share)
    mean, std = fit.total_fraction(["a"])
    assert mean == pytest.approx(fit.main_fraction().mean["a"])
    assert isinstance(fit.fit, FitInfo) and fit.fit.forest["n_trees"] == 8
    assert fit.fit["rows_used"] == fit.fit.rows_used == 60  # read as a mapping, too
    assert "interval" not in " ".join(study.importance_table().columns)
    assert "fraction_lo" not in fit.to_frame().columns
    pd.testing.assert_frame_equal(study.to_frame(), study.importance_table())
    short = repr(fit.marginals["a"])
    assert short.startswith("Marginal('a', float, 5 points") and len(short) < 120
    pair = repr(fit.pairs[("a", "b")])
    assert pair.startswith("PairGrid('a' × 'b', 4 × 4 points") and len(pair) < 120


def test_interval_columns_are_there_with_a_bootstrap_and_always_in_the_file():
    from odyssey_analysis.result import INTERVAL_COLUMNS, importance_csv

    table = small_table()
    plain = analyze(table, method_from_options(n_trees=4, curves=False), n_jobs=1)
    header = importance_csv(plain.importance_table()).splitlines()[0].split(",")
    assert header[-5:] == [*INTERVAL_COLUMNS, "oob_r2", "signal_p"]
    assert not set(INTERVAL_COLUMNS) & set(plain.importance_table().columns)
    boot = analyze(table, method_from_options(n_trees=4, curves=False, n_bootstrap=10),
                   n_jobs=1).importance_table()
    assert list(boot.columns[-5:-2]) == INTERVAL_COLUMNS
    assert importance_csv(boot).splitlines()[0].split(",") == header
    assert boot[boot.order == 1][INTERVAL_COLUMNS].notna().all().all()


def test_key_errors_list_what_exists():
    table = small_table()
    study = analyze(table, method_from_options(n_trees=4, grid_points=5, pair_grid_points=4),
                    n_jobs=1)
    fit = only(study)
    with pytest.raises(KeyError, match="responses: 'y'"):
        study.get("loss")
    with pytest.raises(KeyError, match="group keys: none"):
        study.get("y", task="x")
    with pytest.raises(KeyError, match="present: 'a', 'b', 'c'"):
        fit.marginals["lr"]
    with pytest.raises(KeyError, match="there are: a, b, c"):
        fit.total_fraction(["a", "lr"])
    with pytest.raises(KeyError, match="fields: forest"):
        fit.fit["forests"]


def test_a_low_out_of_bag_r2_is_one_warning_for_the_study():
    from odyssey_analysis.errors import FitQualityWarning

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.uniform(0, 1, 60), "b": rng.uniform(0, 1, 60),
                          "g": ["x"] * 30 + ["z"] * 30, "y": rng.normal(0, 1, 60)})
    table = TrialTable.from_frame(frame, responses=["y"], group_by=["g"])
    with pytest.warns(FitQualityWarning) as caught:
        study = analyze(table, method_from_options(n_trees=16, curves=False), n_jobs=1)
    quality = [w for w in caught if issubclass(w.category, FitQualityWarning)]
    assert len(quality) == 1
    assert str(quality[0].message).startswith("2 of 2 fit(s) show no detectable signal")
    assert "y (g=x)" in str(quality[0].message)
    assert all(any("no detectable signal" in w for w in fit.warnings) for fit in study)
