"""Synthetic result objects of sweeps unlike the bundled study, for the figure tests.

Search spaces of 2 to 20 hyperparameters with long names, log ranges narrow and wide,
integer ranges, categoricals of 9 and 30 levels, group values that are long floats
(budgets such as 2.7777777777777777) and long response names. The curves are analytic
(fixed seeds), so the images depend on the plotting code only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from odyssey_analysis.compare import Comparison, compare
from odyssey_analysis.result import FanovaResult, Marginal, PairGrid, StudyResult
from odyssey_analysis.space import Hyperparameter, SearchSpace

LONG_RESPONSE = "validation_cross_entropy_of_the_final_checkpoint_after_warm_restarts"
#: Budgets as a multi-fidelity optimizer writes them (floats that do not round-trip short).
BUDGETS = (100.0, 2.7777777777777777, 33.333333333333336, 11.11111111111111)

_TEMPLATES = (
    Hyperparameter("optimizer_initial_learning_rate_before_warmup", "float", 1e-6, 1e-1,
                   scale="log"),
    Hyperparameter("batch_size", "int", 16, 4096, scale="log"),
    Hyperparameter("number_of_transformer_layers_in_the_encoder", "int", 1, 8),
    Hyperparameter("dropout", "float", 0.0, 0.9),
    Hyperparameter("hidden_units_per_layer", "int", 32, 256, scale="log"),
    Hyperparameter("activation_function_of_the_hidden_layers", "categorical",
                   choices=("relu", "leaky_relu", "gelu", "silu", "tanh", "sigmoid",
                            "softplus", "exponential_linear_unit", "mish")),
    Hyperparameter("momentum", "float", 0.0, 0.999, scale="one_minus_log"),
    Hyperparameter("data_augmentation_policy", "categorical",
                   choices=tuple(f"policy_{i:02d}" for i in range(30))),
    Hyperparameter("weight_decay_coefficient", "float", 1e-8, 1e-2, scale="log"),
    Hyperparameter("warmup_steps", "int", 0, 5000),
)


def foreign_space(d: int, *, long_names: bool = True) -> SearchSpace:
    """``d`` hyperparameters cycling through :data:`_TEMPLATES` (names made unique)."""
    hps = []
    for i in range(d):
        t = _TEMPLATES[i % len(_TEMPLATES)]
        name = t.name if long_names else t.name.split("_")[0]
        if i >= len(_TEMPLATES):
            name = f"{name}_{i // len(_TEMPLATES) + 1}"
        hps.append(Hyperparameter(name, t.kind, t.lower, t.upper, scale=t.scale,
                                  choices=t.choices))
    return SearchSpace(tuple(hps), origin="synthetic")


def _curve(j: int, u: np.ndarray) -> np.ndarray:
    """A smooth shape on the encoded interval, different for each position."""
    phase = 0.37 * j
    return np.sin(2.5 * u + phase) * (1.0 + 0.3 * j) ** -1 + 0.4 * (u - 0.5) ** 2


def foreign_result(space: SearchSpace, group: dict, response: str, *, scale: float = 1.0,
                   seed: int = 0, n_trials: int = 120, n_trees: int = 4,
                   pair_points: int = 10) -> FanovaResult:
    """A result with analytic marginals and pairs over ``space``, and observed trials."""
    rng = np.random.default_rng(seed)
    names = space.names
    d = len(names)
    shares = np.sort(rng.dirichlet(np.full(d, 0.6)))[::-1] * 0.8
    wobble = np.linspace(0.9, 1.1, n_trees)
    main = shares[None, :] * wobble[:, None]
    pair = np.zeros((n_trees, d, d))
    pair_share = rng.dirichlet(np.full(d * (d - 1) // 2, 0.5)) * 0.15
    iu = np.triu_indices(d, 1)
    for (j, k), share in zip(zip(*iu), pair_share):
        pair[:, j, k] = pair[:, k, j] = share * wobble[::-1]
    design = rng.random((n_trials, d))
    marginals = {}
    grids = {}
    for j, hp in enumerate(space):
        if hp.is_discrete:
            edges = hp.level_edges()
            grid = 0.5 * (edges[1:] + edges[:-1])
            design[:, j] = grid[rng.integers(0, len(grid), n_trials)]
        else:
            grid = np.linspace(0, 1, 40)
        grids[j] = grid
        mean = scale * (1.0 + _curve(j + 3 * seed, grid))
        std = scale * (0.02 + 0.03 * np.abs(np.cos(3 * grid)))
        marginals[hp.name] = Marginal(hp.name, hp.kind, hp.scale, grid, hp.decode(grid),
                                      mean, std, observed=hp.decode(design[:, j]))
    pairs = {}
    hps = list(space)
    for j in range(d):
        for k in range(j + 1, d):
            a, b = hps[j], hps[k]
            ga = grids[j] if a.is_discrete else np.linspace(0, 1, pair_points)
            gb = grids[k] if b.is_discrete else np.linspace(0, 1, pair_points)
            inter = scale * 0.05 * np.outer(ga - 0.5, 0.5 - gb) * (j + 1) / (k + 1)
            total = (scale * (1.0 + _curve(j, ga)[:, None] + _curve(k, gb)[None, :]) + inter)
            pairs[(a.name, b.name)] = PairGrid(
                (a.name, b.name), a.decode(ga), b.decode(gb), a.scale, b.scale, a.kind,
                b.kind, total, 0.1 * np.abs(total), inter, 0.1 * np.abs(inter))
    return FanovaResult(
        group=dict(group), response=response, hyperparameters=names,
        tree_mean=np.full(n_trees, scale), tree_variance=np.ones(n_trees),
        main_variance=main, pair_variance=pair, n_trials=n_trials, oob_r2=0.8,
        marginals=marginals, pairs=pairs, measures=space.measures())


def foreign_study(d: int, *, budgets: tuple = BUDGETS[:2], response: str = LONG_RESPONSE,
                  secondary: str | None = "wall_clock_time_in_seconds",
                  long_names: bool = True) -> StudyResult:
    """A study grouped by a numeric ``budget``: one fit per budget and response."""
    space = foreign_space(d, long_names=long_names)
    responses = [response] + ([secondary] if secondary else [])
    results = {}
    for b, budget in enumerate(budgets):
        for r, name in enumerate(responses):
            results[((budget,), name)] = foreign_result(
                space, {"budget": budget}, name, scale=10.0 ** (3 * r) * (1 + b),
                seed=17 * b + r)
    return StudyResult(results, ["budget"], responses, space)


def numeric_variant_trials(n_per: int = 12, variants: tuple = (100.0, 2.7777777777777777,
                                                              33.333333333333336,
                                                              11.11111111111111)
                           ) -> pd.DataFrame:
    """Trials of one task whose variants are numbers (budgets used as variants)."""
    rng = np.random.default_rng(5)
    rows = []
    for i, variant in enumerate(variants):
        for t in range(n_per):
            err = 0.3 + 0.02 * i + 0.05 * rng.random()
            rows.append({"task": "digits", "variant": variant, "trial": t,
                         "valid_error": err + 0.01 * rng.standard_normal(),
                         "test_error": err})
    return pd.DataFrame(rows)


def numeric_variant_comparison() -> Comparison:
    """The comparison of :func:`numeric_variant_trials`, the largest budget as reference."""
    return compare(numeric_variant_trials(), top_fraction=0.25, reference=100.0)
