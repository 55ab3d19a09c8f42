"""Side-by-side timing of the decomposition against Optuna and the reference fanova.

Run ``python benchmarks/bench_fanova.py`` (or ``make benchmark``). One run measures,
on the same synthetic sweep (PEERS.md: log-uniform learning rate, log-uniform integer
width, two uniform floats, random sampling):

* our forest fit, our 4 main effects and our 6 pairs, for several trial counts;
* Optuna's ``FanovaImportanceEvaluator`` (main effects only) on the same data and tree
  count, where Optuna is installed;
* the reference ``fanova`` package where it is installed (optional: it needs SWIG and a
  compiler, and its licence is non-commercial), with its main effects compared to ours;
* peak memory of fit + full decomposition at a large trial count, in a child process.

Times are process CPU seconds of one thread (``time.process_time``), so other work on
the machine disturbs them less than wall time; the forest is fitted single-threaded.
Results go to stdout and, with ``--out``, to a Markdown file.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from odyssey_analysis import SearchSpace, _kernels
from odyssey_analysis.fanova import TreeDecomposition, leaf_boxes
from odyssey_analysis.space import Hyperparameter
from odyssey_analysis.surrogate import ForestSettings, fit_forest

SPACE = SearchSpace((
    Hyperparameter("learning_rate", "float", 1e-5, 1e-1, "log"),
    Hyperparameter("width", "int", 16, 1024, "log"),
    Hyperparameter("dropout", "float", 0.0, 0.8),
    Hyperparameter("weight_decay", "float", 0.0, 0.1),
))


def make_sweep(n: int, seed: int = 0) -> pd.DataFrame:
    """A synthetic sweep: a learning-rate valley, a width trend, small interactions."""
    rng = np.random.default_rng(seed)
    lr = 10 ** rng.uniform(-5, -1, n)
    width = np.round(np.exp(rng.uniform(np.log(15.5), np.log(1024.5), n))).clip(16, 1024)
    dropout = rng.uniform(0, 0.8, n)
    decay = rng.uniform(0, 0.1, n)
    u = np.log10(lr) + 3
    y = (0.5 * u ** 2 - 0.1 * np.log2(width) + 0.3 * dropout * (u > 0) + 2 * decay * dropout
         + rng.normal(0, 0.05, n))
    return pd.DataFrame({"learning_rate": lr, "width": width.astype(int), "dropout": dropout,
                         "weight_decay": decay, "y": y})


def time_ours(frame: pd.DataFrame, n_trees: int) -> dict:
    x = SPACE.encode(frame)
    y = frame["y"].to_numpy()
    t0 = time.process_time()
    fitted = fit_forest(x, y, ForestSettings(n_trees=n_trees, seed=0), n_jobs=1)
    fit_s = time.process_time() - t0
    main_s = pair_s = 0.0
    main, pairs, var = [], [], []
    for est in fitted.forest.estimators_:  # one tree at a time: bounded memory
        t1 = time.process_time()
        dec = TreeDecomposition(leaf_boxes(est.tree_, x.shape[1]))
        main.append([dec.main_variance(j) for j in range(4)])
        t2 = time.process_time()
        pairs.append([dec.pair_variance(j, k)[0] for j, k in combinations(range(4), 2)])
        t3 = time.process_time()
        var.append(dec.variance)
        main_s += t2 - t1
        pair_s += t3 - t2
    main, pairs, var = np.array(main), np.array(pairs), np.array(var)
    frac = main / var[:, None]
    return {"fit": fit_s, "mains": main_s, "pairs": pair_s,
            "main_fraction": frac.mean(axis=0), "main_std": frac.std(axis=0),
            "pair_fraction": (pairs / var[:, None]).mean(axis=0)}


def time_optuna(frame: pd.DataFrame, n_trees: int) -> dict | None:
    try:
        import optuna
        from optuna.importance import FanovaImportanceEvaluator
    except ImportError:
        return None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = {
        "learning_rate": optuna.distributions.FloatDistribution(1e-5, 1e-1, log=True),
        "width": optuna.distributions.IntDistribution(16, 1024, log=True),
        "dropout": optuna.distributions.FloatDistribution(0.0, 0.8),
        "weight_decay": optuna.distributions.FloatDistribution(0.0, 0.1),
    }
    study = optuna.create_study()
    trials = [optuna.trial.create_trial(
        params={"learning_rate": float(r.learning_rate), "width": int(r.width),
                "dropout": float(r.dropout), "weight_decay": float(r.weight_decay)},
        distributions=dists, value=float(r.y)) for r in frame.itertuples()]
    study.add_trials(trials)
    evaluator = FanovaImportanceEvaluator(n_trees=n_trees, seed=0)
    t0 = time.process_time()
    imp = optuna.importance.get_param_importances(study, evaluator=evaluator, normalize=False)
    t1 = time.process_time()
    return {"mains": t1 - t0, "importance": imp}


def time_reference_fanova(frame: pd.DataFrame, n_trees: int, pairs: bool) -> dict | None:
    try:
        import numpy

        if not hasattr(numpy, "float"):
            numpy.float = float  # noqa: NPY001 - the reference still uses the removed alias
        from ConfigSpace import ConfigurationSpace, UniformFloatHyperparameter
        from fanova import fANOVA
    except ImportError:
        return None
    x = SPACE.encode(frame)
    cs = ConfigurationSpace()
    cs.add([UniformFloatHyperparameter(n, 0.0, 1.0) for n in SPACE.names])
    t0 = time.process_time()
    # All features per split, as our forest does (the reference defaults to 7/10).
    f = fANOVA(x, frame["y"].to_numpy(), config_space=cs, n_trees=n_trees, seed=0,
               max_features=x.shape[1])
    t1 = time.process_time()
    mains = {n: f.quantify_importance((j,))[(j,)]["individual importance"]
             for j, n in enumerate(SPACE.names)}
    t2 = time.process_time()
    out = {"fit": t1 - t0, "mains": t2 - t1, "importance": mains}
    if pairs:
        for j, k in combinations(range(4), 2):
            f.quantify_importance((j, k))
        out["pairs"] = time.process_time() - t2
    return out


def memory_child(n: int, n_trees: int) -> None:
    """Fit and decompose fully at ``n`` trials; print peak RSS in MiB as JSON."""
    frame = make_sweep(n, seed=1)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.process_time()
    result = time_ours(frame, n_trees)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"n": n, "trees": n_trees, "peak_mib": peak / 1024,
                      "before_mib": base / 1024, "cpu_s": time.process_time() - t0,
                      "pairs_s": result["pairs"]}))


def fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 5400])
    parser.add_argument("--trees", type=int, default=64)
    parser.add_argument("--optuna-max", type=int, default=1000,
                        help="largest trial count to run Optuna on (it is slow)")
    parser.add_argument("--reference-pairs-max", type=int, default=1000,
                        help="largest trial count for the reference fanova's pairs")
    parser.add_argument("--memory-n", type=int, default=100_000)
    parser.add_argument("--skip-peers", action="store_true",
                        help="time only this package (e.g. with ODYSSEY_NO_NUMBA=1)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--memory-child", nargs=2, type=int, metavar=("N", "TREES"))
    args = parser.parse_args()
    if args.memory_child:
        memory_child(*args.memory_child)
        return

    time_ours(make_sweep(50), 2)  # load the compiled kernels before timing
    lines = [f"# Decomposition benchmark ({platform.processor() or platform.machine()}, "
             f"Python {platform.python_version()}, compiled kernels: {_kernels.COMPILED})", "",
             "CPU seconds, one thread. Ratios: peer time / our time for the same work.", "",
             "| trials | trees | our fit | our 4 mains | our 6 pairs | Optuna 4 mains | "
             "Optuna/ours (mains) | reference 4 mains | reference 6 pairs |",
             "|---|---|---|---|---|---|---|---|---|"]
    agreement = []
    for n in args.sizes:
        frame = make_sweep(n)
        ours = time_ours(frame, args.trees)
        peers = not args.skip_peers
        opt = time_optuna(frame, args.trees) if peers and n <= args.optuna_max else None
        ref = (time_reference_fanova(frame, args.trees, pairs=n <= args.reference_pairs_max)
               if peers else None)
        ratio = None if opt is None else opt["mains"] / max(ours["mains"], 1e-9)
        lines.append(
            f"| {n} | {args.trees} | {ours['fit']:.2f} | {ours['mains']:.3f} | "
            f"{ours['pairs']:.3f} | {fmt(opt and opt['mains'])} | "
            f"{'–' if ratio is None else f'{ratio:.0f}×'} | {fmt(ref and ref['mains'])} | "
            f"{fmt(ref and ref.get('pairs'))} |")
        print(lines[-1], flush=True)
        if ref is not None:
            for j, name in enumerate(SPACE.names):
                agreement.append((n, name, ours["main_fraction"][j], ours["main_std"][j],
                                  ref["importance"][name]))
    lines += ["", "Pairs plus mains against the fit (same thread):", ""]
    for n in args.sizes:
        frame = make_sweep(n)
        ours = time_ours(frame, args.trees)
        total = ours["mains"] + ours["pairs"]
        lines.append(f"- {n} trials: fit {ours['fit']:.2f} s, all 4 mains + 6 pairs "
                     f"{total:.2f} s ({total / ours['fit']:.2f}× the fit)")
        print(lines[-1], flush=True)
    if agreement:
        lines += ["", "Main effects, ours vs the reference fanova (same encoded data):", "",
                  "| trials | hyperparameter | ours (mean ± std over trees) | reference |",
                  "|---|---|---|---|"]
        lines += [f"| {n} | {name} | {m:.3f} ± {s:.3f} | {r:.3f} |"
                  for n, name, m, s, r in agreement]
    child = subprocess.run([sys.executable, __file__, "--memory-child", str(args.memory_n),
                            str(args.trees)], capture_output=True, text=True, check=True)
    mem = json.loads(child.stdout.strip().splitlines()[-1])
    lines += ["", f"Peak memory, fit + all mains and pairs at {mem['n']} trials, "
                  f"{mem['trees']} trees: {mem['peak_mib']:.0f} MiB "
                  f"({mem['cpu_s']:.0f} CPU s, pairs {mem['pairs_s']:.1f} s)"]
    print(lines[-1])
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
