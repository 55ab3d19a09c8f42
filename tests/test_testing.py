"""The plug-in conformance checks pass on what ships and fail on what breaks the contract."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from odyssey_analysis import FanovaMethod, ForestSettings, RandomForestSurrogate
from odyssey_analysis.forest import Cells, CompiledForestSurrogate
from odyssey_analysis.methods import LocalFanovaMethod
from odyssey_analysis.surrogate import FittedSurrogate
from odyssey_analysis.testing import check_importance_method, check_surrogate

SMALL = ForestSettings(n_trees=8, seed=0)


@dataclass
class BinnedResult:
    """The result of the toy method below."""

    group: dict[str, Any]
    response: str
    n_trials: int
    shares: dict[str, float] = field(default_factory=dict)

    def importance_table(self) -> pd.DataFrame:
        return pd.DataFrame([{"response": self.response, "effect": name, "order": 1,
                              "param_a": name, "param_b": "", "fraction": share,
                              "fraction_std": np.nan, "n_trials": self.n_trials,
                              "n_trees": 0} for name, share in self.shares.items()])

    def to_dict(self, *, curves: bool = False) -> dict[str, Any]:
        return {"group": self.group, "response": self.response, "shares": self.shares}


@dataclass(frozen=True)
class BinnedVarianceMethod:
    """A toy method: the share of the response's variance explained by the means of
    ``bins`` equal bins of each hyperparameter (a correlation ratio)."""

    bins: int = 5
    name = "binned"

    def fit(self, x, y, space, *, group=None, response="response", rows_excluded=None,
            direction=None) -> BinnedResult:
        total = float(np.var(y))
        shares = {}
        for j, name in enumerate(space.names):
            cell = np.minimum((x[:, j] * self.bins).astype(int), self.bins - 1)
            means = np.bincount(cell, y, self.bins) / np.maximum(np.bincount(cell, None,
                                                                             self.bins), 1)
            shares[name] = float(np.var(means[cell]) / total) if total > 0 else np.nan
        return BinnedResult(dict(group or {}), response, len(y), shares)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "bins": self.bins}


def test_the_scikit_learn_surrogate_conforms():
    check_surrogate(RandomForestSurrogate(SMALL))


def test_the_scikit_learn_surrogate_without_bagging_conforms():
    check_surrogate(RandomForestSurrogate(replace(SMALL, bootstrap=False, max_features=0.5)))


def test_the_compiled_forest_conforms():
    check_surrogate(CompiledForestSurrogate(SMALL))
    check_surrogate(CompiledForestSurrogate(replace(SMALL, bootstrap=False, max_features=0.5)))


def test_the_compiled_forest_with_level_cells_conforms():
    cells = (Cells(np.linspace(0, 1, 4), ordered=False), None, Cells(np.linspace(0, 1, 6), True))
    check_surrogate(CompiledForestSurrogate(SMALL, level_sets=True).with_levels(cells))


def test_the_shipped_methods_conform():
    check_importance_method(FanovaMethod(CompiledForestSurrogate(SMALL), curves=False))
    check_importance_method(FanovaMethod(RandomForestSurrogate(SMALL), curves=False))
    local = LocalFanovaMethod(RandomForestSurrogate(SMALL), top_quantile=0.5)
    check_importance_method(local, fit=functools.partial(local.fit, direction="minimize"))


def test_a_toy_method_conforms():
    check_importance_method(BinnedVarianceMethod())


# -- the checks fail on broken plug-ins -----------------------------------------------------

class ShuffledEvaluation(RandomForestSurrogate):
    """Returns the evaluated values in the wrong order."""

    def fit(self, x, y, *, evaluate_at=None, clip=None) -> FittedSurrogate:
        fitted = super().fit(x, y, evaluate_at=evaluate_at, clip=clip)
        if fitted.evaluated is None:
            return fitted
        return replace(fitted, evaluated=fitted.evaluated[::-1].copy())


class UnclippedEvaluation(RandomForestSurrogate):
    """Ignores ``clip``."""

    def fit(self, x, y, *, evaluate_at=None, clip=None) -> FittedSurrogate:
        return super().fit(x, y, evaluate_at=evaluate_at)


class OverlappingBoxes(RandomForestSurrogate):
    """Widens every box a little."""

    def fit(self, x, y, *, evaluate_at=None, clip=None) -> FittedSurrogate:
        fitted = super().fit(x, y, evaluate_at=evaluate_at, clip=clip)
        trees = [replace(t, lower=np.maximum(t.lower - 0.01, 0.0), index=None)
                 for t in fitted.trees]
        return replace(fitted, trees=trees)


class IgnoresReplicate(RandomForestSurrogate):
    """Replicates with its own tree count."""

    def replicate(self, *, n_trees, seed):
        return IgnoresReplicate(replace(self.settings, seed=seed))


@pytest.mark.parametrize("broken, message", [
    (ShuffledEvaluation(SMALL), "mean clipped leaf values"),
    (UnclippedEvaluation(SMALL), "mean clipped leaf values"),
    (OverlappingBoxes(SMALL), "total volume"),
    (IgnoresReplicate(SMALL), "replicate"),
    (object(), "is not a Surrogate"),
])
def test_check_surrogate_fails_on_a_broken_surrogate(broken, message):
    with pytest.raises(AssertionError, match=message):
        check_surrogate(broken)


@dataclass(frozen=True)
class Mislabelled(BinnedVarianceMethod):
    def fit(self, x, y, space, **kwargs) -> BinnedResult:
        return replace(super().fit(x, y, space, **kwargs), response="y")


@dataclass(frozen=True)
class Backwards(BinnedVarianceMethod):
    def fit(self, x, y, space, **kwargs) -> BinnedResult:
        result = super().fit(x, y, space, **kwargs)
        names = list(result.shares)
        return replace(result, shares=dict(zip(names, list(result.shares.values())[::-1])))


@dataclass(frozen=True)
class Random(BinnedVarianceMethod):
    def fit(self, x, y, space, **kwargs) -> BinnedResult:
        result = super().fit(x, y, space, **kwargs)
        rng = np.random.default_rng()
        return replace(result, shares={k: v * rng.uniform(0.99, 1.0)
                                       for k, v in result.shares.items()})


@dataclass(frozen=True)
class MissingColumns(BinnedVarianceMethod):
    def fit(self, x, y, space, **kwargs) -> Any:
        result = super().fit(x, y, space, **kwargs)
        result.importance_table = lambda: pd.DataFrame({"effect": space.names})
        return result


@pytest.mark.parametrize("broken, message", [
    (Mislabelled(), "labelled"),
    (Backwards(), "main fractions"),
    (Random(), "different tables"),
    (MissingColumns(), "lacks the column"),
    (object(), "is not an ImportanceMethod"),
])
def test_check_importance_method_fails_on_a_broken_method(broken, message):
    with pytest.raises(AssertionError, match=message):
        check_importance_method(broken)
