"""How often the guidelines find what is known in closed form, over repeated sweeps.

Three responses of encoded coordinates ``u`` (uniform under the sampling measure) on a
space of a log-scaled learning rate (4 decades), a log-scaled size and a hyperparameter
without effect, each swept ``--reps`` times with fresh trials and noise:

* ``separable``: ``(u_lr - 0.6)² + 0.05 (1 - u_size)``; with tolerance τ the learning
  rate's good region is ``0.6 ± √τ``, the null hyperparameter has no effect;
* ``moving``: ``4 (u_lr - (0.35 + 0.3 u_size))²``; the best learning rate moves by
  0.3 × 4 = 1.2 decades across the size's range;
* ``still``: ``4 (u_lr - 0.5)² + 1.5 (u_size - 0.5)²``; it does not move.

Printed: the share of sweeps in which the good region contains the true one (and within
one grid step of it), its width relative to the true width, how often the null
hyperparameter is ``ignore``, how often each pair is read right (``stable`` or not), how
often the shift's tree-resampled interval holds the estimate and the true shift, and
the median response of a sweep drawn from ``next_space.json`` over one drawn from the
original space.

    python benchmarks/guidelines.py --reps 20
    python benchmarks/guidelines.py --reps 20 --trials 200 --noise 0.03
"""

from __future__ import annotations

import argparse
import io
import time

import numpy as np
import pandas as pd

from odyssey_analysis import analyze, method_from_options
from odyssey_analysis.guidelines import study_guidelines
from odyssey_analysis.next_space import configspace_json, next_space
from odyssey_analysis.space import Hyperparameter, SearchSpace
from odyssey_analysis.trials import TrialTable

SPACE = SearchSpace((
    Hyperparameter("lr", "float", 1e-4, 1.0, "log"),
    Hyperparameter("size", "float", 16.0, 256.0, "log"),
    Hyperparameter("null", "float", 0.0, 1.0),
))
TAU = 0.01
TRUE_SHIFT = 0.3 * 4.0
GRID_STEP = 1.0 / 49


def separable(u: np.ndarray) -> np.ndarray:
    return (u[:, 0] - 0.6) ** 2 + 0.05 * (1 - u[:, 1])


def moving(u: np.ndarray) -> np.ndarray:
    return 4 * (u[:, 0] - (0.35 + 0.3 * u[:, 1])) ** 2


def still(u: np.ndarray) -> np.ndarray:
    return 4 * (u[:, 0] - 0.5) ** 2 + 1.5 * (u[:, 1] - 0.5) ** 2


def guide(func, seed: int, n: int, trees: int, noise: float = 0.003):
    rng = np.random.default_rng(seed)
    u = rng.random((n, 3))
    frame = pd.DataFrame({hp.name: hp.decode(u[:, j]) for j, hp in enumerate(SPACE)})
    frame["y"] = func(u) + noise * rng.standard_normal(n)
    table = TrialTable.from_frame(frame, space=SPACE, responses=["y"], group_by=[],
                                  minimize=["y"])
    method = method_from_options(n_trees=trees, seed=seed)
    return study_guidelines(analyze(table, method), tolerance=TAU)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--trials", type=int, default=800)
    parser.add_argument("--trees", type=int, default=32)
    parser.add_argument("--noise", type=float, default=0.003,
                        help="Noise standard deviation of each run.")
    args = parser.parse_args()
    from ConfigSpace import ConfigurationSpace

    started = time.perf_counter()
    rows = {k: [] for k in ("contains", "contains_step", "width_ratio", "null_ignored",
                            "null_tuned", "moving_unstable", "moving_in_own", "moving_true_in",
                            "moving_error", "still_stable", "still_true_in",
                            "next_over_orig")}
    true_lo, true_hi = 0.6 - np.sqrt(TAU), 0.6 + np.sqrt(TAU)
    for rep in range(args.reps):
        g = guide(separable, rep, args.trials, args.trees, args.noise)
        lr = g.get("y").hyperparameters["lr"]
        lo, hi = (float(SPACE["lr"].encode(np.array([v]))[0]) for v in lr.good_region)
        rows["contains"].append(lo <= true_lo and hi >= true_hi)
        rows["contains_step"].append(lo <= true_lo + GRID_STEP and hi >= true_hi - GRID_STEP)
        rows["width_ratio"].append((hi - lo) / (true_hi - true_lo))
        rows["null_ignored"].append(g.get("y").hyperparameters["null"].verdict == "ignore")
        rows["null_tuned"].append(g.get("y").hyperparameters["null"].verdict == "tune")
        cs = ConfigurationSpace.from_json(io.StringIO(configspace_json(
            next_space(g, SPACE, "y"))))
        cs.seed(rep)
        drawn = cs.sample_configuration(400)
        u_next = np.column_stack([SPACE[n].encode(np.array([c[n] for c in drawn], float))
                                  for n in SPACE.names])
        u_orig = np.random.default_rng(10_000 + rep).random((400, 3))
        rows["next_over_orig"].append(float(np.median(separable(u_next))
                                            / np.median(separable(u_orig))))
        for func, name in ((moving, "moving"), (still, "still")):
            p = next(s for s in guide(func, rep, args.trials, args.trees, args.noise).get("y").pairs
                     if (s.a, s.b) == ("lr", "size"))
            lo_s, hi_s = p.shift_interval
            truth = TRUE_SHIFT if name == "moving" else 0.0
            if name == "moving":
                rows["moving_unstable"].append(not p.stable)
                rows["moving_in_own"].append(lo_s <= p.optimum_shift <= hi_s)
                rows["moving_error"].append(abs(p.optimum_shift - truth))
            else:
                rows["still_stable"].append(p.stable)
            rows[f"{name}_true_in"].append(lo_s <= truth <= hi_s)
    print(f"{args.reps} sweeps of {args.trials} trials, noise sd {args.noise:g}, "
          f"{args.trees} trees, tolerance {TAU}"
          f" ({time.perf_counter() - started:.0f} s)\n")
    print("| measure | value |\n|---|---|")
    share = {k: f"{100 * np.mean(v):.0f} %" for k, v in rows.items()
             if k not in ("width_ratio", "moving_error", "next_over_orig")}
    print(f"| good region contains the true one | {share['contains']} "
          f"({share['contains_step']} within one grid step) |")
    w = np.array(rows["width_ratio"])
    print(f"| its width / the true width | median {np.median(w):.2f}, max {w.max():.2f} |")
    print(f"| null hyperparameter `ignore` (`tune`) | {share['null_ignored']} "
          f"({share['null_tuned']}) |")
    print(f"| moving optimum read as not stable | {share['moving_unstable']} |")
    print(f"| still optimum read as stable | {share['still_stable']} |")
    e = np.array(rows["moving_error"])
    print(f"| moving: shift error (true {TRUE_SHIFT:g} decades) | median {np.median(e):.2f}, "
          f"max {e.max():.2f} decades |")
    print(f"| moving: estimate inside its interval | {share['moving_in_own']} |")
    print(f"| moving / still: true shift inside the interval | {share['moving_true_in']} / "
          f"{share['still_true_in']} |")
    r = np.array(rows["next_over_orig"])
    print(f"| next sweep's median / original's | median {np.median(r):.2f}, "
          f"max {r.max():.2f} |")


if __name__ == "__main__":
    main()
