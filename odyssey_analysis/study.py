"""A study: one importance fit per group and response, in parallel.

:func:`analyze` splits a trial table into its groups, encodes each group's trials with
the search space and hands them to an importance method (by default
:class:`~odyssey_analysis.methods.FanovaMethod`), one fit per group and response.
It knows nothing of what a method does inside; it only decides where the fits run
(:func:`plan_fits`): one after another in this process, each on every core, or one per
worker process through joblib, or as one task each on the joblib backend the caller
set (Dask, for instance).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._threads import fit_threads
from .errors import InputError
from .estimators import DEFAULT_ESTIMATOR
from .methods import METHODS, FanovaMethod, ImportanceMethod
from .methods.fanova import decompose_forest, fit_and_decompose
from .result import StudyResult
from .space import SearchSpace
from .surrogate import ForestSettings, RandomForestSurrogate
from .trials import TrialTable

#: Fewest trials a group needs before a forest is fitted to it.
MIN_TRIALS = 10
#: A fit's work, in trials × trees, counts each tree as this many trials more: fitting
#: and reading a tree costs a fixed ~2 ms on top of ~3.5 µs per trial (scikit-learn's
#: per-tree set-up dominates small groups). Measured on a 2-core x86-64 machine.
TREE_OVERHEAD_TRIALS = 600
#: Below this much work (summed over fits; about 5 s on one core) the fits run in this
#: process, each on every core; above it they are spread over worker processes. A
#: worker costs ~2.5 s of CPU to start (Python, scikit-learn, the compiled kernels), so
#: below this the start-up would eat the gain.
PROCESS_MIN_WORK = 1_500_000
#: Trees assumed per fit when the method does not say (a method object of its own).
DEFAULT_TREES = 64

__all__ = ["MIN_TRIALS", "PROCESS_MIN_WORK", "TREE_OVERHEAD_TRIALS", "FitPlan", "analyze",
           "decompose_forest", "fit_and_decompose", "plan_fits"]


def analyze(
    table: TrialTable,
    space: SearchSpace | None = None,
    response: str | Sequence[str] | None = None,
    group_by: Sequence[str] | None = None,
    n_trees: int = 64,
    seed: int = 0,
    *,
    method: ImportanceMethod | str | None = None,
    max_depth: int | None = None,
    min_samples_split: int = 2,
    min_samples_leaf: int | None = None,
    max_features: float | int | str = 1.0,
    bootstrap: bool = True,
    cutoffs: tuple[float, float] | None = None,
    cutoff_quantiles: tuple[float, float] | None = None,
    pairs: bool = True,
    curves: bool = True,
    grid_points: int = 50,
    pair_grid_points: int = 24,
    min_trials: int = MIN_TRIALS,
    n_jobs: int | None = None,
    keep_trees: bool = False,
    keep_forest: bool | None = None,
    estimator: str = DEFAULT_ESTIMATOR,
    n_bootstrap: int = 0,
    conf_level: float = 0.9,
    top_quantile: float | None = None,
    progress: Callable[[Any], None] | None = None,
) -> StudyResult:
    """Importance of every hyperparameter for every response in every group.

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
        Forest settings (see :class:`~odyssey_analysis.surrogate.ForestSettings`) of the
        default method. ``min_samples_leaf`` defaults to 2 with a bootstrap (the
        setting the intervals were calibrated with), else 1.
    method
        The importance method: an object following
        :class:`~odyssey_analysis.methods.ImportanceMethod`, or a name from
        :data:`~odyssey_analysis.methods.METHODS`. Default (``None`` or ``"fanova"``):
        :class:`~odyssey_analysis.methods.FanovaMethod` with the forest settings and the
        options below; ``"local"`` (or any ``top_quantile``):
        :class:`~odyssey_analysis.methods.LocalFanovaMethod`. A method object brings its
        own settings; the forest options must then be left at their defaults.
    cutoffs, cutoff_quantiles
        Clamp leaf values by value or by quantiles of each group's observed response.
    pairs
        Compute pairwise effects (on by default).
    curves
        Store marginal curves and pair grids (for figures; off saves time).
    grid_points, pair_grid_points
        Resolution of the stored marginal curves and pair grids.
    min_trials
        Groups with fewer trials are an error (a forest on a handful of points says
        nothing).
    n_jobs
        Cores to use (``None``: all; negative: all but ``-n_jobs - 1``, as in joblib;
        ``1``: one thread of this process). The work of the study decides how
        (:func:`plan_fits`): work is trials × trees summed over fits, each tree
        counted as :data:`TREE_OVERHEAD_TRIALS` trials more. Below
        :data:`PROCESS_MIN_WORK` (about 5 s on one core), or with a single fit, the
        fits run one after another in this process, each building and reading its
        trees on all the cores; above it they are spread over that many worker
        processes, one fit per worker at a time, each on one core (a fit gets more
        threads when there are fewer fits than cores). A joblib backend set by the caller (``with
        joblib.parallel_config(backend="dask"): ...``) takes precedence: every fit is
        one task there, and builds its trees inside that task. Results do not depend
        on any of this, bit for bit.
    keep_trees
        Keep each fit's trees (leaf boxes) on its result, for closed fractions of three
        or more hyperparameters. ``keep_forest`` is the older name.
    estimator
        ``"blend"`` (default), ``"forest-mean"``, ``"per-tree"`` or
        ``"per-tree-corrected"``; see
        :class:`~odyssey_analysis.methods.FanovaMethod`.
    n_bootstrap, conf_level
        Replicates for calibrated intervals (0: none) and their nominal coverage.
    top_quantile
        Local importance: what matters within the best ``top_quantile`` of each
        group's trials (each response's direction must be known).
    progress
        Called with each finished result (e.g. to advance a bar).

    Returns
    -------
    StudyResult
    """
    space = table.resolve_space(space)
    if min_samples_leaf is None:
        min_samples_leaf = 2 if n_bootstrap else 1
    chosen = _method(method, n_trees=n_trees, seed=seed, max_depth=max_depth,
                     min_samples_split=min_samples_split, min_samples_leaf=min_samples_leaf,
                     max_features=max_features, bootstrap=bootstrap,
                     top_quantile=top_quantile, cutoffs=cutoffs,
                     cutoff_quantiles=cutoff_quantiles, pairs=pairs, curves=curves,
                     grid_points=grid_points, pair_grid_points=pair_grid_points,
                     keep_trees=keep_trees if keep_forest is None else keep_forest,
                     estimator=estimator, n_bootstrap=n_bootstrap, conf_level=conf_level)
    responses = ([response] if isinstance(response, str) else
                 list(response) if response is not None else list(table.responses))
    for r in responses:
        if r not in table.frame.columns:
            raise InputError("response column is missing", file=table.source, column=r)
    needs = getattr(chosen, "needs_direction", False)
    directions = {r: (table.direction(r, needed_for=f"{chosen.name} importance") if needs
                      else table.directions.get(r)) for r in responses}
    keys = list(table.group_keys if group_by is None else group_by)
    for k in keys:
        if k not in table.frame.columns:
            raise InputError("group key column is missing", file=table.source, column=k)
    grouped = (table.frame.groupby(keys, sort=True, observed=True, dropna=False) if keys
               else [((), table.frame)])
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
            jobs.append(((key, r), (x, y, group, r, excluded_here, directions[r])))
    plan = plan_fits([len(job[1][1]) for job in jobs], _trees_per_fit(chosen), n_jobs)
    results: dict[tuple[tuple, str], Any] = {}
    for (job_key, _), result in zip(jobs, _run(plan, chosen, space, jobs)):
        results[job_key] = result
        if progress is not None:
            progress(result)
    info = {
        "source": table.source,
        "rows_used": len(table.frame),
        "rows_excluded": table.n_excluded,
        "excluded_by_reason": table.excluded_counts(),
        "diverged_policy": table.diverged_policy,
        "crashed_policy": table.crashed_policy,
        "directions": {r: {"better": table.directions.get(r, "unknown"),
                           "from": table.direction_origins.get(r, "unknown")}
                       for r in responses},
        "notes": list(table.notes) + list(space.notes),
    }
    from .quality import warn_fit_quality

    warn_fit_quality(results.values())
    return StudyResult(results, keys, responses, space, info, method=chosen.to_dict())


_DEFAULT_OPTIONS = {"cutoffs": None, "cutoff_quantiles": None, "pairs": True, "curves": True,
                    "grid_points": 50, "pair_grid_points": 24, "keep_trees": False,
                    "estimator": DEFAULT_ESTIMATOR, "n_bootstrap": 0, "conf_level": 0.9}


def _method(method: ImportanceMethod | str | None, *, n_trees: int, seed: int,
            max_depth: int | None, min_samples_split: int, min_samples_leaf: int,
            max_features: float | int | str, bootstrap: bool,
            top_quantile: float | None, **options: Any) -> ImportanceMethod:
    """The method asked for; the default one is built from the forest settings."""
    settings = ForestSettings(n_trees=n_trees, max_depth=max_depth,
                              min_samples_split=min_samples_split,
                              min_samples_leaf=min_samples_leaf, max_features=max_features,
                              bootstrap=bootstrap, seed=seed)
    if method is None and top_quantile is not None:
        method = "local"
    if method is None or method == "fanova":
        if top_quantile is not None:
            raise InputError("--top-quantile belongs to the local method",
                             hint="drop --method fanova, or use --method local")
        return FanovaMethod(RandomForestSurrogate(settings), **options)
    if isinstance(method, str):
        if method not in METHODS:
            raise InputError(f"unknown importance method {method!r}",
                             hint=f"use one of {', '.join(METHODS)}")
        if top_quantile is not None:
            options["top_quantile"] = top_quantile
        return METHODS[method](RandomForestSurrogate(settings), **options)
    if (settings != ForestSettings() or options != _DEFAULT_OPTIONS
            or top_quantile is not None):
        raise TypeError("with a method object, its settings go into the object "
                        "(e.g. FanovaMethod(RandomForestSurrogate(ForestSettings(...)), "
                        "pairs=False)), not into analyze()")
    return method


@dataclass(frozen=True)
class FitPlan:
    """Where a study's fits run.

    Attributes
    ----------
    where
        ``"here"`` (one after another in this process), ``"processes"`` (joblib's
        worker processes) or ``"backend"`` (the joblib backend the caller set).
    workers
        Fits running at once (``-1``: as many as the backend runs).
    threads
        Threads each fit may use.
    """

    where: str
    workers: int
    threads: int


def plan_fits(n_trials: Sequence[int], n_trees: int, n_jobs: int | None = None) -> FitPlan:
    """Decide where fits of ``n_trials`` trials each, ``n_trees`` trees each, run.

    See ``n_jobs`` of :func:`analyze` for the rule.
    """
    from joblib import cpu_count
    from joblib.parallel import BACKENDS, DEFAULT_BACKEND, get_active_backend

    n_fits = len(n_trials)
    backend, _ = get_active_backend()
    if not isinstance(backend, BACKENDS[DEFAULT_BACKEND]):
        # The caller chose a backend (Dask, threads, ...): one task per fit there.
        return FitPlan("backend", -1 if n_jobs is None else n_jobs, 1)
    cores = cpu_count()
    if n_jobs is not None:
        cores = n_jobs if n_jobs > 0 else max(1, cores + 1 + n_jobs)
    work = (sum(n_trials) + n_fits * TREE_OVERHEAD_TRIALS) * n_trees
    if n_fits <= 1 or cores == 1 or work < PROCESS_MIN_WORK:
        return FitPlan("here", 1, cores)
    workers = min(cores, n_fits)
    return FitPlan("processes", workers, max(1, cores // workers))


def _trees_per_fit(method: ImportanceMethod) -> int:
    """Trees a fit of ``method`` grows (its own property, else its surrogate's)."""
    own = getattr(method, "trees_per_fit", None)
    if own is not None:
        return int(own)
    surrogate = getattr(method, "surrogate", None)
    settings = getattr(surrogate, "settings", None)
    return int(getattr(settings, "n_trees", DEFAULT_TREES))


def _run(plan: FitPlan, method: ImportanceMethod, space: SearchSpace, jobs: list
         ) -> Iterator[Any]:
    """The fits' results, in the order of ``jobs``, as they finish."""
    calls = [call for _, call in jobs]
    if plan.where == "here":
        with fit_threads(plan.threads):
            for x, y, group, r, excl, direction in calls:
                yield method.fit(x, y, space, group=group, response=r, rows_excluded=excl,
                                 direction=direction)
        return
    from joblib import Parallel, delayed

    # One fit per task: a fit is long enough, and on a cluster every fit is one task.
    runner = Parallel(n_jobs=plan.workers, return_as="generator",
                      batch_size=1 if plan.where == "backend" else "auto")
    fit = delayed(_fit_with_threads)
    yield from runner(fit(method, plan.threads, x, y, space, group, r, excl, direction)
                      for x, y, group, r, excl, direction in calls)


def _fit_with_threads(method: ImportanceMethod, threads: int, x: np.ndarray, y: np.ndarray,
                      space: SearchSpace, group: dict, response: str,
                      rows_excluded: dict, direction: str | None) -> Any:
    with fit_threads(threads):
        return method.fit(x, y, space, group=group, response=response,
                          rows_excluded=rows_excluded, direction=direction)
