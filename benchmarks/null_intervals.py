"""How often the calibrated intervals cover 0 where the truth is 0.

Run ``python benchmarks/null_intervals.py REPS`` (10 by default). Each repetition draws
two random-search sweeps of 200 trials over four uniform hyperparameters a, b, c, d:

``noise``
    A uniform-noise response: every effect is 0.
``signal``
    ``sin(6a) + b² + N(0, 0.3²)``: c and d and every pair are 0.

Each is fitted as ``analyze`` fits with a bootstrap (64 trees, ``min_samples_leaf=2``,
``n_bootstrap=20``, the signal test on). Printed: the share of the null effects whose
calibrated interval reaches 0, for the interval as the bootstrap makes it and as
reported (a fit without detectable signal has every lower bound at 0).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import sys  # noqa: E402

import numpy as np  # noqa: E402

from odyssey_analysis.methods import FanovaMethod  # noqa: E402
from odyssey_analysis.space import Hyperparameter, SearchSpace  # noqa: E402
from odyssey_analysis.surrogate import ForestSettings, RandomForestSurrogate  # noqa: E402

SPACE = SearchSpace(tuple(Hyperparameter(n, "float", 0.0, 1.0) for n in "abcd"))


def main(reps: int) -> None:
    """Print the coverage of 0 over ``reps`` repetitions."""
    iu = np.triu_indices(4, 1)
    raw = {"noise": [], "signal": []}
    shown = {"noise": [], "signal": []}
    for rep in range(reps):
        rng = np.random.default_rng([5, rep])
        x = rng.random((200, 4))
        for kind in ("noise", "signal"):
            y = (rng.random(200) if kind == "noise" else
                 np.sin(6 * x[:, 0]) + x[:, 1] ** 2 + 0.3 * rng.standard_normal(200))
            for test, store in ((0, raw), (20, shown)):
                surrogate = RandomForestSurrogate(ForestSettings(min_samples_leaf=2,
                                                                 seed=rep))
                ci = FanovaMethod(surrogate, n_bootstrap=20, curves=False,
                                  signal_permutations=test).fit(x, y, SPACE).intervals
                first = 0 if kind == "noise" else 2
                lower = np.concatenate([ci.main_lower[first:], ci.pair_lower[iu]])
                store[kind].append(lower <= 1e-12)
    for label, store in (("as bootstrapped", raw), ("as reported", shown)):
        for kind, rows in store.items():
            print(f"{label:16s} {kind:6s}: null effects covering 0 "
                  f"{np.mean(np.concatenate(rows)):.3f}; fits with every null effect "
                  f"covering 0 {np.mean([r.all() for r in rows]):.2f} "
                  f"({len(rows)} fits)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
