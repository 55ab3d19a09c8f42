"""Where a study's fits run, and that the numbers never depend on it."""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest

import odyssey_analysis.study as study_module
from odyssey_analysis import SearchSpace, TrialTable, analyze
from odyssey_analysis.methods import method_from_options
from odyssey_analysis.space import Hyperparameter
from odyssey_analysis.study import PROCESS_MIN_WORK, FitPlan, plan_fits

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
        monkeypatch.setattr(study_module, "PROCESS_MIN_WORK", 0)
        assert plan_fits([80] * 4, 12, n_jobs=2).where == "processes"
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
