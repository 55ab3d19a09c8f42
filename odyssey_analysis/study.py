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

import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np

from ._threads import fit_threads
from .design import assess_design
from .errors import FitQualityWarning, InputError
from .methods import METHODS, ImportanceMethod, method_from_options
from .methods.fanova import decompose_forest, fit_and_decompose
from .methods.options import method_options
from .params import Interval, ParameterError, check
from .quality import warn_fit_quality
from .result import StudyResult
from .space import SearchSpace
from .surrogate import ForestSettings, surrogate_name
from .trials import TrialTable

#: Fewest trials a group needs before a forest is fitted to it.
MIN_TRIALS = 10


@dataclass(frozen=True)
class FitCost:
    """What one fit of the default method costs on a surrogate, for :func:`plan_fits`.

    A fit's work is its trials × trees, each tree counted as ``tree_overhead_trials``
    trials more; ``seconds_per_unit`` turns work into CPU seconds of one core, and
    ``worker_start_s`` is the CPU a worker process spends before its first fit
    (Python, the package, the surrogate's library, its compiled code).

    Attributes
    ----------
    tree_overhead_trials
        Fixed cost of a tree (growing, reading, decomposing it), in trials.
    seconds_per_unit
        CPU seconds per trial × tree.
    worker_start_s
        CPU seconds to start a worker process.
    thread_min_work
        Least work of one fit (its trials × its trees, bootstrap refits included) for
        which its own threads pay; smaller fits run on one thread each (0: every fit
        gets the cores the plan has for it).
    """

    tree_overhead_trials: float
    seconds_per_unit: float
    worker_start_s: float
    thread_min_work: float = 0

    @property
    def process_min_work(self) -> float:
        """Least work for which two worker processes beat fitting here: the work whose
        time on one core is twice a worker's start-up (on two workers it then takes
        half that time plus one start-up, as long as here)."""
        return 2.0 * self.worker_start_s / self.seconds_per_unit


#: Costs by surrogate name (:func:`~odyssey_analysis.surrogate.surrogate_name`),
#: measured for the default method (64 trees, 4 hyperparameters, 50-1,000 trials, one
#: thread, signal test included) on a 2-core x86-64 machine by ``benchmarks/
#: bench_fanova.py --sections costs``, the mean of two runs under load: scikit-learn's
#: forest 14.3 µs per trial and tree, 155 trials' worth per tree, 3.4 s to start a
#: worker (scikit-learn's imports); the compiled forest 9.3 µs, 35 trials, 2.5 s (its
#: kernels loaded from Numba's cache). Small groups are where the two differ most: a
#: compiled tree's fixed cost is a quarter of scikit-learn's. The compiled forest's
#: fits of up to 1,000 trials ran 1.3-7× slower (wall) on two threads than on one,
#: and one of 5,400 trials no faster, on the shared 2-core machine: its fits get
#: threads from 5,000 trials × 64 trees of work on (a bootstrap's refits count, and
#: they run many forests per call); scikit-learn's always, as before.
#: A surrogate not named here may carry its own ``fit_cost``; else scikit-learn's
#: numbers are used.
FIT_COSTS: dict[str, FitCost] = {
    "sklearn": FitCost(tree_overhead_trials=155, seconds_per_unit=14.3e-6,
                       worker_start_s=3.4),
    "compiled": FitCost(tree_overhead_trials=35, seconds_per_unit=9.3e-6,
                        worker_start_s=2.5, thread_min_work=5000 * 64),
}
#: The cost assumed for a surrogate of unknown cost.
DEFAULT_COST = FIT_COSTS["sklearn"]
#: scikit-learn's forest's overhead per tree, in trials (:class:`FitCost`).
TREE_OVERHEAD_TRIALS = DEFAULT_COST.tree_overhead_trials
#: The work (trials × trees, summed over fits) below which scikit-learn's fits stay in
#: this process (:attr:`FitCost.process_min_work`).
PROCESS_MIN_WORK = int(DEFAULT_COST.process_min_work)

__all__ = ["DEFAULT_COST", "FIT_COSTS", "MIN_TRIALS", "PROCESS_MIN_WORK",
           "TREE_OVERHEAD_TRIALS", "FitCost", "FitPlan", "analyze", "decompose_forest",
           "fit_and_decompose", "fit_cost", "plan_fits", "resolve_method"]


