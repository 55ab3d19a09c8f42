"""Points drawn from a search space's sampling measure, in the encoded unit cube.

Two uses: evaluating a surrogate to integrate its variance (:func:`variance_points`:
scrambled Sobol points of :mod:`.sobol`, or every cell of the grid when all
hyperparameters have levels), and simulating new sweeps of the same size
(:func:`draw_design`: independent draws, as random search makes them). A numeric
hyperparameter is uniform on [0, 1] (the encoding is its CDF); one with levels takes the
centre of a level's interval, with the level's weight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product

import numpy as np

from .model import SearchSpace
from .sobol import sobol_points


@dataclass(frozen=True)
class MeasurePoints:
    """Points with weights that integrate over the sampling measure.

    Attributes
    ----------
    points
        ``(m, d)`` encoded points.
    weights
        ``(m,)`` non-negative, summing to 1.
    exact
        ``True`` when the points are every cell of the grid of levels, so a weighted
        mean over them is the exact integral of any function constant on each level.
    """

    points: np.ndarray
    weights: np.ndarray
    exact: bool

    def mean_and_variance(self, values: np.ndarray) -> tuple[float, float]:
        """The weighted mean and variance of ``values`` (one per point).

        Summed by NumPy's pairwise sum rather than a BLAS dot product, whose threaded
        kernels round differently with another thread count.
        """
        v = np.asarray(values, dtype=float)
        mean = float(np.sum(self.weights * v))
        return mean, float(np.sum(self.weights * (v - mean) ** 2))


def _levels(space: SearchSpace) -> list[tuple[np.ndarray, np.ndarray] | None]:
    """Per hyperparameter: ``(level centres, level weights)``, or ``None`` for a range."""
    out: list[tuple[np.ndarray, np.ndarray] | None] = []
    for hp in space:
        if hp.is_constant:
            out.append((np.array([0.5]), np.array([1.0])))
        elif hp.is_discrete:
            edges = hp.level_edges()
            out.append((0.5 * (edges[:-1] + edges[1:]), np.diff(edges)))
        else:
            out.append(None)
    return out


def _snap_to_levels(u: np.ndarray, space: SearchSpace) -> np.ndarray:
    """Move each coordinate of a hyperparameter with levels to its level's centre."""
    out = u.copy()
    for j, hp in enumerate(space):
        if hp.is_constant:
            out[:, j] = 0.5
        elif hp.is_discrete:
            edges = hp.level_edges()
            idx = np.clip(np.searchsorted(edges, u[:, j], side="right") - 1, 0,
                          len(edges) - 2)
            out[:, j] = 0.5 * (edges[idx] + edges[idx + 1])
    return out


def variance_points(space: SearchSpace, n_points: int, seed: int,
                    exact_cells: int | None = None) -> MeasurePoints:
    """Points at which a surrogate's mean and variance over the measure are integrated.

    Parameters
    ----------
    space
        The search space.
    n_points
        How many points (rounded up to a power of two for the Sobol sequence).
    seed
        Seed of the scrambling; the same seed gives the same points.
    exact_cells
        Most cells of an all-levels grid integrated exactly, cell by cell (default
        ``n_points``).

    Returns
    -------
    MeasurePoints
        Every cell of the grid of levels (exact) when all hyperparameters have levels
        and there are at most ``exact_cells`` cells; else scrambled Sobol points with
        equal weights, snapped to level centres where a hyperparameter has levels.
    """
    levels = _levels(space)
    d = len(levels)
    known = [lv for lv in levels if lv is not None]
    if len(known) == d:
        cells = math.prod(len(lv[0]) for lv in known)
        if cells <= (n_points if exact_cells is None else exact_cells):
            centres = [lv[0] for lv in known]
            weights = [lv[1] for lv in known]
            pts = np.array(list(product(*centres)), dtype=float).reshape(cells, d)
            w = np.array([np.prod(c) for c in product(*weights)], dtype=float)
            return MeasurePoints(pts, w / w.sum(), True)
    log2_n = max(0, int(np.ceil(np.log2(max(n_points, 1)))))
    u = sobol_points(log2_n, d, np.random.default_rng([seed, 0x5EED]))
    m = len(u)
    return MeasurePoints(_snap_to_levels(u, space), np.full(m, 1.0 / m), False)


def draw_design(space: SearchSpace, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` independent configurations from the sampling measure, encoded ``(n, d)``."""
    return _snap_to_levels(rng.random((n, len(space))), space)
