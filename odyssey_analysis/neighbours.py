"""The nearest neighbours of each point of a small set, by brute force in NumPy.

Up to :data:`BRUTE_FORCE_POINTS` points every distance is computed, in blocks; above,
SciPy's k-d tree answers (its import is then small next to the fit).
"""

from __future__ import annotations

import numpy as np

#: Most points searched by brute force.
BRUTE_FORCE_POINTS = 2048
#: Distances held in memory at once (floats) by the brute-force search.
_BLOCK = 1 << 21


def nearest_neighbours(points: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` nearest other points of each point (Euclidean).

    Parameters
    ----------
    points
        ``(n, d)`` coordinates, ``n > k``.
    k
        Neighbours per point.

    Returns
    -------
    np.ndarray
        ``(n, k)`` row indices, nearest first; a point is never its own neighbour.
        Among equally distant points the lower index comes first on the brute-force
        path.
    """
    points = np.asarray(points, dtype=float)
    n, d = points.shape
    if not 0 < k < n:
        raise ValueError(f"need 0 < k < n, got k = {k} with {n} points")
    if n > BRUTE_FORCE_POINTS:
        from scipy.spatial import cKDTree

        _, idx = cKDTree(points).query(points, k + 1)
        rows = np.arange(n)[:, None]
        keep = idx != rows  # drop the point itself wherever a tie put it
        keep[keep.sum(axis=1) > k, -1] = False
        return idx[keep].reshape(n, k)
    out = np.empty((n, k), dtype=np.intp)
    step = max(1, _BLOCK // max(n * d, 1))
    for start in range(0, n, step):
        block = points[start:start + step]
        dist = ((block[:, None, :] - points[None, :, :]) ** 2).sum(axis=2)
        dist[np.arange(len(block)), np.arange(start, start + len(block))] = np.inf
        order = np.argsort(dist, axis=1, kind="stable")[:, :k]
        out[start:start + len(block)] = order
    return out