def analyze(
    table: TrialTable,
    method: ImportanceMethod | str | None = None,
    *,
    space: SearchSpace | None = None,
    response: str | Sequence[str] | None = None,
    group_by: Sequence[str] | None = None,
    min_trials: int = MIN_TRIALS,
    n_jobs: int | None = None,
    progress: Callable[[Any], None] | None = None,
    **deprecated: Any,
) -> StudyResult:
    """Importance of every hyperparameter for every response in every group.

    Parameters
    ----------
    table
        The trials.
    method
        The importance method, which holds every setting of a fit: an object following
        :class:`~odyssey_analysis.methods.ImportanceMethod` (e.g.
        ``FanovaMethod(RandomForestSurrogate(ForestSettings(n_trees=128)),
        n_bootstrap=100)``), or a name from :data:`~odyssey_analysis.methods.METHODS`
        with its default settings. Default: :class:`~odyssey_analysis.methods.FanovaMethod`
        with default settings.
    space
        The search space (measure); default: the table's recorded space, else inferred.
    response
        One response or several; default: all of the table's responses.
    group_by
        Group keys; default: the table's.
    min_trials
        Groups with fewer trials are an error (a forest on a handful of points says
        nothing).
    n_jobs
        Cores to use (``None``: all; negative: all but ``-n_jobs - 1``, as in joblib;
        ``1``: one thread of this process). The work of the study decides how
        (:func:`plan_fits`): work is trials × trees summed over fits, each tree
        counted as some trials more, in the surrogate's own :class:`FitCost`
        (:func:`fit_cost`). Below the work that takes two worker processes' start-up
        on one core (about 5 s for scikit-learn's forest), or with a single fit, the
        fits run one after another in this process, each building and reading its
        trees on all the cores; above it they are spread over that many worker
        processes, one fit per worker at a time, each on one core (a fit gets more
        threads when there are fewer fits than cores). A fit of less work than its
        surrogate's :attr:`FitCost.thread_min_work` always runs on one thread. A
        joblib backend set by the caller (``with joblib.parallel_config(backend=
        "dask"): ...``) takes precedence: every fit is
        one task there, and builds its trees inside that task. Results do not depend
        on any of this, bit for bit.
    progress
        Called with each finished result (e.g. to advance a bar).
    **deprecated
        The flat settings of earlier releases (``n_trees``, ``seed``, ``pairs``,
        ``n_bootstrap``, ...; see :func:`~odyssey_analysis.methods.method_from_options`)
        still build the method, with a :class:`FutureWarning`; they go in the next
        release. ``keep_forest`` is the older name of ``keep_trees``.

    Returns
    -------
    StudyResult

    Warns
    -----
    FutureWarning
        For the flat settings, and for the search space given second (by position).
    """
    if isinstance(method, SearchSpace):
        if space is not None:
            raise TypeError("analyze() got the search space twice")
        warnings.warn("analyze(table, space) is deprecated: the second argument is the "
                      "method; pass analyze(table, space=space)", FutureWarning, stacklevel=2)
        method, space = None, method
    check("min_trials", min_trials, [Interval(Integral, 1, None)])
    check("n_jobs", n_jobs, [Interval(Integral, None, None), None])
    chosen = resolve_method(method, deprecated, caller="analyze")
    space = table.resolve_space(space)
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
            raise ParameterError(f"group {label} has {len(rows)} trial(s); at least "
                                 f"{min_trials} ({{min_trials}}) are needed to fit a forest",
                                 parameters=("min_trials",), file=table.source,
                                 hint="add trials, merge groups, or lower {min_trials}")
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
    plan = plan_fits([len(job[1][1]) for job in jobs], _trees_per_fit(chosen), n_jobs,
                     cost=fit_cost(chosen))
    results: dict[tuple[tuple, str], Any] = {}
    with warnings.catch_warnings():  # the fits' own; the study gives one for all of them
        warnings.simplefilter("ignore", FitQualityWarning)
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
        "design": assess_design(table, space),
    }
    warn_fit_quality(results.values())
    return StudyResult(results, keys, responses, space, info, method=chosen.to_dict())




