"""A study: one surrogate and one decomposition per group and response, in parallel."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations
from typing import Any

import numpy as np
from joblib import Parallel, delayed

from .errors import InputError
from .fanova import TreeDecomposition, leaf_boxes, zero_variance
from .result import FanovaResult, Marginal, PairGrid, StudyResult
from .space import Hyperparameter, SearchSpace
from .surrogate import LOW_OOB_R2, ForestSettings, fit_forest
from .trials import TrialTable

#: Fewest trials a group needs before a forest is fitted to it.
MIN_TRIALS = 10
#: With ``n_jobs=None``, fewer fits than this run in the calling process.
PARALLEL_MIN_FITS = 8


def grid_for(hp: Hyperparameter, points: int) -> np.ndarray:
    """Evaluation points in [0, 1] for ``hp``: level centres, or evenly spaced points.

    Even spacing in the encoded coordinate is even spacing under the sampling measure
    (log-spaced for a log-uniform hyperparameter).
    """
    if hp.is_constant:
        return np.array([0.5])
    if hp.kind in ("categorical", "ordinal"):
        edges = hp.level_edges()
        return 0.5 * (edges[:-1] + edges[1:])
    return np.linspace(0.0, 1.0, points)


def decompose_forest(
    forest: Any,
    space: SearchSpace,
    *,
    cutoffs: tuple[float, float] | None = None,
    pairs: bool = True,
    grid_points: int = 50,
    pair_grid_points: int = 24,
) -> dict[str, Any]:
    """Exact functional ANOVA of every tree of a fitted forest.

    Parameters
    ----------
    forest
        A fitted ``RandomForestRegressor`` (or anything with ``estimators_``) on inputs
        encoded by ``space``.
    space
        The search space; its encoding defines the measure.
    cutoffs
        Clamp leaf values into ``(low, high)`` first.
    pairs
        Compute pairwise effects and pair grids.
    grid_points, pair_grid_points
        Evaluation points per hyperparameter for the marginal curves and pair grids.

    Returns
    -------
    dict
        ``mean``, ``variance`` (per tree), ``main`` (trees × d), ``pair``
        (trees × d × d), ``marginals`` (name → (grid, per-tree values)), ``pairs``
        ((a, b) → (grid_a, grid_b, per-tree joint, per-tree interaction)).
    """
    hps = list(space)
    d = len(hps)
    trees = [e.tree_ for e in forest.estimators_]
    t = len(trees)
    mean = np.empty(t)
    variance = np.empty(t)
    main = np.zeros((t, d))
    pair = np.zeros((t, d, d))
    grids = [grid_for(hp, grid_points) for hp in hps]
    pgrids = [grid_for(hp, pair_grid_points) for hp in hps]
    curves = [np.empty((t, g.size)) for g in grids]
    pair_list = list(combinations(range(d), 2)) if pairs else []
    joint = {jk: np.empty((t, pgrids[jk[0]].size, pgrids[jk[1]].size)) for jk in pair_list}
    inter = {jk: np.empty_like(joint[jk]) for jk in pair_list}
    for i, tree in enumerate(trees):
        dec = TreeDecomposition(leaf_boxes(tree, d, cutoffs))
        mean[i], variance[i] = dec.mean, dec.variance
        for j in range(d):
            main[i, j] = dec.main_variance(j)
            curves[j][i] = dec.marginal_on(j, grids[j])
        on_pair_grid = [dec.marginal_on(j, pgrids[j]) for j in range(d)] if pairs else []
        for j, k in pair_list:
            if dec.variance > 0:
                pure, _ = dec.pair_variance(j, k)
                pair[i, j, k] = pair[i, k, j] = pure
            total = dec.pair_on(j, k, pgrids[j], pgrids[k])
            joint[(j, k)][i] = total
            inter[(j, k)][i] = (total - on_pair_grid[j][:, None] - on_pair_grid[k][None, :]
                                + dec.mean)
    return {
        "mean": mean, "variance": variance, "main": main, "pair": pair,
        "marginals": {hp.name: (grids[j], curves[j]) for j, hp in enumerate(hps)},
        "pairs": {(hps[j].name, hps[k].name): (pgrids[j], pgrids[k], joint[(j, k)],
                                               inter[(j, k)]) for j, k in pair_list},
    }


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
    keep_forest: bool = False,
    rows_excluded: dict[str, int] | None = None,
) -> FanovaResult:
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
    settings
        Forest settings.
    cutoffs
        Clamp leaf values into ``(low, high)`` (in response units).
    cutoff_quantiles
        Clamp into these quantiles of the observed ``y`` instead.
    pairs, grid_points, pair_grid_points
        See :func:`decompose_forest`.
    keep_forest
        Keep the fitted forest on the result (for further queries).
    rows_excluded
        The group's excluded trials counted by reason (recorded in ``fit``).

    Returns
    -------
    FanovaResult
    """
    settings = settings or ForestSettings()
    if cutoff_quantiles is not None:
        lo_q, hi_q = cutoff_quantiles
        if not 0.0 <= lo_q < hi_q <= 1.0:
            raise InputError("cutoff quantiles must satisfy 0 <= low < high <= 1")
        cutoffs = (float(np.quantile(y, lo_q)), float(np.quantile(y, hi_q)))
    fitted = fit_forest(x, y, settings)
    parts = decompose_forest(fitted.forest, space, cutoffs=cutoffs, pairs=pairs,
                             grid_points=grid_points, pair_grid_points=pair_grid_points)
    hps = list(space)
    marginals = {}
    for hp in hps:
        grid, per_tree = parts["marginals"][hp.name]
        marginals[hp.name] = Marginal(hp.name, hp.kind, hp.scale, grid, hp.decode(grid),
                                      per_tree.mean(axis=0), per_tree.std(axis=0))
    pair_grids = {}
    for (a, b), (ga, gb, joint, inter) in parts["pairs"].items():
        ha, hb = space[a], space[b]
        pair_grids[(a, b)] = PairGrid(
            (a, b), ha.decode(ga), hb.decode(gb), ha.scale, hb.scale, ha.kind, hb.kind,
            joint.mean(axis=0), joint.std(axis=0), inter.mean(axis=0), inter.std(axis=0))
    warnings = []
    if np.isfinite(fitted.oob_r2) and fitted.oob_r2 < LOW_OOB_R2:
        warnings.append(f"out-of-bag R² is {fitted.oob_r2:.2f}: the forest predicts unseen "
                        "trials poorly, so its decomposition is uncertain")
    n_zero = int(zero_variance(parts["variance"], parts["mean"]).sum())
    if n_zero == len(parts["variance"]):
        warnings.append("every tree is constant (the response does not vary): "
                        "fractions are undefined")
    elif n_zero:
        warnings.append(f"{n_zero} constant tree(s) skipped for the fractions")
    constant = [hp.name for hp in hps if hp.is_constant]
    if constant:
        warnings.append(f"constant hyperparameter(s) {', '.join(constant)}: effect 0")
    fit_info = {
        "forest": settings.to_dict(),
        "cutoffs": None if cutoffs is None else list(cutoffs),
        "n_zero_variance_trees": n_zero,
        "pairs_computed": pairs,
        "rows_used": len(y),
        "rows_excluded": dict(rows_excluded or {}),
    }
    return FanovaResult(
        group=dict(group or {}), response=response, hyperparameters=space.names,
        tree_mean=parts["mean"], tree_variance=parts["variance"],
        main_variance=parts["main"], pair_variance=parts["pair"], n_trials=len(y),
        oob_r2=fitted.oob_r2, marginals=marginals, pairs=pair_grids,
        measures=space.measures(), fit=fit_info, warnings=warnings,
        forest=fitted.forest if keep_forest else None)


