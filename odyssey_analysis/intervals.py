"""Calibrated intervals for importance fractions, from two sets of bootstrap replicates.

A forest's importance fraction is biased (the forest smooths and adds noise of its own)
and varies with the trials drawn. The interval combines two bootstraps
(``docs/accuracy.md`` has the derivation and its measured coverage):

* **parametric, in a world whose truth is known**: the world is the fitted
  forest-mean function ``F``, whose exact fractions ``θ_W`` are the estimate itself.
  Sweeps of the same size are drawn from the sampling measure (fresh configurations),
  with responses ``F(x*) + N(0, σ²)``; refitting and re-estimating gives ``θ*``. How
  ``θ*`` misses ``θ_W`` is how the estimate misses the truth, so the estimate is
  corrected by that ratio (:func:`ratio_corrected`);
* **nonparametric**: the trials resampled with replacement; the spread of the
  re-estimates is the estimate's sampling spread.

The interval is the corrected centre ``c`` ± ``z · sqrt(sd² + (h · (est − c))²)``: the
spread, plus an allowance ``h`` (:data:`HEDGE`) times the correction for the part of
the world's bias that does not carry over to the real response.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .distributions import normal_quantile

#: Below this world fraction the correction is additive, not a ratio (logs of tiny
#: fractions are noise).
RATIO_FLOOR = 0.005
#: Multiple of the bias correction added in quadrature to the interval's half-width.
HEDGE = 2.0


def z_value(conf_level: float) -> float:
    """The two-sided standard normal quantile of ``conf_level`` (1.645 for 0.9)."""
    return normal_quantile(0.5 + conf_level / 2.0)


def ratio_corrected(estimate: np.ndarray, world_replicates: np.ndarray,
                    world_truth: np.ndarray) -> np.ndarray:
    """The estimate corrected by the world's mean log-ratio ``log θ* − log θ_W``.

    Where ``θ_W`` is below :data:`RATIO_FLOOR` the correction is additive,
    ``est − mean(θ* − θ_W)``. Clipped to [0, 1].
    """
    eps = RATIO_FLOOR / 10
    log_ratio = (np.log(np.maximum(world_replicates, eps))
                 - np.log(np.maximum(world_truth, eps))[None, :])
    ratio = np.maximum(estimate, eps) * np.exp(-log_ratio.mean(axis=0))
    additive = estimate - (world_replicates - world_truth[None, :]).mean(axis=0)
    return np.clip(np.where(world_truth < RATIO_FLOOR, additive, ratio), 0.0, 1.0)


@dataclass(frozen=True)
class CalibratedInterval:
    """Bias-corrected fractions and their intervals (flat vectors, one per effect).

    Attributes
    ----------
    corrected
        The bias-corrected estimate (the interval's centre).
    lower, upper
        The interval, clipped to [0, 1].
    spread
        Standard deviation of the nonparametric replicates.
    """

    corrected: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    spread: np.ndarray


def calibrated_interval(estimate: np.ndarray, world_replicates: np.ndarray,
                        resampled: np.ndarray, conf_level: float = 0.9,
                        hedge: float = HEDGE) -> CalibratedInterval:
    """The interval of the module docstring.

    Parameters
    ----------
    estimate
        ``(p,)`` the estimated fractions, which are also the world's truth ``θ_W``.
    world_replicates
        ``(B, p)`` re-estimates from sweeps simulated in the world.
    resampled
        ``(B', p)`` re-estimates from the trials resampled with replacement (``B' ≥ 2``).
    conf_level
        Nominal coverage, in (0, 1).
    hedge
        Allowance for untransferred bias, in multiples of the correction.

    Returns
    -------
    CalibratedInterval
    """
    estimate = np.asarray(estimate, dtype=float)
    centre = ratio_corrected(estimate, np.asarray(world_replicates, float), estimate)
    spread, half = _half_width(estimate, centre, resampled, conf_level, hedge)
    return CalibratedInterval(centre, np.clip(centre - half, 0.0, 1.0),
                              np.clip(centre + half, 0.0, 1.0), spread)


def _half_width(estimate: np.ndarray, centre: np.ndarray, resampled: np.ndarray,
                conf_level: float, hedge: float) -> tuple[np.ndarray, np.ndarray]:
    """The replicates' spread and the interval's half-width
    ``z · sqrt(spread² + (hedge · (estimate − centre))²)`` (the module docstring)."""
    spread = np.asarray(resampled, dtype=float).std(axis=0, ddof=1)
    return spread, z_value(conf_level) * np.sqrt(spread ** 2
                                                 + (hedge * (estimate - centre)) ** 2)


def spanning_interval(centre: np.ndarray, estimate: np.ndarray, corrected: np.ndarray,
                      resampled: np.ndarray, conf_level: float = 0.9,
                      hedge: float = HEDGE) -> tuple[np.ndarray, np.ndarray]:
    """:func:`calibrated_interval`'s half-width around two bias-corrected centres.

    The interval reaches the half-width below the lower and above the higher of
    ``corrected`` (the forest-mean ``estimate``'s :func:`ratio_corrected` centre, which
    with the nonparametric replicates ``resampled`` sets the half-width) and another
    ``centre``; where the two agree it is the calibrated interval. Clipped to [0, 1].
    """
    _, half = _half_width(estimate, corrected, resampled, conf_level, hedge)
    return (np.clip(np.minimum(centre, corrected) - half, 0.0, 1.0),
            np.clip(np.maximum(centre, corrected) + half, 0.0, 1.0))


def percentile_interval(resampled: np.ndarray, conf_level: float = 0.9
                        ) -> tuple[np.ndarray, np.ndarray]:
    """The plain percentile bootstrap interval (for comparison: it does not cover)."""
    alpha = 1.0 - conf_level
    r = np.asarray(resampled, dtype=float)
    return np.quantile(r, alpha / 2, axis=0), np.quantile(r, 1 - alpha / 2, axis=0)
