"""The default method: the exact functional ANOVA of a forest surrogate.

:class:`FanovaMethod` fits a :class:`~odyssey_analysis.surrogate.Surrogate` (by default
scikit-learn's random forest) to one group's encoded trials and decomposes each of its
trees exactly (:func:`~odyssey_analysis.fanova.decompose_trees`); the result is a
:class:`~odyssey_analysis.result.FanovaResult`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._threads import current_fit_threads
from ..errors import InputError
from ..fanova import ForestDecomposition, decompose_trees, forest_leaf_boxes, zero_variance
from ..quality import low_oob_r2
from ..result import FanovaResult, Marginal, PairGrid
from ..space import Hyperparameter, SearchSpace
from ..surrogate import ForestSettings, RandomForestSurrogate, Surrogate


def grid_for(hp: Hyperparameter, points: int) -> np.ndarray:
    """Evaluation points in [0, 1] for ``hp``: level centres, or evenly spaced points.

    Even spacing in the encoded coordinate is even spacing under the sampling measure
    (log-spaced for a log-uniform hyperparameter).
    """
    if hp.is_constant:
        return np.array([0.5])
    if hp.is_discrete:
        edges = hp.level_edges()
        return 0.5 * (edges[:-1] + edges[1:])
    return np.linspace(0.0, 1.0, points)


def check_cutoffs(cutoffs: tuple[float, float] | None,
                  cutoff_quantiles: tuple[float, float] | None) -> None:
    """Cutoffs must be ordered (``LOW < HIGH``), quantiles in [0, 1]; not both."""
    if cutoffs is not None:
        lo, hi = map(float, cutoffs)
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo >= hi:
            raise InputError(f"--cutoff needs LOW < HIGH, got {lo:g} {hi:g}")
    if cutoff_quantiles is not None:
        lo_q, hi_q = map(float, cutoff_quantiles)
        if not 0.0 <= lo_q < hi_q <= 1.0:
            raise InputError("cutoff quantiles must satisfy 0 <= low < high <= 1, "
                             f"got {lo_q:g} {hi_q:g}")
    if cutoffs is not None and cutoff_quantiles is not None:
        raise InputError("give --cutoff or --cutoff-quantile, not both")


@dataclass(frozen=True)
class FanovaMethod:
    """Exact fANOVA of each tree of a surrogate, summarised over trees.

    Parameters
    ----------
    surrogate
        The surrogate (default: :class:`~odyssey_analysis.surrogate.RandomForestSurrogate`
        with default :class:`~odyssey_analysis.surrogate.ForestSettings`).
    cutoffs
        Clamp leaf values into ``(low, high)`` (response units) first.
    cutoff_quantiles
        Clamp into these quantiles of each group's observed response instead.
    pairs
        Compute every pairwise effect.
    curves
        Store marginal curves (and, with ``pairs``, pair grids) for the figures.
    grid_points, pair_grid_points
        Points per hyperparameter of the marginal curves and the pair grids.
    keep_trees
        Keep each tree's leaf boxes on the result (closed fractions of subsets of three
        or more hyperparameters need them; memory grows with trials × trees).
    """

    surrogate: Surrogate | None = None
    cutoffs: tuple[float, float] | None = None
    cutoff_quantiles: tuple[float, float] | None = None
    pairs: bool = True
    curves: bool = True
    grid_points: int = 50
    pair_grid_points: int = 24
    keep_trees: bool = False

    name = "fanova"

    def __post_init__(self) -> None:
        check_cutoffs(self.cutoffs, self.cutoff_quantiles)
        for value, option in ((self.grid_points, "grid points"),
                              (self.pair_grid_points, "pair grid points")):
            if int(value) < 2:
                raise InputError(f"{option} must be at least 2, got {value}")

    @property
    def forest_surrogate(self) -> Surrogate:
        """The surrogate in use."""
        return self.surrogate if self.surrogate is not None else RandomForestSurrogate()

    def to_dict(self) -> dict[str, Any]:
        """The method's settings, JSON-ready."""
        return {"name": self.name, "pairs": self.pairs, "cutoffs": self.cutoffs,
                "cutoff_quantiles": self.cutoff_quantiles}

    def fit(self, x: np.ndarray, y: np.ndarray, space: SearchSpace, *,
            group: Mapping[str, Any] | None = None, response: str = "response",
            rows_excluded: Mapping[str, int] | None = None) -> FanovaResult:
        """Fit the surrogate to one group's trials and decompose it exactly.

        Parameters
        ----------
        x
            ``(n, d)`` design matrix encoded by ``space``.
        y
            ``(n,)`` finite responses.
        space
            The search space (defines the measure).
        group, response
            Labels stored in the result.
        rows_excluded
            The group's excluded trials counted by reason (recorded in ``fit``).

        Returns
        -------
        FanovaResult
        """
        cutoffs = self.cutoffs
        if self.cutoff_quantiles is not None:
            lo_q, hi_q = self.cutoff_quantiles
            cutoffs = (float(np.quantile(y, lo_q)), float(np.quantile(y, hi_q)))
        fitted = self.forest_surrogate.fit(x, y)
        trees = [t.clipped(cutoffs) for t in fitted.trees]
        parts = self._decompose(trees, space)
        kept = [t.without_index() for t in trees] if self.keep_trees else None
        return _result(parts, space, kept, fitted.oob_r2,
                       fitted.settings, n_trials=len(y), group=group, response=response,
                       cutoffs=cutoffs, pairs=self.pairs, rows_excluded=rows_excluded)

    def _decompose(self, trees: list, space: SearchSpace) -> ForestDecomposition:
        hps = list(space)
        grids = ({j: grid_for(hp, self.grid_points) for j, hp in enumerate(hps)}
                 if self.curves else {})
        pair_grids = ({j: grid_for(hp, self.pair_grid_points) for j, hp in enumerate(hps)}
                      if self.curves and self.pairs else {})
        return decompose_trees(trees, pairs=self.pairs, grids=grids, pair_grids=pair_grids,
                               n_threads=current_fit_threads())


