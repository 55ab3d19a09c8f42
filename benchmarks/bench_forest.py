"""The compiled forest against scikit-learn's, side by side in one run.

Run ``python benchmarks/bench_forest.py`` (``--quick`` for a smaller meta-study, ``--out
FILE.md`` to append the table to a Markdown file). Every row does the same work with both
surrogates, through the :class:`~odyssey_analysis.surrogate.Surrogate` protocol: fit the
trees, compute the out-of-bag R² and hand every tree over as leaf boxes:

* one forest of 64 trees on 200 trials × 4 hyperparameters, 1,000 × 9 and 5,400 × 9;
* a 100-replicate bootstrap: 200 forests of 16 trees, each also predicting at the
  4,096 points its fractions are integrated on (the refits of one ``--bootstrap 100``
  fit), at 200 and at 1,000 trials; the compiled forest fits them through ``fit_many``;
* a meta-study: 500 groups × 200 trials × 64 trees (``--quick``: 50 groups), the
  compiled forests through one ``fit_many``;
* ``odyssey analyze`` end to end on one group of 200 trials, in a child process, as CPU
  seconds of that process (imports, compilation cache, fit and output);
* with ``--sections memory``, the peak resident memory of a child process that fits the
  compiled forest on 100,000 trials × 4 hyperparameters with 64 trees; with
  ``--sections compile``, a first fit in a fresh process with an empty and a filled
  kernel cache; with ``--sections interval-fit``, one
  ``FanovaMethod(n_bootstrap=100).fit`` on 200 trials × 4 hyperparameters (one an
  integer, split on its cells), compiled forest, one thread.

Work in this process runs on one thread (``NUMBA_NUM_THREADS=1``, ``n_jobs=1``) and is
timed in process CPU seconds, the best of ``--repeat`` runs, after one warm-up fit of
each surrogate (so compilation is not counted; the first run after installing compiles
the kernels once, see ``--sections compile``).
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # one core: set before Numba loads

import argparse  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from odyssey_analysis.forest import CompiledForestSurrogate  # noqa: E402
from odyssey_analysis.surrogate import ForestSettings, RandomForestSurrogate  # noqa: E402


def sweep(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic sweep: a valley in the first input, a bump in the second, noise."""
    rng = np.random.default_rng([seed, n, d])
    x = rng.random((n, d))
    y = ((x[:, 0] - 0.3) ** 2 * 4 + np.sin(5 * x[:, 1]) * 0.5 + 0.3 * x[:, 2] * x[:, 0]
         + 0.1 * rng.standard_normal(n))
    return x, y


