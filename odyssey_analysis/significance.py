"""Whether a surrogate predicts anything: a permutation test of its out-of-bag R².

A forest fitted to pure noise still splits the variance of what it fitted among the
hyperparameters, so a sweep without any signal would get confident shares. Before any
share is reported, :func:`signal_test` asks whether the surrogate's out-of-bag R² is
higher than it is on the same trials with the responses shuffled (which breaks every
link between configuration and response and keeps everything else).

The statistic is the out-of-bag R² of a small forest (:data:`SIGNAL_TREES` trees, the
surrogate's own settings otherwise), fitted once on the real responses and once on each
of up to :data:`SIGNAL_PERMUTATIONS` permutations of them, so the observed value and
the null values come from the same kind of forest (a forest with more trees has a
higher out-of-bag R² on noise, so comparing the full forest with small ones would find
signal in noise). The p-value treats the null values as a normal sample and the
observed one as a new draw from it (Student's t with ``K − 1`` degrees of freedom for
``K`` permutations): with twenty permutations it resolves p-values far below the
``1 / (K + 1)`` of a rank test. A fit whose p-value exceeds :data:`SIGNAL_ALPHA` has no
detectable signal. After :data:`FIRST_PERMUTATIONS` permutations, and after twice as
many, the test stops when the p-value is already below :data:`EARLY_STOP_P` (clear
signal, the usual case) or above :data:`EARLY_NULL_P` (the real R² is below the
permuted ones' mean: clearly none). Above :data:`SIGNAL_SUBSAMPLE` trials the test runs
on that many first and on all of them only when the first finds nothing, each stage
counted at half the level (the reported p-value is doubled).

Measured (``benchmarks/accuracy.py --signal``; see ``docs/accuracy.md``): pure-noise
sweeps of 200 trials are called "no detectable signal" in at least 95 % of repetitions,
and sweeps whose full forest has an out-of-bag R² of at least 0.3 are called signal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .distributions import student_t_sf

#: Trees of each forest of the test (fitted once on the real and once per permuted
#: response).
SIGNAL_TREES = 32
#: Most permutations of the response.
SIGNAL_PERMUTATIONS = 20
#: Permutations tried first; the test stops there when the signal is already clear.
FIRST_PERMUTATIONS = 5
#: A p-value below this after the first permutations ends the test early: signal.
EARLY_STOP_P = 1e-3
#: A p-value above this after the first permutations ends the test early: no signal.
EARLY_NULL_P = 0.5
#: Largest p-value that counts as signal.
SIGNAL_ALPHA = 0.01
#: Above this many trials the test runs on this many first (see :func:`signal_test`).
SIGNAL_SUBSAMPLE = 1000


@dataclass(frozen=True)
class SignalTest:
    """The permutation test of one fit's out-of-bag R².

    Attributes
    ----------
    statistic
        Out-of-bag R² of the test's forest on the real responses.
    null_mean, null_std
        Mean and standard deviation of the same R² over the permuted responses.
    p_value
        One-sided p-value (``nan`` when the test could not run: no out-of-bag
        predictions, or a constant response).
    permutations, trees
        Permutations fitted and trees per forest.
    alpha
        Largest p-value that counts as signal.
    trials
        Trials of the stage that decided (``None``: all of them; see
        :func:`signal_test`).
    """

    statistic: float
    null_mean: float
    null_std: float
    p_value: float
    permutations: int
    trees: int
    alpha: float = SIGNAL_ALPHA
    trials: int | None = None

    @property
    def detected(self) -> bool:
        """Signal found (or the test could not tell: ``p_value`` is NaN)."""
        return not (math.isfinite(self.p_value) and self.p_value > self.alpha)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, non-finite numbers as ``None``."""
        def num(v: float) -> float | None:
            return float(v) if math.isfinite(v) else None

        return {"statistic": num(self.statistic), "null_mean": num(self.null_mean),
                "null_std": num(self.null_std), "p_value": num(self.p_value),
                "permutations": self.permutations, "trees": self.trees,
                "alpha": self.alpha, "trials": self.trials, "detected": self.detected}


def t_p_value(observed: float, null: np.ndarray) -> float:
    """One-sided p-value of ``observed`` as a new draw from the normal sample ``null``.

    ``(observed − mean) / (sd · √(1 + 1/K))`` follows Student's t with ``K − 1``
    degrees of freedom when the null values and the observed one are independent
    draws of one normal distribution. A null sample without spread gives 0 or 1.
    """
    null = np.asarray(null, dtype=float)
    k = len(null)
    mean, sd = float(null.mean()), float(null.std(ddof=1))
    if not sd > 0.0:
        return 0.0 if observed > mean else 1.0
    score = (observed - mean) / (sd * math.sqrt(1.0 + 1.0 / k))
    return student_t_sf(score, k - 1)


