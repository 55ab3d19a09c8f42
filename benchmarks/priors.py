"""Importance fractions under priors against their analytic values.

Run ``python benchmarks/priors.py`` (about ten seconds). Each problem is an
additive function of hyperparameters sampled from priors, so its fractions are known
exactly: ``f = a + 2 b (+ k / 5)`` with ``a ~ Beta(2, 3)`` on [0, 1] (variance 0.04),
``b`` a 0/1 categorical with weights 1:1 or 1:3 (variance ``4 p (1 - p)``) and ``k`` an
integer on 1..10 under a Beta(2, 5) prior (variance by summing its cells). Trials are
drawn from the priors (random search), fitted through the public API
(:func:`odyssey_analysis.analyze`, default forest settings but 32 trees, no pairs) and
the main-effect fractions printed as mean ± sd over ``--reps`` sweeps with the truth.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from odyssey_analysis import analyze
from odyssey_analysis.space import Hyperparameter, SearchSpace
from odyssey_analysis.space.priors import Prior
from odyssey_analysis.trials import TrialTable


def problem(weights: tuple[float, float], integer: bool) -> tuple[SearchSpace, dict]:
    """The space and the true main-effect fractions."""
    hps = [Hyperparameter("a", "float", 0.0, 1.0, prior=Prior("beta", alpha=2.0, beta=3.0)),
           Hyperparameter("b", "categorical", choices=(0, 1), weights=weights)]
    p = weights[1] / sum(weights)
    var = {"a": 0.04, "b": 4.0 * p * (1.0 - p)}
    if integer:
        k = Hyperparameter("k", "int", 1, 10, prior=Prior("beta", alpha=2.0, beta=5.0))
        hps.append(k)
        mass = np.diff(k.cell_edges())
        values = np.arange(1, 11) / 5.0
        mean = float(mass @ values)
        var["k"] = float(mass @ (values - mean) ** 2)
    total = sum(var.values())
    return SearchSpace(tuple(hps)), {name: v / total for name, v in var.items()}


def sweep(space: SearchSpace, n: int, seed: int) -> pd.DataFrame:
    """``n`` trials drawn from the priors, with the response ``y``."""
    u = np.random.default_rng(seed).random((n, len(space)))
    frame = pd.DataFrame({hp.name: hp.decode(u[:, j]) for j, hp in enumerate(space)})
    frame["b"] = frame["b"].astype(int)
    y = frame["a"] + 2.0 * frame["b"]
    if "k" in frame:
        frame["k"] = np.round(frame["k"]).astype(int)
        y = y + frame["k"] / 5.0
    frame["y"] = y
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    cases = [((1.0, 1.0), False, "b 1:1"), ((1.0, 3.0), False, "b 1:3"),
             ((1.0, 1.0), True, "b 1:1, k ~ Beta(2, 5)")]
    for weights, integer, label in cases:
        space, truth = problem(weights, integer)
        got = {name: [] for name in truth}
        for rep in range(args.reps):
            frame = sweep(space, args.trials, rep)
            table = TrialTable(frame, space.names, ["y"], space=space)
            res = analyze(table, space, n_trees=32, seed=rep, pairs=False, curves=False)
            fractions = dict(zip(res.importance_table()["effect"],
                                 res.importance_table()["fraction"]))
            for name in truth:
                got[name].append(fractions[name])
        cells = [f"{name} {np.mean(v):.4f} ± {np.std(v):.4f} (truth {truth[name]:.4f})"
                 for name, v in got.items()]
        print(f"{label}, N = {args.trials}: " + "; ".join(cells))


if __name__ == "__main__":
    main()
