"""The study over groups: edge cases and what each fit reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from odyssey_analysis import InputError, SearchSpace, TrialTable, analyze
from odyssey_analysis.methods import method_from_options
from odyssey_analysis.presets import odyssey_space
from odyssey_analysis.space import Hyperparameter

FAST = dict(method=method_from_options(n_trees=8, grid_points=7, pair_grid_points=5),
            n_jobs=1)


def odyssey_frame(n: int = 60, seed: int = 0, groups=(("speech", "V"), ("speech", "NFG"))):
    rng = np.random.default_rng(seed)
    parts = []
    for task, variant in groups:
        lr = 10 ** rng.uniform(-6, -2, n)
        hidden = np.round(np.exp(rng.uniform(np.log(19.5), np.log(200.5), n))).clip(20, 200)
        parts.append(pd.DataFrame({
            "task": task, "variant": variant, "learning_rate": lr,
            "hidden_size": hidden.astype(int), "momentum": 1 - 10 ** rng.uniform(-2, 0, n),
            "input_noise": rng.uniform(0, 1, n),
            "test_error": (np.log10(lr) + 3) ** 2 + rng.normal(0, 0.1, n),
            "train_time": hidden * rng.uniform(1, 2, n)}))
    return pd.concat(parts, ignore_index=True)


def test_one_fit_per_group_and_response_in_the_design_layout():
    table = TrialTable.from_frame(odyssey_frame(), space=odyssey_space())
    study = analyze(table, **FAST)
    assert len(study) == 4
    imp = study.importance_table()
    assert list(imp.columns) == ["task", "variant", "response", "effect", "order", "param_a",
                                 "param_b", "fraction", "fraction_std", "n_trials", "n_trees",
                                 "oob_r2", "signal_p"]
    one = imp[(imp.variant == "V") & (imp.response == "test_error")]
    assert list(one["order"]) == [1] * 4 + [2] * 6 + [3]
    assert "learning_rate × hidden_size" in set(one["effect"])
    top = one.sort_values("fraction").iloc[-1]
    assert top["effect"] == "learning_rate"
    result = study.get("test_error", task="speech", variant="V")
    assert result.n_trials == 60
    assert result.measures["momentum"].startswith("1 - log-uniform")
    info = result.to_dict()
    assert info["fit"]["forest"]["n_trees"] == 8
    assert 0 < info["oob_r2"] <= 1


def test_one_hyperparameter():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 40)
    frame = pd.DataFrame({"a": x, "y": np.sin(6 * x)})
    table = TrialTable.from_frame(frame, responses=["y"], group_by=[])
    result = next(iter(analyze(table, **FAST)))
    mean, _ = result.main_fraction()
    assert mean["a"] == pytest.approx(1.0)
    assert result.higher_order_fraction()[0] == pytest.approx(0.0, abs=1e-12)


def test_constant_hyperparameter_is_reported_with_zero_effect():
    frame = odyssey_frame(groups=(("speech", "V"),))
    frame["batch"] = 32
    table = TrialTable.from_frame(frame, hyperparameters=["learning_rate", "batch"],
                                  responses=["test_error"])
    result = next(iter(analyze(table, **FAST)))
    assert result.main_fraction().mean["batch"] == 0.0
    assert any("constant" in w for w in result.warnings)


def test_categorical_and_ordinal_hyperparameters():
    rng = np.random.default_rng(1)
    n = 120
    act = rng.choice(["relu", "tanh", "sigmoid"], n)
    depth = rng.choice([1, 2, 4], n)
    y = np.where(act == "relu", 0.0, 1.0) + 0.1 * depth + rng.normal(0, 0.01, n)
    frame = pd.DataFrame({"activation": act, "depth": depth, "y": y})
    space = SearchSpace((Hyperparameter("activation", "categorical",
                                        choices=("relu", "tanh", "sigmoid")),
                         Hyperparameter("depth", "ordinal", choices=(1, 2, 4))))
    table = TrialTable.from_frame(frame, responses=["y"], space=space, group_by=[])
    result = next(iter(analyze(table, **FAST)))
    mean, _ = result.main_fraction()
    assert mean["activation"] > 0.8
    marg = result.marginals["activation"]
    assert list(marg.values) == ["relu", "tanh", "sigmoid"]
    assert marg.mean[0] < marg.mean[1]


def test_group_with_too_few_trials_is_a_clear_error():
    frame = odyssey_frame(n=5, groups=(("speech", "V"),))
    table = TrialTable.from_frame(frame, space=odyssey_space())
    with pytest.raises(InputError, match="task=speech, variant=V has 5 trial"):
        analyze(table, **FAST)


def test_nan_responses_follow_the_policy():
    frame = odyssey_frame(groups=(("speech", "V"),))
    frame.loc[[3, 7], "test_error"] = [np.nan, np.inf]
    dropped = TrialTable.from_frame(frame, space=odyssey_space())
    assert len(dropped) == 58
    assert dropped.excluded_counts() == {"diverged (non-finite metric)": 2}
    worst = TrialTable.from_frame(frame, space=odyssey_space(), on_diverged="worst")
    assert len(worst) == 60
    finite = frame["test_error"][np.isfinite(frame["test_error"])]
    assert worst.frame.loc[4, "test_error"] == finite.max()
    with pytest.raises(InputError, match="row 4.*test_error"):
        TrialTable.from_frame(frame, space=odyssey_space(), on_diverged="error")
    assert len(analyze(dropped, **FAST)) == 2


def test_constant_response_reports_undefined_fractions():
    frame = odyssey_frame(groups=(("speech", "V"),))
    frame["test_error"] = 0.25
    table = TrialTable.from_frame(frame, space=odyssey_space(), responses=["test_error"])
    result = next(iter(analyze(table, **FAST)))
    assert result.n_trees == 0
    assert result.n_zero_variance_trees == 8
    assert np.isnan(result.main_fraction()[0]).all()
    assert any("constant" in w for w in result.warnings)


def test_quantile_cutoffs_are_recorded_and_shrink_the_variance():
    table = TrialTable.from_frame(odyssey_frame(groups=(("speech", "V"),)),
                                  space=odyssey_space(), responses=["test_error"])
    plain = next(iter(analyze(table, **FAST)))
    cut = next(iter(analyze(table, method_from_options(
        n_trees=8, grid_points=7, pair_grid_points=5, cutoff_quantiles=(0.0, 0.5)), n_jobs=1)))
    assert cut.fit["cutoffs"][1] == pytest.approx(
        np.quantile(table.frame["test_error"], 0.5))
    assert cut.tree_variance.mean() < plain.tree_variance.mean()


def test_each_fit_records_its_rows_used_and_excluded():
    frame = odyssey_frame()
    frame.loc[[3, 7], "test_error"] = np.nan            # both in group (speech, V)
    frame.loc[65, "test_error"] = np.inf                # group (speech, NFG)
    table = TrialTable.from_frame(frame, space=odyssey_space())
    study = analyze(table, response="test_error", **FAST)
    v = study.get("test_error", task="speech", variant="V")
    nfg = study.get("test_error", task="speech", variant="NFG")
    assert v.fit["rows_used"] == 58
    assert v.fit["rows_excluded"] == {"diverged (non-finite metric)": 2}
    assert nfg.fit["rows_excluded"] == {"diverged (non-finite metric)": 1}