def signal_test(surrogate: Any, x: np.ndarray, y: np.ndarray, seed_key: list[int], *,
                trees: int = SIGNAL_TREES, permutations: int = SIGNAL_PERMUTATIONS,
                first: int = FIRST_PERMUTATIONS, alpha: float = SIGNAL_ALPHA,
                subsample: int = SIGNAL_SUBSAMPLE) -> SignalTest:
    """Permutation test of whether ``surrogate`` predicts ``y`` from ``x`` at all.

    Parameters
    ----------
    surrogate
        A :class:`~odyssey_analysis.surrogate.Surrogate` (its ``replicate`` makes the
        test's forests).
    x, y
        The encoded trials and their responses.
    seed_key
        Integers that seed every draw (the same key gives the same test).
    trees, permutations, first, alpha
        See :data:`SIGNAL_TREES`, :data:`SIGNAL_PERMUTATIONS`,
        :data:`FIRST_PERMUTATIONS` and :data:`SIGNAL_ALPHA`.
    subsample
        Above this many trials (:data:`SIGNAL_SUBSAMPLE`; 0: never) the test runs in
        two stages: on ``subsample`` trials drawn without replacement, and, only when
        that finds no signal, on all of them. The reported p-value is twice the
        smaller stage's (Bonferroni), so "p ≤ ``alpha``" keeps its meaning and its
        false-alarm rate; a large sweep with a clear signal pays for a small test.

    Returns
    -------
    SignalTest
        ``trials`` says which stage decided.
    """
    def test(xs: np.ndarray, ys: np.ndarray) -> SignalTest:
        return _permutation_test(surrogate, xs, ys, seed_key, trees=trees,
                                 permutations=permutations, first=first, alpha=alpha)

    n = len(y)
    if not subsample or n <= subsample:
        return test(x, y)
    pick = np.sort(np.random.default_rng([*seed_key, 8]).choice(n, subsample,
                                                                 replace=False))
    small = test(x[pick], y[pick])
    if math.isfinite(small.p_value) and 2.0 * small.p_value <= alpha:
        return replace(small, p_value=2.0 * small.p_value, trials=subsample)
    full = test(x, y)
    if not math.isfinite(full.p_value):
        return full
    smallest = (min(small.p_value, full.p_value) if math.isfinite(small.p_value)
                else full.p_value)
    return replace(full, p_value=min(1.0, 2.0 * smallest))


def _permutation_test(surrogate: Any, x: np.ndarray, y: np.ndarray, seed_key: list[int], *,
                      trees: int, permutations: int, first: int, alpha: float
                      ) -> SignalTest:
    """One permutation test of ``surrogate``'s out-of-bag R² on ``x``, ``y`` (the
    parameters of :func:`signal_test`, which calls it once per stage).

    The forests of a stage (the real response's and the first ``first`` permutations',
    the next ``first``, the rest) are fitted in one call of the surrogate's
    ``fit_many`` where it has one, else one by one. The permutations and seeds are drawn
    in the order of one fit at a time, so the test's result does not depend on the
    batching (nor on the thread count). A permuted forest without an out-of-bag R²
    drops out of the null sample; the early stops are checked only at the ends of
    stages.
    """
    rng = np.random.default_rng([*seed_key, 7])
    y = np.asarray(y, dtype=float)
    fit_many = getattr(surrogate, "fit_many", None)

    def r2(responses: list[np.ndarray], seeds: list[int]) -> list[float]:
        if fit_many is not None:  # one compiled call for the stage
            fits = fit_many([(x, v) for v in responses], seeds, n_trees=trees)
        else:
            fits = [surrogate.replicate(n_trees=trees, seed=s).fit(x, v)
                    for v, s in zip(responses, seeds)]
        return [float(f.oob_r2) for f in fits]

    def draw(count: int) -> tuple[list[np.ndarray], list[int]]:
        # In the order of one fit at a time: a permutation, then its forest's seed.
        responses, seeds = [], []
        for _ in range(count):
            responses.append(y[rng.permutation(len(y))])
            seeds.append(int(rng.integers(2 ** 31)))
        return responses, seeds

    observed_seed = int(rng.integers(2 ** 31))
    # Stages end after `first`, after twice as many and after all permutations.
    ends = sorted({n for n in (first, 2 * first, permutations) if 0 < n <= permutations})
    nan = float("nan")
    observed, null, done = nan, [], 0
    for end in ends or [0]:
        responses, seeds = draw(end - done)
        if done == 0:  # the real response's forest joins the first stage
            values = r2([y, *responses], [observed_seed, *seeds])
            observed, values = values[0], values[1:]
            if not math.isfinite(observed):
                return SignalTest(observed, nan, nan, nan, 0, trees, alpha)
        else:
            values = r2(responses, seeds)
        done = end
        null += [v for v in values if math.isfinite(v)]
        if end < permutations and len(null) in (first, 2 * first):
            p = t_p_value(observed, np.array(null))
            if p < EARLY_STOP_P or p > EARLY_NULL_P:
                break
    if len(null) < 3:
        return SignalTest(observed, nan, nan, nan, len(null), trees, alpha)
    arr = np.array(null)
    p = t_p_value(observed, arr)
    return SignalTest(observed, float(arr.mean()), float(arr.std(ddof=1)), p, len(arr),
                      trees, alpha)


def signal_note(oob_r2: float, test: SignalTest | None) -> str | None:
    """The line shown instead of the shares when a fit has no detectable signal.

    ``"no detectable signal (OOB R² −0.04, p = 0.61)"``, or ``None`` when there is
    signal (or no test).
    """
    if test is None or test.detected:
        return None
    r2 = f"{oob_r2:.2f}".replace("-", "−") if math.isfinite(oob_r2) else "–"
    return f"no detectable signal (OOB R² {r2}, p = {test.p_value:.2f})"
