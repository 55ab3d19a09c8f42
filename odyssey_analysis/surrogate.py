"""The random-forest surrogate: scikit-learn's RandomForestRegressor on encoded inputs."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.ensemble import RandomForestRegressor

#: Out-of-bag R² below this earns a warning: the surrogate explains little, so its
#: decomposition says little about the real response.
LOW_OOB_R2 = 0.5


@dataclass(frozen=True)
class ForestSettings:
    """Settings of the surrogate forest (scikit-learn names).

    Attributes
    ----------
    n_trees
        Number of trees (``n_estimators``).
    max_depth
        Maximum depth; ``None`` grows trees fully.
    min_samples_split, min_samples_leaf
        Split stopping rules.
    max_features
        Features considered per split (a fraction, an int, ``"sqrt"``...).
    bootstrap
        Whether each tree sees a bootstrap sample (needed for out-of-bag R²).
    seed
        ``random_state``: the same seed gives the same forest, bit for bit.
    """

    n_trees: int = 64
    max_depth: int | None = None
    min_samples_split: int = 2
    min_samples_leaf: int = 1
    max_features: float | int | str = 1.0
    bootstrap: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n_trees < 1:
            raise ValueError("n_trees must be at least 1")
        if self.min_samples_leaf < 1 or self.min_samples_split < 2:
            raise ValueError("min_samples_leaf must be >= 1 and min_samples_split >= 2")

    def to_dict(self) -> dict:
        """JSON-ready settings."""
        return asdict(self)


@dataclass(frozen=True)
class FittedForest:
    """A fitted forest and how well it predicts unseen trials.

    Attributes
    ----------
    forest
        The scikit-learn estimator.
    oob_r2
        Out-of-bag R² (NaN without bootstrap or with too few trials).
    settings
        The settings it was fitted with.
    """

    forest: RandomForestRegressor
    oob_r2: float
    settings: ForestSettings


def fit_forest(x: np.ndarray, y: np.ndarray, settings: ForestSettings | None = None,
               n_jobs: int = 1) -> FittedForest:
    """Fit the surrogate on the encoded design matrix.

    Parameters
    ----------
    x
        ``(n, d)`` encoded hyperparameters in [0, 1].
    y
        ``(n,)`` finite responses.
    settings
        Forest settings (defaults: 64 fully grown trees, seed 0).
    n_jobs
        Threads for fitting; the result does not depend on it.

    Returns
    -------
    FittedForest
    """
    settings = settings or ForestSettings()
    forest = RandomForestRegressor(
        n_estimators=settings.n_trees,
        max_depth=settings.max_depth,
        min_samples_split=settings.min_samples_split,
        min_samples_leaf=settings.min_samples_leaf,
        max_features=settings.max_features,
        bootstrap=settings.bootstrap,
        random_state=settings.seed,
        n_jobs=n_jobs,
    )
    forest.fit(x, y)
    r2 = out_of_bag_r2(forest, x, y) if settings.bootstrap else float("nan")
    return FittedForest(forest, r2, settings)


def out_of_bag_r2(forest: RandomForestRegressor, x: np.ndarray, y: np.ndarray) -> float:
    """R² of out-of-bag predictions, over the trials that some tree left out.

    scikit-learn's own ``oob_score_`` counts a trial that every tree saw as predicted
    0, which with few trees drives R² far below zero; here such trials are left out.
    Returns NaN when fewer than two trials have out-of-bag predictions.
    """
    try:  # the bootstrap draw is scikit-learn's own (private) helper
        from sklearn.ensemble._forest import _generate_unsampled_indices
    except ImportError:  # pragma: no cover - private helpers moved
        return float("nan")
    n = len(y)
    n_boot = getattr(forest, "_n_samples_bootstrap", n) or n
    total = np.zeros(n)
    count = np.zeros(n)
    for tree in forest.estimators_:
        try:
            left_out = _generate_unsampled_indices(tree.random_state, n, n_boot, None)
        except TypeError:  # older scikit-learn takes no sample weights here
            left_out = _generate_unsampled_indices(tree.random_state, n, n_boot)
        if left_out.size:
            total[left_out] += tree.predict(x[left_out])
            count[left_out] += 1
    seen = count > 0
    if seen.sum() < 2 or np.var(y[seen]) == 0:
        return float("nan")
    pred = total[seen] / count[seen]
    return float(1.0 - np.mean((y[seen] - pred) ** 2) / np.var(y[seen]))
