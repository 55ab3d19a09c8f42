"""Estimators of the importance fractions from one fitted forest.

Every estimator reads the same fit: the exact decomposition of each tree
(:class:`~odyssey_analysis.fanova.ForestDecomposition`) and, where needed, that of the
forest's mean function. They differ in what they divide by, which is where they err
(``docs/accuracy.md``):

``forest-mean``
    The fractions of the forest's mean function. Averaging trees smooths away most of
    the noise each fully grown tree fits, and with it much of the small effects, so the
    denominator comes out low: the dominant effect is **over**-estimated at small N.
``per-tree``
    The mean of each tree's own fractions (the reference fANOVA's number). Each tree
    interpolates its trials, noise included, so its variance holds the noise it fitted
    (mostly in high-order terms): the dominant effect is **under**-estimated.
``per-tree-corrected``
    Each tree's fractions over its variance less the noise it fitted:
    ``V_t − φ_t σ̂²``, where ``σ̂²`` is the noise variance (:func:`fitted_noise`) and
    ``φ_t`` the share of it a tree keeps. A leaf's value is the mean of the distinct
    trials it holds, so it carries ``σ²/u`` of noise for ``u`` of them; leaves of a tree
    grown on a random-search sample hold measure in proportion to their trials, so over
    the measure the tree keeps ``Σ_l vol_l σ²/u_l ≈ L_t/U · σ²`` for ``L_t`` leaves and
    ``U`` distinct trials seen by the tree. The denominator never drops below the
    variance the tree's mains and pairs explain: only what a tree puts beyond pairs
    is taken for noise. (A floor at the mains alone over-corrects at 200 trials,
    where the within-leaf variance errs high; measured in ``docs/accuracy.md``.)
``blend``
    The mean of ``forest-mean`` and ``per-tree-corrected``: their errors have opposite
    signs.
``blend-corrected``
    ``blend`` less the forest-mean's own bias, measured by simulation
    (:func:`bias_shifted`): sweeps of the same size are drawn in the world of the fitted
    forest-mean function, whose fractions are known exactly; how the refits'
    forest-mean fractions miss them (as a ratio, :func:`~odyssey_analysis.intervals.
    ratio_corrected`) is taken off the blend's main effects. The smoothing that makes
    the forest mean over-estimate the dominant effect is what the world shows best.
    The pairs are the blend's: at 200 trials the world's ratio for a pair that its
    refits hardly see is noise (NAS-Bench-201: a largest pair error of 0.23 against
    the blend's 0.07; ``docs/accuracy.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _kernels
from .fanova import ForestDecomposition, LeafBoxes, zero_variance
from .noise import MIN_REPLICATE_DOF, replicate_variance

#: Every estimator.
ESTIMATORS = ("forest-mean", "per-tree", "per-tree-corrected", "blend",
              "blend-corrected")
#: The estimator reported by default: the smallest largest-main error pooled over the
#: benchmark's problems at every N measured (``docs/accuracy.md``).
DEFAULT_ESTIMATOR = "blend-corrected"
#: Trees read for the pooled within-leaf noise variance.
NOISE_TREES = 4
#: Most trials placed in those trees' leaves (a fixed subset beyond that: the lookup
#: costs trials × leaves × hyperparameters).
NOISE_TRIALS = 2000


@dataclass(frozen=True)
class FittedNoise:
    """The noise variance the corrected estimators subtract.

    Attributes
    ----------
    variance
        The estimate (response units squared).
    source
        ``"replicates"`` (repeated configurations) or ``"leaves"`` (pooled
        within-leaf variance of the forest's leaves holding two trials or more).
    dof
        Degrees of freedom behind it.
    """

    variance: float
    source: str
    dof: int


def leaf_members(tree: LeafBoxes, x: np.ndarray, chunk: int = 256) -> np.ndarray:
    """The leaf of ``tree`` each row of ``x`` falls in (boxes are half-open, the top
    edge of the cube belongs to the last box)."""
    n = len(x)
    upper = np.where(tree.upper >= 1.0, np.inf, tree.upper)
    kernels = _kernels.compiled()
    if kernels is not None:  # a loop that stops at the first box found
        return kernels.leaf_members(np.ascontiguousarray(tree.lower, dtype=np.float64),
                                    np.ascontiguousarray(upper, dtype=np.float64),
                                    np.ascontiguousarray(x, dtype=np.float64))
    out = np.full(n, -1, dtype=np.int64)
    for start in range(0, tree.n_leaves, chunk):
        lo, hi = tree.lower[start:start + chunk], upper[start:start + chunk]
        inside = np.all((x[:, None, :] >= lo[None]) & (x[:, None, :] < hi[None]), axis=2)
        rows, leaves = np.nonzero(inside)
        out[rows] = leaves + start
    return out


def leaf_variance(trees: list[LeafBoxes], x: np.ndarray, y: np.ndarray
                  ) -> tuple[float, int]:
    """Pooled within-leaf variance of the trials, over the leaves of ``trees``.

    Every trial (seen by the tree or not) joins the leaf it falls in; leaves with two
    or more trials pool their sums of squares. Within a leaf the mean response varies
    a little too, so this errs high rather than low.

    Returns
    -------
    variance, dof
        NaN and 0 when no leaf holds two trials.
    """
    ss, dof = 0.0, 0
    for tree in trees:
        leaf = leaf_members(tree, x)
        ok = leaf >= 0
        k = tree.n_leaves
        n_l = np.bincount(leaf[ok], minlength=k).astype(float)
        s1 = np.bincount(leaf[ok], weights=y[ok], minlength=k)
        s2 = np.bincount(leaf[ok], weights=y[ok] ** 2, minlength=k)
        multi = n_l >= 2
        ss += float(np.sum(s2[multi] - s1[multi] ** 2 / n_l[multi]))
        dof += int(np.sum(n_l[multi] - 1))
    if dof == 0:
        return float("nan"), 0
    return max(ss, 0.0) / dof, dof


def fitted_noise(trees: list[LeafBoxes], x: np.ndarray, y: np.ndarray) -> FittedNoise:
    """The noise variance: from repeated configurations when they give at least
    :data:`~odyssey_analysis.noise.MIN_REPLICATE_DOF` degrees of freedom, else the
    pooled within-leaf variance of the first :data:`NOISE_TREES` trees (over at most
    :data:`NOISE_TRIALS` trials, every ``k``-th)."""
    variance, dof = replicate_variance(x, y)
    if dof >= MIN_REPLICATE_DOF:
        return FittedNoise(variance, "replicates", dof)
    step = -(-len(y) // NOISE_TRIALS)
    variance, dof = leaf_variance(trees[:NOISE_TREES], x[::step], y[::step])
    if not np.isfinite(variance):
        return FittedNoise(0.0, "none", 0)
    return FittedNoise(variance, "leaves", dof)


def noise_share(trees: list[LeafBoxes], x: np.ndarray, bootstrap: bool = True
                ) -> np.ndarray:
    """``φ_t``: the share of the noise variance each tree keeps (at most 1).

    ``L_t / U``: the tree's leaves over the distinct trials it saw (expected
    ``D (1 − (1 − 1/n)^n)`` of ``D`` distinct configurations under a bootstrap of
    ``n`` trials, all ``D`` without one).
    """
    n = len(x)
    distinct = len(np.unique(x, axis=0))
    seen = distinct * (1.0 - (1.0 - 1.0 / n) ** n) if bootstrap else float(distinct)
    leaves = np.array([t.n_leaves for t in trees], dtype=float)
    return np.clip(leaves / max(seen, 1.0), 0.0, 1.0)


def corrected_fractions(parts: ForestDecomposition, noise: float, share: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Per-tree fractions over ``V_t − φ_t σ̂²`` (at least the variance of the tree's
    mains and pairs), averaged over the non-constant trees.

    Returns
    -------
    main, pair
        ``(d,)`` and ``(d, d)``; NaN when every tree is constant.
    """
    d = parts.main.shape[1]
    ok = ~zero_variance(parts.variance, parts.mean)
    if not ok.any():
        return np.full(d, np.nan), np.full((d, d), np.nan)
    main, pair = parts.main[ok], parts.pair[ok]
    iu = np.triu_indices(d, 1)
    explained = main.sum(axis=1) + pair[:, iu[0], iu[1]].sum(axis=1)
    denom = np.maximum(parts.variance[ok] - share[ok] * max(noise, 0.0), explained)
    denom = np.where(denom > 0, denom, parts.variance[ok])
    return ((main / denom[:, None]).mean(axis=0),
            (pair / denom[:, None, None]).mean(axis=0))


def blend(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]
          ) -> tuple[np.ndarray, np.ndarray]:
    """The mean of two estimates (main and pair fractions)."""
    return 0.5 * (a[0] + b[0]), 0.5 * (a[1] + b[1])


def bias_shifted(estimate: np.ndarray, forest_mean: np.ndarray, corrected: np.ndarray
                 ) -> np.ndarray:
    """``estimate`` less the forest-mean's bias ``forest_mean − corrected``, in [0, 1].

    ``corrected`` is the forest-mean estimate with its simulated bias taken out
    (:func:`~odyssey_analysis.intervals.ratio_corrected`).
    """
    return np.clip(estimate - (forest_mean - corrected), 0.0, 1.0)
