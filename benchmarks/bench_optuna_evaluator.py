"""Optuna's ``get_param_importances`` with our evaluator against Optuna's own fANOVA.

Run ``python benchmarks/bench_optuna_evaluator.py [--out FILE.md]``. One run builds one
Optuna study (random sampler, 1,000 trials by default) over the synthetic sweep of
``bench_fanova.py`` (log-uniform learning rate, log-uniform integer width, two uniform
floats), then times

    optuna.importance.get_param_importances(study, evaluator=...)

with :class:`odyssey_analysis.integrations.optuna.FanovaImportanceEvaluator` (its
default, the compiled forest, and ``surrogate="sklearn"``, scikit-learn's forest) and
with ``optuna.importance.FanovaImportanceEvaluator``, all with the same number of trees
(64) and seed. Each call does the whole job: reading the trials, fitting the forest and
computing the main effects. Ours is timed after one warm-up call (which loads the
compiled kernels) as the best of ``--repeats`` calls; Optuna's, being slow, once.
Times are wall-clock and process CPU seconds (run it with ``NUMBA_NUM_THREADS=1`` for
one thread's); results go to stdout and, with ``--out``, to a Markdown file, with the
load average before and after.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from pathlib import Path

import numpy as np
import optuna

from odyssey_analysis import _kernels
from odyssey_analysis.integrations.optuna import FanovaImportanceEvaluator


def sweep_objective(seed: int):
    """The synthetic sweep of bench_fanova.py as an Optuna objective (noise seeded per trial)."""

    def objective(trial: optuna.Trial) -> float:
        lr = trial.suggest_float("learning_rate", 1e-5, 1e-1, log=True)
        width = trial.suggest_int("width", 16, 1024, log=True)
        dropout = trial.suggest_float("dropout", 0.0, 0.8)
        decay = trial.suggest_float("weight_decay", 0.0, 0.1)
        u = math.log10(lr) + 3
        noise = np.random.default_rng([seed, trial.number]).normal(0, 0.05)
        return (0.5 * u ** 2 - 0.1 * math.log2(width) + 0.3 * dropout * (u > 0)
                + 2 * decay * dropout + noise)

    return objective


def make_study(n_trials: int, seed: int = 0) -> optuna.Study:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    study.optimize(sweep_objective(seed), n_trials=n_trials)
    return study


def timed(study: optuna.Study, evaluator: optuna.importance.BaseImportanceEvaluator
          ) -> tuple[float, float, dict[str, float]]:
    """Wall and CPU seconds of one ``get_param_importances`` call, and its result."""
    w0, c0 = time.perf_counter(), time.process_time()
    importances = optuna.importance.get_param_importances(study, evaluator=evaluator)
    return time.perf_counter() - w0, time.process_time() - c0, importances


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--trees", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    load_before = os.getloadavg()
    study = make_study(args.trials, args.seed)
    timings = {}
    for surrogate in (None, "sklearn"):
        ours_eval = FanovaImportanceEvaluator(n_trees=args.trees, seed=args.seed,
                                              surrogate=surrogate)
        first_wall, _, _ = timed(study, ours_eval)  # warm-up: loads the compiled kernels
        runs = [timed(study, ours_eval) for _ in range(args.repeats)]
        timings[surrogate] = (min(r[0] for r in runs), min(r[1] for r in runs), runs[0][2],
                              first_wall)
    ours_wall, ours_cpu, ours, first_wall = timings[None]
    sk_wall, sk_cpu, sk, _ = timings["sklearn"]
    theirs_eval = optuna.importance.FanovaImportanceEvaluator(n_trees=args.trees,
                                                              seed=args.seed)
    theirs_wall, theirs_cpu, theirs = timed(study, theirs_eval)

    lines = [
        f"# Optuna importance evaluators ({platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, Optuna {optuna.__version__}, "
        f"compiled kernels: {_kernels.COMPILED})", "",
        f"`optuna.importance.get_param_importances(study, evaluator=...)` on one study of "
        f"{args.trials} trials (random sampler, 4 parameters), {args.trees} trees, seed "
        f"{args.seed}. Ours: best of {args.repeats} after a warm-up call "
        f"({first_wall:.2f} s); Optuna's: one call. Load average "
        f"{load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after.", "",
        "| evaluator | wall s | CPU s |", "|---|---|---|",
        f"| odyssey_analysis FanovaImportanceEvaluator (default: compiled forest) | "
        f"{ours_wall:.3f} | {ours_cpu:.3f} |",
        f"| odyssey_analysis FanovaImportanceEvaluator(surrogate=\"sklearn\") | "
        f"{sk_wall:.3f} | {sk_cpu:.3f} |",
        f"| optuna FanovaImportanceEvaluator | {theirs_wall:.2f} | {theirs_cpu:.2f} |", "",
        f"Optuna / ours: {theirs_wall / ours_wall:.0f}× (wall), "
        f"{theirs_cpu / max(ours_cpu, 1e-9):.0f}× (CPU); with scikit-learn's forest "
        f"{theirs_cpu / max(sk_cpu, 1e-9):.0f}× (CPU).", "",
        "Normalised importances (ours integrate each parameter under its sampling "
        "distribution, Optuna's the raw values uniformly):", "",
        "| parameter | ours | ours, scikit-learn's forest | Optuna |", "|---|---|---|---|",
    ]
    lines += [f"| {name} | {ours[name]:.3f} | {sk[name]:.3f} | {float(theirs[name]):.3f} |"
              for name in ours]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