def analyze(
    table: TrialTable,
    space: SearchSpace | None = None,
    response: str | Sequence[str] | None = None,
    group_by: Sequence[str] | None = None,
    n_trees: int = 64,
    seed: int = 0,
    *,
    max_depth: int | None = None,
    min_samples_split: int = 2,
    min_samples_leaf: int = 1,
    max_features: float | int | str = 1.0,
    bootstrap: bool = True,
    cutoffs: tuple[float, float] | None = None,
    cutoff_quantiles: tuple[float, float] | None = None,
    pairs: bool = True,
    grid_points: int = 50,
    pair_grid_points: int = 24,
    min_trials: int = MIN_TRIALS,
    n_jobs: int | None = None,
    keep_forest: bool = False,
    progress: Callable[[FanovaResult], None] | None = None,
) -> StudyResult:
    """Functional ANOVA of every response in every group of a trial table.

    Parameters
    ----------
    table
        The trials.
    space
        The search space (measure); default: the table's recorded space, else inferred.
    response
        One response or several; default: all of the table's responses.
    group_by
        Group keys; default: the table's.
    n_trees, seed, max_depth, min_samples_split, min_samples_leaf, max_features, bootstrap
        Forest settings (see :class:`~odyssey_analysis.surrogate.ForestSettings`).
    cutoffs, cutoff_quantiles
        Clamp leaf values by value or by quantiles of each group's observed response.
    pairs
        Compute pairwise effects (on by default).
    grid_points, pair_grid_points
        Resolution of the stored marginal curves and pair grids.
    min_trials
        Groups with fewer trials are an error (a forest on a handful of points says
        nothing).
    n_jobs
        Parallel fits through joblib (``None``: all cores when there are at least
        ``PARALLEL_MIN_FITS`` fits, else one; a Dask backend can be set with
        ``joblib.parallel_config``). Results do not depend on it.
    keep_forest
        Keep each fitted forest on its result.
    progress
        Called with each finished :class:`FanovaResult` (e.g. to advance a bar).

    Returns
    -------
    StudyResult
    """
    space = table.resolve_space(space)
    responses = ([response] if isinstance(response, str) else
                 list(response) if response is not None else list(table.responses))
    for r in responses:
        if r not in table.frame.columns:
            raise InputError("response column is missing", file=table.source, column=r)
    keys = list(table.group_keys if group_by is None else group_by)
    for k in keys:
        if k not in table.frame.columns:
            raise InputError("group key column is missing", file=table.source, column=k)
    grouped = (table.frame.groupby(keys, sort=True, observed=True, dropna=False) if keys
               else [((), table.frame)])
    settings = ForestSettings(n_trees=n_trees, max_depth=max_depth,
                              min_samples_split=min_samples_split,
                              min_samples_leaf=min_samples_leaf, max_features=max_features,
                              bootstrap=bootstrap, seed=seed)
    jobs = []
    for key, rows in grouped:
        key = key if isinstance(key, tuple) else (key,)
        group = dict(zip(keys, key))
        if len(rows) < min_trials:
            label = ", ".join(f"{k}={v}" for k, v in group.items()) or "the table"
            raise InputError(f"group {label} has {len(rows)} trial(s); at least {min_trials} "
                             "are needed to fit a forest", file=table.source,
                             hint="add trials, merge groups, or lower --min-trials")
        x = space.encode(rows)
        excluded_here = table.excluded_in_group(group)
        for r in responses:
            y = rows[r].to_numpy(dtype=float)
            finite = np.isfinite(y)
            if not finite.all():
                pos = int(np.flatnonzero(~finite)[0])
                raise InputError("non-finite response reached the analysis",
                                 file=table.source, row=int(rows.index[pos]), column=r)
            jobs.append(((key, r), delayed(fit_and_decompose)(
                x, y, space, group=group, response=r, settings=settings, cutoffs=cutoffs,
                cutoff_quantiles=cutoff_quantiles, pairs=pairs, grid_points=grid_points,
                pair_grid_points=pair_grid_points, keep_forest=keep_forest,
                rows_excluded=excluded_here)))
    # Worker processes take seconds to start; a handful of fits is quicker in this one.
    workers = (1 if len(jobs) < PARALLEL_MIN_FITS else -1) if n_jobs is None else n_jobs
    results: dict[tuple[tuple, str], FanovaResult] = {}
    runner = Parallel(n_jobs=workers, return_as="generator")
    for (job_key, _), result in zip(jobs, runner(job for _, job in jobs)):
        results[job_key] = result
        if progress is not None:
            progress(result)
    info = {
        "source": table.source,
        "rows_used": len(table.frame),
        "rows_excluded": table.n_excluded,
        "excluded_by_reason": table.excluded_counts(),
        "diverged_policy": table.diverged_policy,
        "notes": list(table.notes) + list(space.notes),
    }
    return StudyResult(results, keys, responses, space, info)
