"""How well the variance points integrate a fitted forest: ours against SciPy's Sobol.

Run ``python benchmarks/bench_sobol.py`` (``--forests N``, ``--seeds S``). Fits ``N``
compiled forests (64 trees, 200 trials) on synthetic sweeps with d = 2, 4, 9 and 20
hyperparameters in turn, every third with levels on half of them, and integrates each
forest's variance over the sampling measure with ``2**13`` points from
:func:`odyssey_analysis.space.sobol.sobol_points` and from SciPy's scrambled Sobol
generator (``scipy.stats.qmc.Sobol``), ``S`` scrambling seeds each, both snapped to the
level centres as :func:`~odyssey_analysis.space.points.variance_points` does. The
reference is the mean of both generators at ``2**18`` points. Reported: the largest and
the root-mean-square relative error of the variance, and the largest error of a main-effect
fraction (exact effect variance over the integrated variance).
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from odyssey_analysis.fanova import forest_mean_effects  # noqa: E402
from odyssey_analysis.forest import CompiledForestSurrogate, cells_of  # noqa: E402
from odyssey_analysis.space import Hyperparameter, SearchSpace  # noqa: E402
from odyssey_analysis.space.points import _snap_to_levels, draw_design  # noqa: E402
from odyssey_analysis.space.sobol import sobol_points  # noqa: E402
from odyssey_analysis.surrogate import ForestSettings  # noqa: E402

DIMENSIONS = (2, 4, 9, 20)
LOG2_POINTS = 13
LOG2_REFERENCE = 18


def problem(k: int) -> tuple[SearchSpace, np.ndarray, np.ndarray]:
    """The ``k``-th sweep: a space, 200 encoded trials and their responses."""
    d = DIMENSIONS[k % len(DIMENSIONS)]
    rng = np.random.default_rng([k, 11])
    levelled = k % 3 == 0
    hps = []
    for j in range(d):
        if levelled and j % 2 == 1:
            hps.append(Hyperparameter(f"h{j}", "ordinal",
                                      choices=tuple(range(int(rng.integers(2, 6))))))
        else:
            hps.append(Hyperparameter(f"h{j}", "float", 0.0, 1.0))
    space = SearchSpace(tuple(hps))
    x = draw_design(space, 200, rng)
    w = rng.exponential(size=d) * (0.6 ** np.arange(d))
    y = (np.sin(3 * x + rng.random(d) * 3) @ w + 2 * w[0] * x[:, 0] * x[:, 1 % d]
         + 0.1 * rng.standard_normal(200))
    return space, x, y


def scipy_points(log2_n: int, d: int, seed: int) -> np.ndarray:
    from scipy.stats import qmc

    return qmc.Sobol(d, scramble=True, seed=np.random.default_rng(seed)).random(1 << log2_n)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--forests", type=int, default=30)
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args(argv)
    load0 = "{:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())
    errors: dict[str, list[tuple[int, float, float]]] = {"ours": [], "scipy": []}
    t_ours = t_scipy = 0.0
    for k in range(args.forests):
        space, x, y = problem(k)
        d = len(space)
        sets = {"ref_ours": sobol_points(LOG2_REFERENCE, d, 10_000 + k),
                "ref_scipy": scipy_points(LOG2_REFERENCE, d, 10_000 + k)}
        for s in range(args.seeds):
            t0 = time.process_time()
            sets[f"ours{s}"] = sobol_points(LOG2_POINTS, d, [k, s])
            t1 = time.process_time()
            sets[f"scipy{s}"] = scipy_points(LOG2_POINTS, d, k * 1000 + s)
            t_ours += t1 - t0
            t_scipy += time.process_time() - t1
        names = list(sets)
        at = np.concatenate([_snap_to_levels(sets[n], space) for n in names])
        surrogate = CompiledForestSurrogate(ForestSettings(n_trees=64, seed=k), n_jobs=1)
        fitted = surrogate.with_levels(cells_of(space)).fit(x, y, evaluate_at=at)
        values = np.asarray(fitted.evaluated)
        main, _ = forest_mean_effects(fitted.trees, pairs=False)
        var: dict[str, float] = {}
        start = 0
        for n in names:
            part = values[start:start + len(sets[n])]
            start += len(part)
            var[n] = float(np.var(part))
        ref = 0.5 * (var["ref_ours"] + var["ref_scipy"])
        for s in range(args.seeds):
            for gen in ("ours", "scipy"):
                v = var[f"{gen}{s}"]
                errors[gen].append((d, v / ref - 1.0, float(np.max(np.abs(main / v
                                                                         - main / ref)))))
        print(f"forest {k} (d={d}): reference {ref:.4g}, references differ by "
              f"{abs(var['ref_ours'] / var['ref_scipy'] - 1):.2e}", file=sys.stderr)
    load1 = "{:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())
    command = "python benchmarks/bench_sobol.py" + "".join(
        f" {a}" for a in (sys.argv[1:] if argv is None else argv))
    print(f"\n`{command}` (load average {load0} at the start, {load1} at the end); "
          f"{args.forests} forests × {args.seeds} seeds, 2^{LOG2_POINTS} points against "
          f"2^{LOG2_REFERENCE}.\n")
    print("| generator | d | max rel. error of the variance | RMS rel. error | "
          "max error of a main fraction |")
    print("|---|---|---|---|---|")
    for gen in ("ours", "scipy"):
        for d in (*DIMENSIONS, "all"):
            rows = [(e, f) for dd, e, f in errors[gen] if d == "all" or dd == d]
            rel = np.abs([e for e, _ in rows])
            print(f"| {gen} | {d} | {rel.max():.3%} | {np.sqrt(np.mean(rel ** 2)):.3%} | "
                  f"{max(f for _, f in rows):.4f} |")
    print(f"\nCPU seconds generating the 2^{LOG2_POINTS}-point sets: ours {t_ours:.3f} s, "
          f"SciPy {t_scipy:.3f} s (SciPy's import not counted).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
