"""Side-by-side timing of the decomposition, the whole pipeline and its peers.

Run ``python benchmarks/bench_fanova.py`` (or ``make benchmark``). One run measures, on
the same synthetic sweep (PEERS.md: log-uniform learning rate, log-uniform integer
width, two uniform floats, random sampling), section by section (``--sections``):

``sizes``
    our forest fit, our 4 main effects and our 6 pairs for several trial counts, next
    to Optuna's ``FanovaImportanceEvaluator`` (main effects only) and, where it is
    installed, the reference ``fanova`` (optional: it needs SWIG and a compiler, and its
    licence is non-commercial), whose main effects are compared to ours;
``optuna``
    Optuna's evaluator at 1,000 trials (its fit + mains) against ours end to end (fit,
    out-of-bag R², all mains and all pairs);
``d20``
    20 hyperparameters at 5,400 trials: all 20 mains and all 190 pairs against the fit;
``memory``
    wall time and peak memory of fit + all mains and pairs at 100,000 trials, in a child
    process;
``meta``
    a meta-study of 500 groups × 200 trials through ``analyze`` end to end, in a child
    process;
``meta-pair``
    the meta-study (``--meta-pair GROUPS TRIALS``) through ``analyze`` with the default
    method on the compiled forest and on scikit-learn's, one after the other in one
    child process, in CPU seconds of one thread (``n_jobs=1``, ``NUMBA_NUM_THREADS=1``);
``costs``
    what :func:`odyssey_analysis.study.plan_fits` assumes of each surrogate
    (:data:`odyssey_analysis.study.FIT_COSTS`): the default method's CPU seconds per
    fit at 50, 200 and 1,000 trials, fitted as seconds per trial × tree plus a fixed
    cost per tree, and the CPU a fresh process spends importing the package and making
    its first (tiny) fit;
``cli``
    ``odyssey --help``, ``odyssey info data/odyssey_mini.csv`` and ``odyssey analyze`` on
    one 5,400-trial group, against a bare scikit-learn fit of the same forest on the same
    cores;
``report``
    the whole ``odyssey report`` on the bundled study.

Single-thread work is timed in process CPU seconds (``time.process_time``: other work on
the machine disturbs it less than wall time); whole commands and multi-core runs in wall
seconds, as the median of ``--repeat`` runs. The load average before and after is
printed, since wall times on a shared machine depend on it. The script runs against
older versions of the package too (``PYTHONPATH=... python benchmarks/bench_fanova.py``),
for before/after tables. Results go to stdout and, with ``--out``, to a Markdown file.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from odyssey_analysis import SearchSpace, fanova
from odyssey_analysis.space import Hyperparameter
from odyssey_analysis.surrogate import ForestSettings, fit_forest

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("sizes", "optuna", "d20", "memory", "meta", "meta-pair", "costs", "cli",
            "report")
#: Named results of the sections run (``--json`` prints them; ``--baseline`` compares).
METRICS: dict[str, float] = {}
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


def wide_sweep(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``d`` uniform hyperparameters, a few of which matter (encoded inputs, response)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, d))
    y = (np.sin(4 * x[:, 0]) + x[:, 1] * x[:, 2] + 0.3 * x[:, 3:].sum(axis=1)
         + rng.normal(0, 0.1, n))
    return x, y


# -- version-independent access to the engine ------------------------------------------
def read_trees(forest, d: int) -> list:
    """The forest's leaf boxes (one pass where this version has it)."""
    reader = getattr(fanova, "forest_leaf_boxes", None)
    if reader is not None:
        return reader([e.tree_ for e in forest.estimators_], d)
    return [fanova.leaf_boxes(e.tree_, d) for e in forest.estimators_]


def decompose(trees: list, pairs: bool) -> None:
    """All mains (and pairs) of every tree on one thread."""
    fanova.decompose_trees(trees, pairs=pairs)


def cpu(fn) -> float:
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def median_wall(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} cores"


