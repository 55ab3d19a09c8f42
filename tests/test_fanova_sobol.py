"""Variance fractions against analytic Sobol indices and the right measure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from odyssey_analysis import SearchSpace, TrialTable, analyze
from odyssey_analysis.methods import method_from_options
from odyssey_analysis.presets import odyssey_space
from odyssey_analysis.space import Hyperparameter


def fractions(frame: pd.DataFrame, space: SearchSpace, **kwargs) -> dict[str, float]:
    table = TrialTable.from_frame(frame, responses=["y"], space=space, group_by=[])
    method = method_from_options(grid_points=5, pair_grid_points=3, **kwargs)
    result = analyze(table, method, space=space, n_jobs=1)
    imp = result.importance_table()
    return dict(zip(imp["effect"], imp["fraction"]))


def test_ishigami_indices():
    a, b = 7.0, 0.1
    rng = np.random.default_rng(1)
    n = 20_000
    x = rng.uniform(-np.pi, np.pi, size=(n, 3))
    y = np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])
    v1 = 0.5 * (1 + b * np.pi ** 4 / 5) ** 2
    v2 = a ** 2 / 8
    v13 = b ** 2 * np.pi ** 8 * (1 / 18 - 1 / 50)
    total = v1 + v2 + v13
    space = SearchSpace(tuple(Hyperparameter(f"x{i}", "float", -np.pi, np.pi)
                              for i in range(3)))
    frame = pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "x2": x[:, 2], "y": y})
    # Trees on the whole sample fit this smooth function closely enough for the exact
    # decomposition to show; bootstrap trees each see ~63% of it and lose a few percent
    # of main effect to spurious interactions.
    got = fractions(frame, space, n_trees=8, min_samples_leaf=2, bootstrap=False)
    expected = {"x0": v1 / total, "x1": v2 / total, "x2": 0.0, "x0 × x1": 0.0,
                "x0 × x2": v13 / total, "x1 × x2": 0.0}
    for effect, value in expected.items():
        assert got[effect] == pytest.approx(value, abs=0.02), effect


def test_sobol_g_function_indices():
    coef = np.array([0.0, 1.0, 4.5, 9.0])
    rng = np.random.default_rng(2)
    n = 20_000
    x = rng.uniform(size=(n, 4))
    y = np.prod((np.abs(4 * x - 2) + coef) / (1 + coef), axis=1)
    vi = (1 / 3) / (1 + coef) ** 2
    total = np.prod(1 + vi) - 1
    space = SearchSpace(tuple(Hyperparameter(f"x{i}", "float", 0.0, 1.0) for i in range(4)))
    frame = pd.DataFrame({f"x{i}": x[:, i] for i in range(4)} | {"y": y})
    got = fractions(frame, space, n_trees=16, min_samples_leaf=3)
    for i in range(4):
        assert got[f"x{i}"] == pytest.approx(vi[i] / total, abs=0.02), i
        for j in range(i + 1, 4):
            assert got[f"x{i} × x{j}"] == pytest.approx(vi[i] * vi[j] / total, abs=0.02)


def momentum_interaction_trials(n: int, seed: int) -> pd.DataFrame:
    """Momentum interacts with a log-uniform learning rate but has no main effect."""
    rng = np.random.default_rng(seed)
    lr = 10 ** rng.uniform(-6, -2, n)
    u = 10 ** rng.uniform(-2, 0, n)          # momentum = 1 - u, u log-uniform
    momentum = 1 - u
    hidden = np.round(np.exp(rng.uniform(np.log(19.5), np.log(200.5), n))).clip(20, 200)
    noise = rng.uniform(0, 1, n)
    g = np.log10(lr) + 4.0                   # zero mean under the log-uniform measure
    h = (np.log10(u) + 1.0) / 2.0            # zero mean under momentum's measure
    y = g * (1.0 + h)
    return pd.DataFrame({"learning_rate": lr, "hidden_size": hidden.astype(int),
                         "momentum": momentum, "input_noise": noise, "y": y})


def test_momentum_without_main_effect_gets_none_under_the_sampling_measure():
    frame = momentum_interaction_trials(2000, seed=3)
    got = fractions(frame, odyssey_space(), n_trees=32)
    assert got["momentum"] < 0.01
    assert got["learning_rate"] > 0.5
    assert got["learning_rate × momentum"] > 0.05


def test_raw_units_would_invent_a_momentum_effect():
    """The same data integrated uniformly in raw units: the error peers make."""
    frame = momentum_interaction_trials(2000, seed=3)
    raw = SearchSpace((Hyperparameter("learning_rate", "float", 1e-6, 1e-2),
                       Hyperparameter("hidden_size", "int", 20, 200),
                       Hyperparameter("momentum", "float", 0.0, 0.99),
                       Hyperparameter("input_noise", "float", 0.0, 1.0)))
    got = fractions(frame, raw, n_trees=32)
    assert got["momentum"] > 0.03


def test_total_fractions_of_subsets_against_the_g_function():
    """Closed indices: every effect inside the subset, analytic for the g-function."""
    coef = np.array([0.0, 1.0, 4.5, 9.0])
    rng = np.random.default_rng(4)
    x = rng.uniform(size=(20_000, 4))
    y = np.prod((np.abs(4 * x - 2) + coef) / (1 + coef), axis=1)
    vi = (1 / 3) / (1 + coef) ** 2
    total = np.prod(1 + vi) - 1
    space = SearchSpace(tuple(Hyperparameter(f"x{i}", "float", 0.0, 1.0) for i in range(4)))
    frame = pd.DataFrame({f"x{i}": x[:, i] for i in range(4)} | {"y": y})
    table = TrialTable.from_frame(frame, responses=["y"], space=space, group_by=[])
    method = method_from_options(n_trees=2, min_samples_leaf=5, bootstrap=False,
                                 grid_points=3, pair_grid_points=3, keep_trees=True)
    result = next(iter(analyze(table, method, space=space, n_jobs=1)))
    for subset in (["x0"], ["x0", "x1"], ["x0", "x1", "x2"], ["x1", "x2", "x3"]):
        idx = [int(name[1]) for name in subset]
        expected = (np.prod(1 + vi[idx]) - 1) / total
        assert result.total_fraction(subset)[0] == pytest.approx(expected, abs=0.02), subset
    assert result.total_fraction(["x0", "x1", "x2", "x3"])[0] == pytest.approx(1.0)
    mean, _ = result.main_fraction()
    pair, _ = result.pair_fraction()
    assert result.total_fraction(["x0", "x2"])[0] == pytest.approx(
        mean["x0"] + mean["x2"] + pair.loc["x0", "x2"], rel=1e-12)
