"""False alarms of the two-stage signal test against the one-stage test, on pure noise.

Run ``python benchmarks/signal_stages.py`` (``--reps``, ``--trials``): pure-noise sweeps
(five hyperparameters, one of them on four levels, uniform responses) of more than
``SIGNAL_SUBSAMPLE`` trials, each tested both ways with the same seeds: staged (on a
subsample first, all trials only when it finds nothing, p doubled) and on all trials
at once. Both should call about 1 % of them signal.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from odyssey_analysis.forest import CompiledForestSurrogate
from odyssey_analysis.significance import SIGNAL_SUBSAMPLE, signal_test
from odyssey_analysis.surrogate import ForestSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--trials", type=int, default=1500)
    args = parser.parse_args(argv)
    surrogate = CompiledForestSurrogate(ForestSettings(seed=0), n_jobs=1)
    found = {"staged": 0, "one stage": 0}
    started = time.time()
    for r in range(args.reps):
        rng = np.random.default_rng([42, r])
        x = rng.random((args.trials, 5))
        x[:, 3] = np.floor(x[:, 3] * 4) / 3
        y = rng.random(args.trials)
        found["staged"] += signal_test(surrogate, x, y, [r, 1]).detected
        found["one stage"] += signal_test(surrogate, x, y, [r, 1], subsample=0).detected
    print(f"pure noise, N = {args.trials} (subsample {SIGNAL_SUBSAMPLE}), {args.reps} sweeps: "
          f"signal found staged {found['staged']}/{args.reps}, one stage "
          f"{found['one stage']}/{args.reps}; {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