def main_fractions(trees: list) -> tuple[np.ndarray, np.ndarray]:
    parts = fanova.decompose_trees(trees, pairs=False)
    frac = parts.main / parts.variance[:, None]
    return frac.mean(axis=0), frac.std(axis=0)


# -- sizes --------------------------------------------------------------------------
def time_ours(frame: pd.DataFrame, n_trees: int) -> dict:
    """Fit, all mains, all pairs on one thread (CPU seconds)."""
    x = SPACE.encode(frame)
    y = frame["y"].to_numpy()
    box = {}
    fit_s = cpu(lambda: box.update(f=fit_forest(x, y, ForestSettings(n_trees=n_trees, seed=0),
                                                n_jobs=1)))
    read_s = cpu(lambda: box.update(trees=read_trees(box["f"].forest, x.shape[1])))
    mains_s = cpu(lambda: decompose(box["trees"], pairs=False))
    both_s = cpu(lambda: decompose(box["trees"], pairs=True))
    mean, std = main_fractions(box["trees"])
    return {"fit": fit_s, "read": read_s, "mains": read_s + mains_s,
            "pairs": max(both_s - mains_s, 0.0), "main_fraction": mean, "main_std": std}


def optuna_study(frame: pd.DataFrame):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = {
        "learning_rate": optuna.distributions.FloatDistribution(1e-5, 1e-1, log=True),
        "width": optuna.distributions.IntDistribution(16, 1024, log=True),
        "dropout": optuna.distributions.FloatDistribution(0.0, 0.8),
        "weight_decay": optuna.distributions.FloatDistribution(0.0, 0.1),
    }
    study = optuna.create_study()
    study.add_trials([optuna.trial.create_trial(
        params={"learning_rate": float(r.learning_rate), "width": int(r.width),
                "dropout": float(r.dropout), "weight_decay": float(r.weight_decay)},
        distributions=dists, value=float(r.y)) for r in frame.itertuples()])
    return study


def time_optuna(frame: pd.DataFrame, n_trees: int) -> dict | None:
    """Optuna's own evaluator: its forest fit and its main effects (CPU seconds)."""
    try:
        import optuna
        from optuna.importance import FanovaImportanceEvaluator
    except ImportError:
        return None
    study = optuna_study(frame)
    evaluator = FanovaImportanceEvaluator(n_trees=n_trees, seed=0)
    t0 = time.process_time()
    imp = optuna.importance.get_param_importances(study, evaluator=evaluator, normalize=False)
    return {"mains": time.process_time() - t0, "importance": imp}


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


def fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def section_sizes(args) -> list[str]:
    lines = ["## Engine by trial count", "",
             "CPU seconds, one thread, 64 trees. Ratios: peer time / our time for the same "
             "work (mains include reading the trees).", "",
             "| trials | our fit | our 4 mains | our 6 pairs | mains + pairs / fit | "
             "Optuna 4 mains | Optuna/ours (mains) | reference 4 mains | reference 6 pairs |",
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
        both = (ours["mains"] + ours["pairs"]) / ours["fit"]
        METRICS.update({f"fit {n} (CPU s)": ours["fit"], f"4 mains {n} (CPU s)": ours["mains"],
                        f"6 pairs {n} (CPU s)": ours["pairs"]})
        if opt is not None:
            METRICS[f"Optuna / our 4 mains {n} (×)"] = ratio
        lines.append(
            f"| {n} | {ours['fit']:.2f} | {ours['mains']:.3f} | {ours['pairs']:.3f} | "
            f"{both:.2f}× | {fmt(opt and opt['mains'])} | "
            f"{'–' if ratio is None else f'{ratio:.0f}×'} | {fmt(ref and ref['mains'])} | "
            f"{fmt(ref and ref.get('pairs'))} |")
        print(lines[-1], flush=True)
        if ref is not None:
            for j, name in enumerate(SPACE.names):
                agreement.append((n, name, ours["main_fraction"][j], ours["main_std"][j],
                                  ref["importance"][name]))
    if agreement:
        lines += ["", "Main effects, ours vs the reference fanova (same encoded data):", "",
                  "| trials | hyperparameter | ours (mean ± std over trees) | reference |",
                  "|---|---|---|---|"]
        lines += [f"| {n} | {name} | {m:.3f} ± {s:.3f} | {r:.3f} |"
                  for n, name, m, s, r in agreement]
    return lines


# -- Optuna at 1,000 trials, end to end ----------------------------------------------
def ours_end_to_end(x: np.ndarray, y: np.ndarray, space: SearchSpace, n_trees: int) -> None:
    """Fit, out-of-bag R², all mains and all pairs, one thread, no curves: the default
    method on the default surrogate (scikit-learn's forest on versions without one)."""
    from odyssey_analysis import FanovaMethod, RandomForestSurrogate

    try:
        from odyssey_analysis.surrogate import make_surrogate
    except ImportError:  # an older version, run as the baseline
        surrogate = RandomForestSurrogate(ForestSettings(n_trees=n_trees), n_jobs=1)
    else:  # one thread outside a study
        surrogate = make_surrogate(None, ForestSettings(n_trees=n_trees))
    method = FanovaMethod(surrogate, pairs=True, curves=False)
    method.fit(x, y, space)


def section_optuna(args) -> list[str]:
    frame = make_sweep(args.optuna_n)
    x, y = SPACE.encode(frame), frame["y"].to_numpy()
    ours_end_to_end(x[:50], y[:50], SPACE, 4)  # loads the compiled kernels
    ours = statistics.median(cpu(lambda: ours_end_to_end(x, y, SPACE, args.trees))
                             for _ in range(args.repeat))
    cli = cli_cpu(frame, args.trees, args.repeat)
    opt = time_optuna(frame, args.trees)
    lines = ["## Optuna's evaluator against ours, end to end", ""]
    if opt is None:
        return lines + ["Optuna is not installed."]
    METRICS.update({f"odyssey analyze {args.optuna_n}, one thread (CPU s)": cli,
                    f"Optuna / odyssey analyze {args.optuna_n} (×)": opt["mains"] / cli})
    METRICS.update({f"Optuna fit + mains {args.optuna_n} (CPU s)": opt["mains"],
                    f"ours end to end {args.optuna_n} (CPU s)": ours,
                    f"Optuna / ours end to end {args.optuna_n} (×)": opt["mains"] / ours})
    lines += [f"{args.optuna_n} trials, {args.trees} trees, one thread, CPU seconds: Optuna's "
              f"FanovaImportanceEvaluator (fit + 4 mains) {opt['mains']:.2f} s; ours (fit + "
              f"out-of-bag R² + 4 mains + 6 pairs) {ours:.3f} s: "
              f"**{opt['mains'] / ours:.0f}×** faster. Through the command line "
              f"(`odyssey analyze sweep.csv --jobs 1 --out DIR` with "
              f"`NUMBA_NUM_THREADS=1`: the whole default analysis, the process's start-up, "
              f"reading, figures and files included; best of {args.repeat}) {cli:.2f} CPU "
              f"s: **{opt['mains'] / cli:.0f}×**."]
    print(lines[-1], flush=True)
    return lines


def cli_cpu(frame: pd.DataFrame, n_trees: int, repeat: int) -> float:
    """CPU seconds (user + system) of ``odyssey analyze`` on ``frame``, one thread."""
    env = dict(os.environ, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    best = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "sweep.csv"
        frame.rename(columns={"y": "loss"}).to_csv(csv, index=False)
        for i in range(repeat + 1):  # the first run fills Numba's cache if it is empty
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([sys.executable, "-m", "odyssey_analysis", "analyze", str(csv),
                            "--jobs", "1", "--trees", str(n_trees), "--out",
                            str(Path(tmp) / f"out{i}")], check=True, capture_output=True,
                           cwd=tempfile.gettempdir(), env=env)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if i:
                best = min(best, after.ru_utime + after.ru_stime
                           - before.ru_utime - before.ru_stime)
    return best


# -- 20 hyperparameters --------------------------------------------------------------
def section_d20(args) -> list[str]:
    x, y = wide_sweep(args.d20_n, 20)
    box = {}
    fit_s = cpu(lambda: box.update(f=fit_forest(x, y, ForestSettings(n_trees=args.trees),
                                                n_jobs=1)))
    read_s = cpu(lambda: box.update(trees=read_trees(box["f"].forest, 20)))
    decompose(box["trees"][:1], pairs=True)  # loads the compiled kernels
    mains_s = cpu(lambda: decompose(box["trees"], pairs=False))
    both_s = cpu(lambda: decompose(box["trees"], pairs=True))
    total = read_s + both_s
    METRICS.update({"d=20 fit (CPU s)": fit_s, "d=20 all mains + 190 pairs (CPU s)": total,
                    "d=20 mains + pairs / fit (×)": total / fit_s})
    lines = ["## 20 hyperparameters", "",
             f"{args.d20_n} trials, 20 uniform hyperparameters, {args.trees} trees, one "
             f"thread, CPU seconds: fit {fit_s:.2f} s; reading the trees {read_s:.2f} s, all "
             f"20 mains {mains_s:.2f} s, all 190 pairs {both_s - mains_s:.2f} s; mains + "
             f"pairs together **{total / fit_s:.2f}× the fit**."]
    print(lines[-1], flush=True)
    return lines


# -- 100,000 trials: time and memory -------------------------------------------------
def peak_mib() -> float:
    """This process's peak resident memory (MiB), from VmHWM where Linux gives it
    (``ru_maxrss`` would count the parent's memory at the fork)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_child(n: int, n_trees: int) -> None:
    """Fit and decompose fully at ``n`` trials on all cores; print time and peak RSS."""
    from odyssey_analysis import FanovaMethod, RandomForestSurrogate

    frame = make_sweep(n, seed=1)
    x, y = SPACE.encode(frame), frame["y"].to_numpy()
    base = peak_mib()
    method = FanovaMethod(RandomForestSurrogate(ForestSettings(n_trees=n_trees),
                                                n_jobs=os.cpu_count()),
                          pairs=True, curves=False)
    try:  # this version's way of giving the decomposition the cores, where it has one
        from odyssey_analysis._threads import fit_threads
    except ImportError:
        from contextlib import nullcontext as fit_threads
    w0, c0 = time.perf_counter(), time.process_time()
    with fit_threads(os.cpu_count()):
        method.fit(x, y, SPACE)
    wall, cpu_s = time.perf_counter() - w0, time.process_time() - c0
    print(json.dumps({"n": n, "trees": n_trees, "peak_mib": peak_mib(), "before_mib": base,
                      "wall_s": wall, "cpu_s": cpu_s}))


def section_memory(args) -> list[str]:
    child = subprocess.run([sys.executable, __file__, "--memory-child", str(args.memory_n),
                            str(args.trees)], capture_output=True, text=True, check=True)
    mem = json.loads(child.stdout.strip().splitlines()[-1])
    METRICS.update({f"{mem['n']} trials: peak memory (MiB)": mem["peak_mib"],
                    f"{mem['n']} trials: wall (s)": mem["wall_s"]})
    lines = ["## 100,000 trials", "",
             f"Fit + out-of-bag R² + all mains and pairs at {mem['n']} trials, {mem['trees']} "
             f"trees, all cores, in a child process: {mem['wall_s']:.1f} s wall "
             f"({mem['cpu_s']:.1f} CPU s), peak memory **{mem['peak_mib']:.0f} MiB** "
             f"({mem['before_mib']:.0f} MiB before the fit)."]
    print(lines[-1], flush=True)
    return lines


# -- a meta-study ---------------------------------------------------------------------
def meta_child(groups: int, trials: int, n_trees: int) -> None:
    """``analyze`` end to end over ``groups`` groups of ``trials`` trials; print wall time."""
    from odyssey_analysis import TrialTable, analyze

    frame = make_sweep(groups * trials, seed=2)
    frame["task"] = [f"g{i % groups:04d}" for i in range(len(frame))]
    table = TrialTable.from_frame(frame, hyperparameters=SPACE.names, responses=["y"],
                                  group_by=["task"], space=SPACE)
    try:
        from odyssey_analysis.methods import method_from_options
    except ImportError:  # an older version, run as the baseline, takes flat keywords
        options: dict = {"n_trees": n_trees}
    else:
        options = {"method": method_from_options(n_trees=n_trees)}
    t0 = time.perf_counter()
    study = analyze(table, **options)
    print(json.dumps({"fits": len(study), "wall_s": time.perf_counter() - t0}))


def section_meta(args) -> list[str]:
    groups, trials = args.meta
    child = subprocess.run([sys.executable, __file__, "--meta-child", str(groups), str(trials),
                            str(args.trees)], capture_output=True, text=True, check=True)
    res = json.loads(child.stdout.strip().splitlines()[-1])
    METRICS[f"meta-study {groups} × {trials}: analyze wall (s)"] = res["wall_s"]
    lines = ["## A meta-study", "",
             f"`analyze` end to end (default options and plan, curves included) over "
             f"{groups} groups × {trials} trials ({res['fits']} fits, {args.trees} trees "
             f"each), in a child process: **{res['wall_s']:.1f} s** wall."]
    print(lines[-1], flush=True)
    return lines


def meta_table(groups: int, trials: int):
    """The meta-study's trial table: ``groups`` groups of ``trials`` trials."""
    from odyssey_analysis import TrialTable

    frame = make_sweep(groups * trials, seed=2)
    frame["task"] = [f"g{i % groups:04d}" for i in range(len(frame))]
    return TrialTable.from_frame(frame, hyperparameters=SPACE.names, responses=["y"],
                                 group_by=["task"], space=SPACE)


def meta_pair_child(groups: int, trials: int, n_trees: int) -> None:
    """CPU seconds of the meta-study on each forest, one thread; print them as JSON."""
    from odyssey_analysis import analyze
    from odyssey_analysis.methods import FanovaMethod
    from odyssey_analysis.surrogate import ForestSettings, make_surrogate

    table = meta_table(groups, trials)
    warm = meta_table(2, 50)
    out = {}
    for name in ("compiled", "sklearn"):
        method = FanovaMethod(make_surrogate(name, ForestSettings(n_trees=n_trees)))
        analyze(warm, method, n_jobs=1)  # imports and compiled kernels
        t0 = time.process_time()
        analyze(table, method, n_jobs=1)
        out[name] = time.process_time() - t0
    print(json.dumps(out))


def section_meta_pair(args) -> list[str]:
    groups, trials = args.meta_pair
    env = dict(os.environ, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    child = subprocess.run([sys.executable, __file__, "--meta-pair-child", str(groups),
                            str(trials), str(args.trees)], capture_output=True, text=True,
                           check=True, env=env)
    res = json.loads(child.stdout.strip().splitlines()[-1])
    ratio = res["compiled"] / res["sklearn"]
    METRICS[f"meta-study {groups} × {trials}: compiled CPU (s)"] = res["compiled"]
    METRICS[f"meta-study {groups} × {trials}: scikit-learn CPU (s)"] = res["sklearn"]
    METRICS[f"meta-study {groups} × {trials}: compiled / scikit-learn (×)"] = ratio
    lines = ["## A meta-study on each forest", "",
             f"`analyze(table, FanovaMethod(make_surrogate(name, ForestSettings(n_trees="
             f"{args.trees}))), n_jobs=1)` over {groups} groups × {trials} trials, one "
             "thread, CPU seconds:", "",
             "| compiled forest | scikit-learn's forest | compiled / scikit-learn |",
             "|---|---|---|",
             f"| {res['compiled']:.1f} | {res['sklearn']:.1f} | {ratio:.2f}× |"]
    print("\n".join(lines[2:]), flush=True)
    return lines


COST_CHILD = """
import sys
sys.path.insert(0, {bench!r})
from bench_fanova import SPACE, make_sweep
from odyssey_analysis.methods import FanovaMethod
from odyssey_analysis.surrogate import make_surrogate
f = make_sweep(20, 3)
FanovaMethod(make_surrogate({name!r})).fit(SPACE.encode(f), f["y"].to_numpy(), SPACE)
"""


def section_costs(args) -> list[str]:
    from odyssey_analysis._threads import fit_threads
    from odyssey_analysis.methods import FanovaMethod
    from odyssey_analysis.surrogate import ForestSettings, make_surrogate

    sizes = (50, 200, 1000)
    lines = ["## What a fit costs, for the study's plan", "",
             f"The default method, {args.trees} trees, one thread, CPU seconds per fit "
             f"(best of {args.repeat}); fitted as `trees × (trials + overhead) × unit`; "
             "worker start-up: CPU of a fresh process that imports the package and fits "
             "20 trials (best of 3).", "",
             "| surrogate | " + " | ".join(f"{n} trials (s)" for n in sizes)
             + " | unit (µs per trial·tree) | overhead (trials per tree) | worker start (s) |",
             "|---" * (len(sizes) + 4) + "|"]
    env = dict(os.environ, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    for name in ("compiled", "sklearn"):
        method = FanovaMethod(make_surrogate(name, ForestSettings(n_trees=args.trees)))
        warm = make_sweep(50, 9)
        method.fit(SPACE.encode(warm), warm["y"].to_numpy(), SPACE)
        seconds = []
        for n in sizes:
            frame = make_sweep(n, 1)
            x, y = SPACE.encode(frame), frame["y"].to_numpy()
            fit = functools.partial(method.fit, x, y, SPACE)
            with fit_threads(1):
                seconds.append(min(cpu(fit) for _ in range(args.repeat)))
        unit, fixed = np.polyfit(np.array(sizes, float), np.array(seconds) / args.trees, 1)
        start = []
        code = COST_CHILD.format(bench=str(Path(__file__).parent), name=name)
        for _ in range(3):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([sys.executable, "-c", code], check=True, env=env)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            start.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        METRICS[f"{name}: µs per trial·tree"] = unit * 1e6
        METRICS[f"{name}: overhead trials per tree"] = fixed / unit
        METRICS[f"{name}: worker start-up (CPU s)"] = min(start)
        lines.append(f"| {name} | " + " | ".join(f"{t:.3f}" for t in seconds)
                     + f" | {unit * 1e6:.2f} | {fixed / unit:.0f} | {min(start):.2f} |")
        print(lines[-1], flush=True)
    return lines


# -- the command line -----------------------------------------------------------------
BARE_FIT = """
import sys, time
import pandas as pd
from sklearn.ensemble import RandomForestRegressor
f = pd.read_csv(sys.argv[1]); y = f.pop("loss").to_numpy(); x = f.to_numpy(float)
x = (x - x.min(0)) / (x.max(0) - x.min(0))
t0 = time.perf_counter()
RandomForestRegressor(int(sys.argv[2]), max_features=1.0, random_state=0, n_jobs=-1).fit(x, y)
print(time.perf_counter() - t0)
"""
BARE_START = """
import sys
import pandas as pd
f = pd.read_csv(sys.argv[1])
"""


def odyssey(*argv: str) -> None:
    # Run outside the checkout: ``python -m`` puts the working folder first on the path,
    # which would shadow the package being measured (PYTHONPATH).
    subprocess.run([sys.executable, "-m", "odyssey_analysis", *argv], check=True,
                   capture_output=True, cwd=tempfile.gettempdir())


def section_cli(args) -> list[str]:
    r = args.repeat
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "one_group.csv"
        make_sweep(5400).rename(columns={"y": "loss"}).to_csv(csv, index=False)
        help_s = median_wall(lambda: odyssey("--help"), r)
        info_mini = median_wall(lambda: odyssey("info", str(ROOT / "data" / "odyssey_mini.csv")),
                                r)
        info_s = median_wall(lambda: odyssey("info", str(csv)), r)
        analyze_s = median_wall(lambda: odyssey("analyze", str(csv), "--out",
                                                str(Path(tmp) / "out")), r)
        fits = [float(subprocess.run([sys.executable, "-c", BARE_FIT, str(csv),
                                      str(args.trees)], capture_output=True, text=True,
                                     check=True).stdout) for _ in range(r)]
        bare_fit = statistics.median(fits)
        bare_process = median_wall(lambda: subprocess.run(
            [sys.executable, "-c", BARE_FIT, str(csv), str(args.trees)], check=True,
            capture_output=True), r)
        bare_start = median_wall(lambda: subprocess.run(
            [sys.executable, "-c", BARE_START, str(csv)], check=True, capture_output=True), r)
    extra = analyze_s - info_s
    METRICS.update({
        "odyssey --help (s)": help_s, "odyssey info data/odyssey_mini.csv (s)": info_mini,
        "odyssey info, one 5,400-trial group (s)": info_s,
        "odyssey analyze, the same group (s)": analyze_s,
        "bare scikit-learn fit, same cores (s)": bare_fit,
        "analyze − info (s)": extra, "(analyze − info) / bare fit (×)": extra / bare_fit,
        "(analyze − info) / (bare script − its start-up) (×)":
            extra / max(bare_process - bare_start, 1e-9)})
    lines = ["## The command line", "",
             f"Wall seconds, median of {r}, all cores ({os.cpu_count()}).", "",
             "| command | wall s |", "|---|---|",
             f"| `odyssey --help` | {help_s:.2f} |",
             f"| `odyssey info data/odyssey_mini.csv` | {info_mini:.2f} |",
             f"| `odyssey info` one 5,400-trial group | {info_s:.2f} |",
             f"| `odyssey analyze` the same group ({args.trees} trees) | {analyze_s:.2f} |",
             f"| bare scikit-learn fit of the same forest (`n_jobs=-1`, in process) | "
             f"{bare_fit:.2f} |",
             f"| bare scikit-learn script (import pandas and scikit-learn, read, fit) | "
             f"{bare_process:.2f} |",
             f"| the same without scikit-learn and the fit (import pandas, read) | "
             f"{bare_start:.2f} |", "",
             f"`odyssey analyze` minus `odyssey info`: {extra:.2f} s = "
             f"**{extra / bare_fit:.2f}× the bare fit**; against the bare script minus its "
             f"start-up (scikit-learn's import and the fit, {bare_process - bare_start:.2f} s):"
             f" {extra / max(bare_process - bare_start, 1e-9):.2f}×."]
    for line in lines[5:]:
        print(line, flush=True)
    return lines


def section_report(args) -> list[str]:
    walls = {}
    with tempfile.TemporaryDirectory() as tmp:
        for bootstrap in ("100", "0"):  # the default (calibrated intervals), then none
            walls[bootstrap] = median_wall(
                lambda b=bootstrap: odyssey("report", "--out", str(Path(tmp) / f"r{b}"),
                                            "--bootstrap", b), args.report_repeat)
    METRICS["odyssey report, bundled study (s)"] = walls["100"]
    METRICS["odyssey report --bootstrap 0, bundled study (s)"] = walls["0"]
    lines = ["## The whole report", "",
             f"`odyssey report` on the bundled study (81 fits, every figure), median of "
             f"{args.report_repeat}, {load()}: **{walls['100']:.1f} s** wall with calibrated "
             f"intervals (the default, `--bootstrap 100`), {walls['0']:.1f} s with "
             "`--bootstrap 0`."]
    print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 5400])
    parser.add_argument("--trees", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (median)")
    parser.add_argument("--report-repeat", type=int, default=1)
    parser.add_argument("--optuna-max", type=int, default=1000,
                        help="largest trial count to run Optuna on (it is slow)")
    parser.add_argument("--optuna-n", type=int, default=1000)
    parser.add_argument("--reference-pairs-max", type=int, default=1000,
                        help="largest trial count for the reference fanova's pairs")
    parser.add_argument("--d20-n", type=int, default=5400)
    parser.add_argument("--memory-n", type=int, default=100_000)
    parser.add_argument("--meta", type=int, nargs=2, default=[500, 200],
                        metavar=("GROUPS", "TRIALS"))
    parser.add_argument("--meta-pair", type=int, nargs=2, default=[500, 200],
                        metavar=("GROUPS", "TRIALS"))
    parser.add_argument("--skip-peers", action="store_true",
                        help="time only this package (e.g. with ODYSSEY_NO_NUMBA=1)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--json", action="store_true",
                        help="print the sections' named results as JSON (last line)")
    parser.add_argument("--baseline", type=Path, default=None, metavar="ROOT",
                        help="compare with the package under ROOT (a checkout of an older "
                             "version): every section runs for both, alternately, in "
                             "child processes")
    parser.add_argument("--memory-child", nargs=2, type=int, metavar=("N", "TREES"))
    parser.add_argument("--meta-child", nargs=3, type=int, metavar=("GROUPS", "TRIALS", "TREES"))
    parser.add_argument("--meta-pair-child", nargs=3, type=int,
                        metavar=("GROUPS", "TRIALS", "TREES"))
    args = parser.parse_args()
    if args.memory_child:
        memory_child(*args.memory_child)
        return
    if args.meta_child:
        meta_child(*args.meta_child)
        return
    if args.meta_pair_child:
        meta_pair_child(*args.meta_pair_child)
        return
    if args.baseline:
        compare(args)
        return

    time_ours(make_sweep(50), 2)  # load the compiled kernels before timing
    from odyssey_analysis import _kernels

    version = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                             capture_output=True, text=True).stdout.strip()
    lines = [f"# Benchmark ({platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} cores, Python {platform.python_version()}, compiled kernels: "
             f"{_kernels.COMPILED}, package from "
             f"{Path(inspect.getfile(fanova)).parents[1]} at {version or '?'})", "",
             f"Before: {load()}.", ""]
    print(lines[-2], flush=True)
    for name in args.sections:
        lines += globals()[f"section_{name.replace('-', '_')}"](args) + [""]
    lines.append(f"After: {load()}.")
    print(lines[-1])
    if args.json:
        print(json.dumps(METRICS))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def compare(args) -> None:
    """Each section for the baseline and this checkout, alternately; a before/after table."""
    passed = [a for a in sys.argv[1:] if a not in ("--json",)]
    skip = {"--baseline", "--out", "--sections"}
    child_args, i = [], 0
    while i < len(passed):  # drop the options that only this comparison reads
        if passed[i] in skip:
            i += 1
            while i < len(passed) and not passed[i].startswith("--"):
                i += 1
            continue
        child_args.append(passed[i])
        i += 1
    roots = {"before": args.baseline.resolve(), "after": ROOT}
    results: dict[str, dict[str, float]] = {"before": {}, "after": {}}
    lines = [f"# Before/after ({platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} cores, Python {platform.python_version()})", "",
             f"Before = {roots['before']}, after = {roots['after']}; each section ran for "
             "both, one after the other, in child processes.", "", f"Start: {load()}.", ""]
    print("\n".join(lines), flush=True)
    for section in args.sections:
        for name, root in roots.items():
            env = dict(os.environ, PYTHONPATH=str(root))
            out = subprocess.run([sys.executable, __file__, "--sections", section, "--json",
                                  *child_args], capture_output=True, text=True, env=env,
                                 check=True, cwd=tempfile.gettempdir())
            results[name].update(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"{section} {name}: done ({load()})", flush=True)
    lines += ["| measure | before | after | after / before |", "|---|---|---|---|"]
    for key in results["after"]:
        b, a = results["before"].get(key), results["after"][key]
        ratio = f"{a / b:.2f}" if b else "–"
        lines.append(f"| {key} | {'–' if b is None else f'{b:.3g}'} | {a:.3g} | {ratio} |")
    lines += ["", f"End: {load()}."]
    print("\n".join(lines[6:]))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
