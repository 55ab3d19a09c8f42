"""How often the permutation test finds signal: in pure noise, and in sweeps with signal.

Run ``python benchmarks/signal_detection.py`` (``--reps`` repetitions, 100 by default). Each
repetition draws a random-search sweep of ``--trials`` trials over five hyperparameters
(learning rate log-uniform, dropout uniform, momentum uniform, layers on four levels, an
optimizer with three categories) and fits ``FanovaMethod`` with its defaults, as
``analyze`` does (``--surrogate sklearn`` for scikit-learn's forest):

``noise``
    The response is uniform noise: no fit should report shares (signal found in at most
    5 % of repetitions).
``signal``
    A learning-rate valley plus an optimizer offset plus Gaussian noise, its strength
    drawn per repetition so the full forest's out-of-bag R² spans about 0 to 0.9; of the
    repetitions with R² of at least 0.3, signal should be found in at least 95 %.

Everything runs on one thread; the numbers are deterministic given ``--seed``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from odyssey_analysis.methods import FanovaMethod  # noqa: E402
from odyssey_analysis.space import Hyperparameter, SearchSpace  # noqa: E402
from odyssey_analysis.surrogate import SURROGATES, ForestSettings, make_surrogate  # noqa: E402

SPACE = SearchSpace((
    Hyperparameter("lr", "float", 1e-5, 1e-1, "log"),
    Hyperparameter("dropout", "float", 0.0, 0.5),
    Hyperparameter("momentum", "float", 0.0, 0.99),
    Hyperparameter("layers", "ordinal", choices=(1, 2, 3, 4)),
    Hyperparameter("optimizer", "categorical", choices=("sgd", "adam", "rmsprop")),
))


def draw(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """A random-search sweep of ``n`` trials in original units."""
    return pd.DataFrame({
        "lr": 10 ** rng.uniform(-5, -1, n), "dropout": rng.uniform(0, 0.5, n),
        "momentum": rng.uniform(0, 0.99, n), "layers": rng.integers(1, 5, n),
        "optimizer": rng.choice(["sgd", "adam", "rmsprop"], n)})


def response(frame: pd.DataFrame, strength: float, rng: np.random.Generator) -> np.ndarray:
    """Signal of standard deviation about ``strength`` plus unit Gaussian noise."""
    lr = np.log10(frame["lr"].to_numpy())
    valley = (lr + 3.0) ** 2 / 1.3  # sd about 1 over the range
    offset = frame["optimizer"].map({"sgd": 0.8, "adam": -0.4, "rmsprop": -0.4}).to_numpy()
    signal = (valley - valley.mean()) + offset
    return strength * signal / signal.std() + rng.standard_normal(len(frame))


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--surrogate", choices=SURROGATES, default=SURROGATES[0],
                        help="the forest (default: the package's default, compiled)")
    args = parser.parse_args(argv)
    rows = []
    start = time.perf_counter()
    for kind in ("noise", "signal"):
        for rep in range(args.reps):
            rng = np.random.default_rng([args.seed, rep, kind == "signal"])
            frame = draw(args.trials, rng)
            y = (rng.random(args.trials) if kind == "noise" else
                 response(frame, float(rng.uniform(0.0, 3.0)), rng))
            method = FanovaMethod(make_surrogate(args.surrogate, ForestSettings(seed=rep)),
                                  curves=False)
            t0 = time.perf_counter()
            fit = method.fit(SPACE.encode(frame), y, SPACE)
            rows.append({"kind": kind, "oob_r2": fit.oob_r2, "p": fit.signal.p_value,
                         "found": fit.signal.detected, "permutations": fit.signal.permutations,
                         "seconds": time.perf_counter() - t0})
    table = pd.DataFrame(rows)
    noise = table[table.kind == "noise"]
    strong = table[(table.kind == "signal") & (table.oob_r2 >= 0.3)]
    weak = table[(table.kind == "signal") & (table.oob_r2 < 0.3)]
    print(f"N = {args.trials}, {args.reps} repetitions each, seed {args.seed}, "
          f"{args.surrogate} forest, estimator {FanovaMethod().estimator}")
    print("| sweeps | repetitions | signal found | mean permutations | s per fit |")
    print("|---|---|---|---|---|")
    for label, part in (("pure noise", noise), ("OOB R² ≥ 0.3", strong),
                        ("signal, OOB R² < 0.3", weak)):
        if len(part):
            print(f"| {label} | {len(part)} | {part.found.mean():.2f} | "
                  f"{part.permutations.mean():.1f} | {part.seconds.mean():.2f} |")
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