def cpu(work: Callable[[], object], repeat: int) -> float:
    """Best process CPU seconds of ``repeat`` runs of ``work``."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        work()
        best = min(best, time.process_time() - t0)
    return best


def surrogates(n_trees: int, seed: int = 0) -> tuple[CompiledForestSurrogate,
                                                     RandomForestSurrogate]:
    settings = ForestSettings(n_trees=n_trees, seed=seed)
    return (CompiledForestSurrogate(settings, n_jobs=1),
            RandomForestSurrogate(settings, n_jobs=1))


def one_forest(n: int, d: int, repeat: int) -> tuple[float, float]:
    x, y = sweep(n, d, 0)
    ours, theirs = surrogates(64)
    return cpu(lambda: ours.fit(x, y), repeat), cpu(lambda: theirs.fit(x, y), repeat)


def bootstrap(n: int, repeat: int) -> tuple[float, float]:
    """The 200 refits of a 100-replicate bootstrap, each predicting at 4,096 points."""
    x, y = sweep(n, 4, 1)
    rng = np.random.default_rng(2)
    problems = []
    for _ in range(100):  # simulated sweeps, then resampled trials
        problems.append((rng.random(x.shape), y + 0.1 * rng.standard_normal(n)))
    for _ in range(100):
        rows = rng.integers(0, n, n)
        problems.append((x[rows], y[rows]))
    seeds = list(range(200))
    points = rng.random((4096, 4))
    ours, theirs = surrogates(16)

    def compiled() -> None:
        for c in range(0, 200, 16):  # as FanovaMethod chunks them
            ours.fit_many(problems[c:c + 16], seeds[c:c + 16], evaluate_at=points)

    def sklearn() -> None:
        for (xb, yb), s in zip(problems, seeds):
            theirs.replicate(n_trees=16, seed=s).fit(xb, yb, evaluate_at=points)

    return cpu(compiled, repeat), cpu(sklearn, repeat)


def meta_study(groups: int) -> tuple[float, float]:
    problems = [sweep(200, 4, 100 + g) for g in range(groups)]
    ours, theirs = surrogates(64)
    seeds = list(range(groups))
    return (cpu(lambda: ours.fit_many(problems, seeds), 1),
            cpu(lambda: [theirs.replicate(n_trees=64, seed=s).fit(x, y)
                         for (x, y), s in zip(problems, seeds)], 1))


def cli_analyze(surrogate: str, repeat: int) -> float:
    """CPU seconds of ``odyssey analyze`` on one group of 200 trials (child process)."""
    import pandas as pd

    x, y = sweep(200, 4, 3)
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"]).assign(loss=y)
    best = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "sweep.csv"
        frame.to_csv(csv, index=False)
        env = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_NUM_THREADS="1")
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # the warm-up run writes the .pyc files
        for i in range(repeat + 1):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([sys.executable, "-m", "odyssey_analysis", "analyze", str(csv),
                            "--response", "loss", "--out", str(Path(tmp) / f"out{i}"),
                            "--jobs", "1", "--surrogate", surrogate],
                           check=True, capture_output=True, env=env)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            if i:  # the first run fills caches (compiled kernels, .pyc files)
                best = min(best, used)
    return best


MEMORY_PROBE = """
import resource, sys, time
import numpy as np
sys.path.insert(0, {root!r})
from odyssey_analysis.forest import CompiledForestSurrogate
from odyssey_analysis.surrogate import ForestSettings
rng = np.random.default_rng(0)
x = rng.random(({n}, 4))
y = (x[:, 0] - 0.3) ** 2 + np.sin(5 * x[:, 1]) + 0.1 * rng.standard_normal({n})
def high_water():  # this process's peak (ru_maxrss would carry the parent's over exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
CompiledForestSurrogate(n_jobs=1).fit(x[:50], y[:50])  # load the kernels first
base = high_water()
t0 = time.perf_counter()
fitted = CompiledForestSurrogate(ForestSettings(n_trees=64), n_jobs=1).fit(x, y)
wall = time.perf_counter() - t0
peak = high_water()
leaves = sum(t.n_leaves for t in fitted.trees)
print(base, peak, wall, leaves)
"""


def memory(n: int) -> tuple[float, float, float, int]:
    """Peak memory (MiB) of fitting the compiled forest on ``n`` trials, in a child."""
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE.format(root=str(ROOT), n=n)],
                         check=True, capture_output=True, text=True,
                         env=dict(os.environ, NUMBA_NUM_THREADS="1"))
    base, peak, wall, leaves = out.stdout.split()
    return float(base), float(peak), float(wall), int(leaves)


def compile_times() -> tuple[float, float]:
    """Wall seconds of a first fit in a fresh process: with an empty kernel cache (the
    kernels compiled, then cached) and with the cache filled."""
    probe = ("import time, numpy as np; t0 = time.perf_counter();"
             "from odyssey_analysis.forest import CompiledForestSurrogate;"
             "x = np.random.default_rng(0).random((50, 3));"
             "CompiledForestSurrogate(n_jobs=1).fit(x, x[:, 0], evaluate_at=x);"
             "print(time.perf_counter() - t0)")
    out = []
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_CACHE_DIR=cache,
                   NUMBA_NUM_THREADS="1")
        for _ in range(2):
            run = subprocess.run([sys.executable, "-c", probe], check=True,
                                 capture_output=True, text=True, env=env)
            out.append(float(run.stdout.split()[-1]))
    return out[0], out[1]


def interval_fit(repeat: int) -> float:
    """Best CPU seconds of one ``FanovaMethod(n_bootstrap=100).fit`` on 200 trials."""
    from odyssey_analysis import SearchSpace
    from odyssey_analysis.methods import FanovaMethod
    from odyssey_analysis.space import Hyperparameter

    space = SearchSpace((Hyperparameter("learning_rate", "float", 1e-5, 1e-1, "log"),
                         Hyperparameter("width", "int", 16, 1024, "log"),
                         Hyperparameter("dropout", "float", 0.0, 0.8),
                         Hyperparameter("weight_decay", "float", 0.0, 0.1)))
    x, y = sweep(200, 4, 4)
    method = FanovaMethod(surrogate=CompiledForestSurrogate(n_jobs=1), n_bootstrap=100)
    method.fit(x, y, space)  # compiles what the bootstrap alone uses
    return cpu(lambda: method.fit(x, y, space), repeat)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per row (best is kept)")
    ap.add_argument("--quick", action="store_true", help="50 groups in the meta-study")
    ap.add_argument("--sections", nargs="+", default=["forests"],
                    choices=("forests", "memory", "compile", "interval-fit"),
                    help="forests: the side-by-side table (default); memory: the peak "
                         "memory at 100,000 trials; compile: the first fit's time with an "
                         "empty and a filled kernel cache; interval-fit: one fit with "
                         "calibrated intervals")
    ap.add_argument("--out", type=Path, help="append the results to this Markdown file")
    args = ap.parse_args(argv)
    load0 = "{:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    surrogates(2)[0].fit(*sweep(30, 4, 0), evaluate_at=np.full((2, 4), 0.5))  # compile
    surrogates(2)[1].fit(*sweep(30, 4, 0))
    groups = 50 if args.quick else 500
    rows: list[tuple[str, float, float]] = []
    table = [] if "forests" not in args.sections else [
        ("one forest, 200 trials × 4, 64 trees", lambda: one_forest(200, 4, args.repeat)),
        ("one forest, 1,000 trials × 9, 64 trees", lambda: one_forest(1000, 9, args.repeat)),
        ("one forest, 5,400 trials × 9, 64 trees",
         lambda: one_forest(5400, 9, max(1, args.repeat - 1))),
        ("100-replicate bootstrap, 200 trials (200 forests × 16 trees)",
         lambda: bootstrap(200, 1)),
        ("100-replicate bootstrap, 1,000 trials", lambda: bootstrap(1000, 1)),
        (f"meta-study, {groups} groups × 200 trials × 64 trees", lambda: meta_study(groups)),
        ("`odyssey analyze`, one group of 200 trials (child process)",
         lambda: (cli_analyze("compiled", args.repeat), cli_analyze("sklearn", args.repeat))),
    ]
    for label, run in table:
        ours, theirs = run()
        rows.append((label, ours, theirs))
        print(f"{label}: compiled {ours:.3f} s, scikit-learn {theirs:.3f} s, "
              f"{theirs / ours:.1f}x", file=sys.stderr, flush=True)
    command = "python benchmarks/bench_forest.py" + "".join(
        f" {a}" for a in (sys.argv[1:] if argv is None else argv))
    load1 = "{:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())
    machine = platform.processor() or platform.machine()
    lines = ["", "## The compiled forest against scikit-learn's", "",
             f"`{command}` ({started}; {os.cpu_count()} cores, {machine}; load average "
             f"{load0} at the start, {load1} at the end)."]
    if rows:
        lines += ["CPU seconds on one thread, best of the runs; each row fits the trees, "
                  "computes the out-of-bag R² and hands every tree over as leaf boxes.", "",
                  "| work | scikit-learn | compiled | ratio |", "|---|---|---|---|"]
        lines += [f"| {label} | {theirs:.3f} s | {ours:.3f} s | {theirs / ours:.1f}× |"
                  for label, ours, theirs in rows]
    if "memory" in args.sections:
        base, peak, wall, leaves = memory(100_000)
        lines += ["", f"100,000 trials × 4, 64 trees, compiled, one thread: peak resident "
                      f"memory {peak:.0f} MiB ({base:.0f} MiB before the fit), {wall:.1f} s "
                      f"wall, {leaves:,} leaves."]
    if "compile" in args.sections:
        cold, warm = compile_times()
        lines += ["", f"First fit in a fresh process (imports included): {cold:.1f} s with "
                      f"an empty kernel cache (compiling), {warm:.1f} s once cached."]
    if "interval-fit" in args.sections:
        lines += ["", f"`FanovaMethod(n_bootstrap=100).fit`, 200 trials × 4 (one integer "
                      f"hyperparameter), compiled forest, one thread: "
                      f"{interval_fit(args.repeat):.2f} CPU s (best of {args.repeat})."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out is not None:
        with open(args.out, "a", encoding="utf-8") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