def _result(parts: ForestDecomposition, space: SearchSpace, trees: list | None, oob_r2: float,
            settings: dict[str, Any], *, n_trials: int, group: Mapping[str, Any] | None,
            response: str, cutoffs: tuple[float, float] | None, pairs: bool,
            rows_excluded: Mapping[str, int] | None) -> FanovaResult:
    """The per-tree decomposition as a :class:`FanovaResult` with curves in original units."""
    hps = list(space)
    marginals = {}
    for j, grid in parts.grids.items():
        hp = hps[j]
        per_tree = parts.curves[j]
        marginals[hp.name] = Marginal(hp.name, hp.kind, hp.scale, grid, hp.decode(grid),
                                      per_tree.mean(axis=0), per_tree.std(axis=0))
    pair_grids = {}
    for (j, k), pc in parts.pair_curves.items():
        ha, hb = hps[j], hps[k]
        pair_grids[(ha.name, hb.name)] = PairGrid(
            (ha.name, hb.name), ha.decode(pc.grid_a), hb.decode(pc.grid_b), ha.scale,
            hb.scale, ha.kind, hb.kind, pc.joint.mean(axis=0), pc.joint.std(axis=0),
            pc.interaction.mean(axis=0), pc.interaction.std(axis=0))
    warnings = []
    if low_oob_r2(oob_r2):
        warnings.append(f"out-of-bag R² is {oob_r2:.2f}: the forest predicts unseen "
                        "trials poorly, so its decomposition is uncertain")
    n_zero = int(zero_variance(parts.variance, parts.mean).sum())
    if n_zero == parts.n_trees:
        warnings.append("every tree is constant (the response does not vary): "
                        "fractions are undefined")
    elif n_zero:
        warnings.append(f"{n_zero} constant tree(s) skipped for the fractions")
    constant = [hp.name for hp in hps if hp.is_constant]
    if constant:
        warnings.append(f"constant hyperparameter(s) {', '.join(constant)}: effect 0")
    fit_info = {
        "forest": dict(settings),
        "cutoffs": None if cutoffs is None else list(cutoffs),
        "n_zero_variance_trees": n_zero,
        "pairs_computed": pairs,
        "rows_used": n_trials,
        "rows_excluded": dict(rows_excluded or {}),
    }
    return FanovaResult(
        group=dict(group or {}), response=response, hyperparameters=space.names,
        tree_mean=parts.mean, tree_variance=parts.variance, main_variance=parts.main,
        pair_variance=parts.pair, n_trials=n_trials, oob_r2=oob_r2, marginals=marginals,
        pairs=pair_grids, measures=space.measures(), fit=fit_info, warnings=warnings,
        trees=trees)


def decompose_forest(
    forest: Any,
    space: SearchSpace,
    *,
    cutoffs: tuple[float, float] | None = None,
    pairs: bool = True,
    grid_points: int = 50,
    pair_grid_points: int = 24,
) -> ForestDecomposition:
    """Exact functional ANOVA of every tree of a fitted scikit-learn forest.

    Parameters
    ----------
    forest
        A fitted ``RandomForestRegressor`` (anything with ``estimators_`` whose members
        have ``tree_``) on inputs encoded by ``space``.
    space
        The search space; its encoding defines the measure and the curves' grids.
    cutoffs
        Clamp leaf values into ``(low, high)`` first.
    pairs
        Compute pairwise effects and pair grids.
    grid_points, pair_grid_points
        Evaluation points per hyperparameter for the marginal curves and pair grids.

    Returns
    -------
    ForestDecomposition
    """
    d = len(space)
    trees = forest_leaf_boxes([e.tree_ for e in forest.estimators_], d, cutoffs)
    method = FanovaMethod(pairs=pairs, grid_points=grid_points,
                          pair_grid_points=pair_grid_points)
    return method._decompose(trees, space)


def fit_and_decompose(
    x: np.ndarray,
    y: np.ndarray,
    space: SearchSpace,
    *,
    group: dict[str, Any] | None = None,
    response: str = "response",
    settings: ForestSettings | None = None,
    cutoffs: tuple[float, float] | None = None,
    cutoff_quantiles: tuple[float, float] | None = None,
    pairs: bool = True,
    grid_points: int = 50,
    pair_grid_points: int = 24,
    keep_trees: bool = False,
    rows_excluded: dict[str, int] | None = None,
) -> FanovaResult:
    """Fit a random forest to one group's trials and decompose it exactly.

    A shortcut for ``FanovaMethod(RandomForestSurrogate(settings), ...).fit(...)``; the
    parameters are those of :class:`FanovaMethod` and :meth:`FanovaMethod.fit`.
    """
    method = FanovaMethod(RandomForestSurrogate(settings), cutoffs=cutoffs,
                          cutoff_quantiles=cutoff_quantiles, pairs=pairs,
                          grid_points=grid_points, pair_grid_points=pair_grid_points,
                          keep_trees=keep_trees)
    return method.fit(x, y, space, group=group, response=response,
                      rows_excluded=rows_excluded)
