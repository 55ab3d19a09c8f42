"""Where a study's fits run, and that the numbers never depend on it."""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest

import odyssey_analysis.study as study_module
from odyssey_analysis import SearchSpace, TrialTable, analyze
from odyssey_analysis.methods import FanovaMethod, method_from_options
from odyssey_analysis.space import Hyperparameter
from odyssey_analysis.study import (
    FIT_COSTS,
    PROCESS_MIN_WORK,
    FitCost,
    FitPlan,
    fit_cost,
    plan_fits,
)
from odyssey_analysis.surrogate import RandomForestSurrogate

SPACE = SearchSpace((Hyperparameter("a", "float", 0.0, 1.0),
                     Hyperparameter("b", "float", 0.0, 1.0),
                     Hyperparameter("c", "int", 1, 8)))


def table(groups: int = 4, n: int = 80, seed: int = 0) -> TrialTable:
    rng = np.random.default_rng(seed)
    m = groups * n
    a, b = rng.uniform(size=m), rng.uniform(size=m)
    c = rng.integers(1, 9, m)
    frame = pd.DataFrame({"task": [f"t{i % groups}" for i in range(m)], "a": a, "b": b,
                          "c": c, "loss": np.sin(4 * a) + a * b + 0.1 * c
                          + rng.normal(0, 0.05, m)})
    return TrialTable.from_frame(frame, hyperparameters=["a", "b", "c"], responses=["loss"],
                                 group_by=["task"], space=SPACE)


def test_small_studies_run_here_on_every_core():
    cores = joblib.cpu_count()
    assert plan_fits([300] * 6, 64) == FitPlan("here", 1, cores)
    assert plan_fits([10 ** 7], 64) == FitPlan("here", 1, cores)  # one fit: all cores
    assert plan_fits([300] * 6, 64, n_jobs=1) == FitPlan("here", 1, 1)


def test_large_studies_spread_one_fit_per_worker_process():
    many = [PROCESS_MIN_WORK // 64] * 10
    plan = plan_fits(many, 64, n_jobs=4)
    assert plan == FitPlan("processes", 4, 1)
    assert plan_fits(many[:2], 64, n_jobs=4) == FitPlan("processes", 2, 2)
    assert plan_fits(many, 64, n_jobs=1) == FitPlan("here", 1, 1)
    assert plan_fits(many, 64, n_jobs=-2).workers == max(1, min(10, joblib.cpu_count() - 1))


def test_the_plan_uses_the_surrogates_own_cost():
    compiled, sklearn = FIT_COSTS["compiled"], FIT_COSTS["sklearn"]
    assert fit_cost(FanovaMethod(RandomForestSurrogate())) == sklearn
    from odyssey_analysis.forest import CompiledForestSurrogate

    assert fit_cost(FanovaMethod(CompiledForestSurrogate())) == compiled
    # Trials per fit at which each surrogate's fits start to pay for two workers; a
    # study between the two goes to workers on one surrogate only.
    n_trees, fits = 64, 8

    def least(cost: FitCost) -> float:
        return cost.process_min_work / (n_trees * fits) - cost.tree_overhead_trials

    cheaper, dearer = sorted((compiled, sklearn), key=least)
    assert least(dearer) - least(cheaper) > 10
    between = [int((least(cheaper) + least(dearer)) / 2)] * fits
    assert plan_fits(between, n_trees, 2, cost=cheaper) == FitPlan("processes", 2, 1)
    assert plan_fits(between, n_trees, 2, cost=dearer).where == "here"
    # Small compiled fits run on one thread each (threads cost them more than they save).
    small = int(compiled.thread_min_work // 64) - 1
    assert plan_fits([small] * 2, 64, 4, cost=compiled) == FitPlan("processes", 2, 1)
    assert plan_fits([small], 64, 4, cost=compiled) == FitPlan("here", 1, 1)
    big = small + 1
    assert plan_fits([big], 64, 4, cost=compiled) == FitPlan("here", 1, 4)
    assert plan_fits([big] * 2, 64, 4, cost=compiled) == FitPlan("processes", 2, 2)
    assert plan_fits([small] * 2, 64, 4, cost=sklearn) == FitPlan("processes", 2, 2)
    # A bootstrap's refits count: a small group with many trees gets the threads.
    assert plan_fits([200], 64 + 2 * 100 * 16, 4, cost=compiled) == FitPlan("here", 1, 4)
    # A surrogate may state its own cost; a method may too.
    free = FitCost(tree_overhead_trials=0, seconds_per_unit=1.0, worker_start_s=0.0)

    class Priced(RandomForestSurrogate):
        fit_cost = free

    assert fit_cost(FanovaMethod(Priced())) == free
    assert plan_fits([20] * 3, 4, 2, cost=free).where == "processes"
    assert free.process_min_work == 0.0
    assert sklearn.process_min_work == pytest.approx(2 * sklearn.worker_start_s
                                                     / sklearn.seconds_per_unit)


def test_a_backend_set_by_the_caller_gets_one_task_per_fit():
    with joblib.parallel_config(backend="threading"):
        assert plan_fits([50] * 3, 8) == FitPlan("backend", -1, 1)
        assert plan_fits([50] * 3, 8, n_jobs=2) == FitPlan("backend", 2, 1)


@pytest.mark.parametrize("how", ["processes", "threads backend"])
def test_every_plan_gives_the_same_bits(how, monkeypatch):
    t = table()
    options = dict(method=method_from_options(n_trees=12, grid_points=5, pair_grid_points=4))
    here = analyze(t, n_jobs=1, **options)
    if how == "processes":
        free = FitCost(tree_overhead_trials=0, seconds_per_unit=1.0, worker_start_s=0.0)
        monkeypatch.setattr(study_module, "fit_cost", lambda method: free)
        assert plan_fits([80] * 4, 12, n_jobs=2, cost=free).where == "processes"
        other = analyze(t, n_jobs=2, **options)
    else:
        with joblib.parallel_config(backend="threading", n_jobs=2):
            other = analyze(t, **options)
    all_cores = analyze(t, **options)
    for result in (other, all_cores):
        pd.testing.assert_frame_equal(result.importance_table(), here.importance_table(),
                                      check_exact=True)
        for key, fit in here.results.items():
            np.testing.assert_array_equal(fit.pair_variance, result.results[key].pair_variance)
            assert fit.oob_r2 == result.results[key].oob_r2