def resolve_method(method: ImportanceMethod | str | None, deprecated: dict[str, Any], *,
                   caller: str) -> ImportanceMethod:
    """The method asked for; flat settings of earlier releases build it with a warning.

    Parameters
    ----------
    method
        A method object, a method's name, or ``None`` (the default method).
    deprecated
        Flat settings given to ``caller`` (see
        :func:`~odyssey_analysis.methods.method_from_options`).
    caller
        The function's name, for the messages.
    """
    options = dict(deprecated)
    if "keep_forest" in options:
        if "keep_trees" in options:
            raise TypeError(f"{caller}() got keep_trees and its older name keep_forest")
        options["keep_trees"] = options.pop("keep_forest")
    known = {k for name in METHODS for k in method_options(name)}
    unknown = sorted(k for k in options if k not in known)
    if unknown:
        raise TypeError(f"{caller}() got an unexpected keyword argument {unknown[0]!r}")
    if options and method is not None and not isinstance(method, str):
        raise TypeError(f"with a method object, its settings go into the object (e.g. "
                        f"FanovaMethod(RandomForestSurrogate(ForestSettings(...)), "
                        f"pairs=False)), not into {caller}()")
    if options:
        given = ", ".join(deprecated)
        warnings.warn(f"{caller}() keywords {given} are deprecated and go in the next "
                      "release: the settings belong to the method, e.g. "
                      f"{caller}(table, FanovaMethod(RandomForestSurrogate(ForestSettings("
                      "n_trees=...)), n_bootstrap=...))", FutureWarning, stacklevel=3)
    if method is None or isinstance(method, str):
        return method_from_options(method, **options)
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


def plan_fits(n_trials: Sequence[int], n_trees: int, n_jobs: int | None = None, *,
              cost: FitCost | None = None) -> FitPlan:
    """Decide where fits of ``n_trials`` trials each, ``n_trees`` trees each, run.

    ``cost`` is the surrogate's (default: :data:`DEFAULT_COST`, scikit-learn's forest).
    See ``n_jobs`` of :func:`analyze` for the rule.
    """
    cost = DEFAULT_COST if cost is None else cost
    n_fits = len(n_trials)
    if "joblib" in sys.modules:  # else no caller can have chosen a backend
        from joblib.parallel import BACKENDS, DEFAULT_BACKEND, get_active_backend

        backend, _ = get_active_backend()
        if not isinstance(backend, BACKENDS[DEFAULT_BACKEND]):
            # The caller chose a backend (Dask, threads, ...): one task per fit there.
            return FitPlan("backend", -1 if n_jobs is None else n_jobs, 1)
    if n_jobs is not None and n_jobs > 0:
        cores = n_jobs
    else:
        from joblib import cpu_count

        cores = cpu_count() if n_jobs is None else max(1, cpu_count() + 1 + n_jobs)
    work = (sum(n_trials) + n_fits * cost.tree_overhead_trials) * n_trees
    threaded = max(n_trials, default=0) * n_trees >= cost.thread_min_work
    if n_fits <= 1 or cores == 1 or work < cost.process_min_work:
        return FitPlan("here", 1, cores if threaded else 1)
    workers = min(cores, n_fits)
    return FitPlan("processes", workers, max(1, cores // workers) if threaded else 1)


def fit_cost(method: ImportanceMethod) -> FitCost:
    """The cost of a fit of ``method``: its own ``fit_cost``, else its surrogate's, else
    the one :data:`FIT_COSTS` gives the surrogate's name, else :data:`DEFAULT_COST`."""
    own = getattr(method, "fit_cost", None)
    if isinstance(own, FitCost):
        return own
    surrogate = getattr(method, "surrogate", None)
    declared = getattr(surrogate, "fit_cost", None)
    if isinstance(declared, FitCost):
        return declared
    if surrogate is None:
        return DEFAULT_COST
    return FIT_COSTS.get(surrogate_name(surrogate), DEFAULT_COST)


def _trees_per_fit(method: ImportanceMethod) -> int:
    """Trees a fit of ``method`` grows (its own property, else its surrogate's)."""
    own = getattr(method, "trees_per_fit", None)
    if own is not None:
        return int(own)
    surrogate = getattr(method, "surrogate", None)
    settings = getattr(surrogate, "settings", None)
    return int(getattr(settings, "n_trees", ForestSettings.n_trees))


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
