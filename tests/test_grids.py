"""Grids are recognised: a few distinct values on a regular or log-regular ladder become
ordinal levels, integrated uniformly over the levels, and the fractions then match the
exact ANOVA of the grid."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from odyssey_analysis import analyze, method_from_options
from odyssey_analysis.space.infer import grid_ladder, infer_space
from odyssey_analysis.trials import TrialTable


@pytest.mark.parametrize("levels, ladder", [
    ([0.5, 0.6, 0.7, 0.8, 0.9, 1.0], "regular"),
    ([1, 4, 16, 64, 256, 1024], "log-regular"),
    ([1e-4, 1e-3, 1e-2, 1e-1], "log-regular"),
    ([16, 32, 64, 128], "log-regular"),
    ([3, 1, 2], "regular"),
    ([0.0001, 0.001, 0.003, 0.01], None),
    ([1, 2, 4, 5], None),
    ([-2, -1, 1], None),
])
def test_grid_ladder(levels, ladder):
    assert grid_ladder(np.array(levels, dtype=float)) == ladder


def _grid_frame(repeats: int = 1) -> tuple[pd.DataFrame, dict]:
    levels = {"kappa": [0.5, 0.6, 0.7, 0.8, 0.9, 1.0], "tau": [1, 4, 16, 64, 256, 1024],
              "batch": [1, 4, 16, 64, 256, 1024, 4096, 16384]}
    rows = list(itertools.product(*levels.values())) * repeats
    frame = pd.DataFrame(rows, columns=list(levels))
    return frame, levels


def test_a_full_grid_is_read_as_ordinal_levels():
    frame, levels = _grid_frame()
    space = infer_space(frame, list(levels))
    for name, values in levels.items():
        hp = space[name]
        assert hp.kind == "ordinal" and list(hp.choices) == values
        assert hp.describe_measure() == f"uniform over {len(values)} ordinal levels"
    assert any(n.startswith("tau: 6 distinct values on a log-regular ladder")
               for n in space.notes)


def test_random_values_are_not_a_grid():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"lr": 10 ** rng.uniform(-4, -1, 200),
                          "units": rng.integers(16, 513, 200)})
    space = infer_space(frame, ["lr", "units"])
    assert space["lr"].kind == "float" and space["lr"].scale == "log"
    assert space["units"].kind == "int"
    # Too few trials to tell a grid from a handful of draws.
    few = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    assert infer_space(few, ["x"])["x"].kind != "ordinal"


def _exact_fractions(y: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Main-effect shares of the variance of a function tabulated on a full grid."""
    cube = y.reshape(shape)
    total = cube.var()
    out = []
    for axis in range(cube.ndim):
        others = tuple(a for a in range(cube.ndim) if a != axis)
        out.append(cube.mean(axis=others).var() / total)
    return np.array(out)


def test_fractions_on_a_grid_match_the_exact_anova():
    frame, levels = _grid_frame()
    k = np.log(np.array(frame["tau"], dtype=float)) / np.log(1024)
    b = np.log(np.array(frame["batch"], dtype=float)) / np.log(16384)
    kappa = np.array(frame["kappa"], dtype=float)
    # Steps between levels, not smooth in raw units: a continuous reading would
    # integrate the wrong measure (most of tau's raw range holds one level).
    frame["loss"] = 3.0 * (kappa - 0.75) ** 2 * 10 + 2.0 * np.sqrt(k) + b * k
    exact = _exact_fractions(frame["loss"].to_numpy(), tuple(len(v) for v in levels.values()))
    table = TrialTable.from_frame(frame)
    study = analyze(table, method_from_options(n_trees=64, seed=0, pairs=False, curves=False))
    got = study.importance_table().set_index("effect")["fraction"]
    for name, want in zip(levels, exact):
        assert got[name] == pytest.approx(want, abs=0.03), name


def test_log_scale_is_read_from_the_spacing_of_a_few_values():
    """Measured over 200 draws each: 20 integers drawn log-uniformly on [4, 256] are read
    as log-scaled, 20 drawn uniformly as linear, nearly always."""
    rng = np.random.default_rng(1)

    def scale(values: np.ndarray) -> str:
        return infer_space(pd.DataFrame({"b": values}), ["b"])["b"].scale

    log_draws = [np.round(np.exp(rng.uniform(np.log(4), np.log(256), 20))).astype(int)
                 for _ in range(200)]
    flat_draws = [rng.integers(4, 257, 20) for _ in range(200)]
    read_log = sum(scale(x) == "log" for x in log_draws if len(np.unique(x)) > 16)
    considered = sum(len(np.unique(x)) > 16 for x in log_draws)
    assert read_log >= 0.95 * considered and considered >= 100
    read_linear = sum(scale(x) == "linear" for x in flat_draws)
    assert read_linear >= 0.9 * 200


def test_a_grid_off_any_ladder_is_read_from_its_repeats():
    # Ray Tune's grid_search([0.1, 0.5, 0.6]) crossed with two 3-level grids.
    frame = pd.DataFrame(list(itertools.product([0.2, 0.3, 0.4], [0.1, 0.5, 0.6],
                                                [0.7, 0.8, 0.9])) * 3,
                         columns=["alpha", "beta", "gamma"])
    space = infer_space(frame, ["alpha", "beta", "gamma"])
    assert space["beta"].kind == "ordinal" and list(space["beta"].choices) == [0.1, 0.5, 0.6]
    assert any(n.startswith("beta: 3 distinct values each repeated") for n in space.notes)
    # Values drawn from a range are seldom repeated three times each: not a grid.
    rng = np.random.default_rng(0)
    drawn = pd.DataFrame({"k": rng.integers(1, 21, 30)})
    assert infer_space(drawn, ["k"])["k"].kind == "int"
