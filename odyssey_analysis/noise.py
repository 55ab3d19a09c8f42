"""How noisy the response is: the variance of repeated runs of one configuration.

The bootstrap of :mod:`odyssey_analysis.intervals` simulates sweeps as the fitted
surrogate plus noise of this variance. It is estimated, in this order
(:func:`noise_variance`):

1. from replicates: configurations run more than once (pooled within-configuration
   variance), when they give at least :data:`MIN_REPLICATE_DOF` degrees of freedom;
2. else as the nugget of the empirical variogram over nearest neighbours
   (:func:`variogram_nugget`; needs a numeric hyperparameter);
3. else from at least 5 replicate degrees of freedom;
4. else 0 (no noise: the simulated sweeps are the surrogate itself).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .neighbours import nearest_neighbours
from .nnls import nnls

#: Replicate degrees of freedom that make the pooled replicate variance the first choice.
MIN_REPLICATE_DOF = 20
#: Fewest replicate degrees of freedom used when there is no other estimate.
FALLBACK_REPLICATE_DOF = 5


@dataclass(frozen=True)
class NoiseEstimate:
    """A noise variance and where it came from.

    Attributes
    ----------
    variance
        The estimate (response units squared; 0 when nothing could be estimated).
    source
        ``"replicates"``, ``"nugget"`` or ``"none"``.
    dof
        Replicate degrees of freedom found in the trials.
    """

    variance: float
    source: str
    dof: int


def replicate_variance(x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    """Pooled variance of the responses of identical configurations.

    Returns
    -------
    variance, dof
        ``variance`` is NaN without any repeated configuration (``dof`` 0).
    """
    _, inverse = np.unique(x, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    k = int(inverse.max()) + 1 if inverse.size else 0
    n_g = np.bincount(inverse, minlength=k).astype(float)
    s1 = np.bincount(inverse, weights=y, minlength=k)
    s2 = np.bincount(inverse, weights=y * y, minlength=k)
    multi = n_g >= 2
    dof = int(np.sum(n_g[multi] - 1))
    if dof == 0:
        return float("nan"), 0
    ss = float(np.sum(s2[multi] - s1[multi] ** 2 / n_g[multi]))
    return max(ss, 0.0) / dof, dof


def variogram_nugget(x: np.ndarray, y: np.ndarray, levels: np.ndarray,
                     neighbours: int = 3) -> float:
    """The noise variance as the lag-0 intercept of the empirical variogram.

    Each trial is paired with its ``neighbours`` nearest others that share all its
    levels (chosen on the configurations only, so pairs are not picked for similar
    responses). The semivariance ``(y_a - y_b)² / 2`` is regressed on the squared lag
    of each numeric hyperparameter by non-negative least squares with an intercept:
    for a smooth mean response its expectation is ``σ² + Σ_j G_j h_j² + …``, so the
    intercept estimates ``σ²`` (curvature makes it err low rather than high).

    Parameters
    ----------
    x, y
        Encoded configurations and their responses (no row repeated exactly).
    levels
        ``(d,)`` booleans: which hyperparameters have levels (no lag to extrapolate).
    neighbours
        Neighbours per trial.

    Returns
    -------
    float
        NaN without a numeric hyperparameter or with fewer than 10 usable pairs.
    """
    n, _ = x.shape
    cat = np.asarray(levels, dtype=bool)
    if cat.all() or n < 3:
        return float("nan")
    k = min(neighbours, n - 1)
    scaled = np.where(cat[None, :], 1e3 * x, x)  # neighbours share levels where possible
    a = np.repeat(np.arange(n), k)
    b = nearest_neighbours(scaled, k).ravel()
    pairs = np.unique(np.sort(np.column_stack([a, b]), axis=1), axis=0)
    diff = x[pairs[:, 0]] - x[pairs[:, 1]]
    same = np.all(np.abs(diff[:, cat]) < 1e-12, axis=1)
    pairs, lag = pairs[same], diff[same][:, ~cat]
    if len(pairs) < 10:
        return float("nan")
    semi = 0.5 * (y[pairs[:, 0]] - y[pairs[:, 1]]) ** 2
    coef, _ = nnls(np.column_stack([np.ones(len(semi)), lag ** 2]), semi)
    return float(coef[0])


def noise_variance(x: np.ndarray, y: np.ndarray, levels: np.ndarray) -> NoiseEstimate:
    """The noise variance the bootstrap simulates with (see the module docstring).

    Parameters
    ----------
    x, y
        Encoded configurations and responses of one group.
    levels
        ``(d,)`` booleans: which hyperparameters have levels.
    """
    variance, dof = replicate_variance(x, y)
    if dof >= MIN_REPLICATE_DOF:
        return NoiseEstimate(variance, "replicates", dof)
    rows = np.unique(np.column_stack([x, y]), axis=0)  # exact duplicates say nothing
    nugget = variogram_nugget(rows[:, :-1], rows[:, -1], levels)
    if np.isfinite(nugget):
        return NoiseEstimate(nugget, "nugget", dof)
    if dof >= FALLBACK_REPLICATE_DOF:
        return NoiseEstimate(variance, "replicates", dof)
    return NoiseEstimate(0.0, "none", dof)
