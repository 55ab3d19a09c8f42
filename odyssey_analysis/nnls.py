"""Non-negative least squares, in NumPy alone (Lawson & Hanson's active-set method).

The noise estimate fits a variogram with a handful of non-negative coefficients
(:func:`odyssey_analysis.noise.variogram_nugget`); importing SciPy for it would cost more
than a small analysis.
"""

from __future__ import annotations

import numpy as np


def nnls(a: np.ndarray, b: np.ndarray, max_iter: int | None = None
         ) -> tuple[np.ndarray, float]:
    """``argmin ‖a x − b‖₂`` subject to ``x >= 0``.

    Lawson & Hanson (1974, chapter 23): variables move into the passive set one at a
    time, by the largest gradient of the residual, and back out whenever the
    unconstrained solution on the passive set turns negative.

    Parameters
    ----------
    a
        ``(m, n)`` matrix.
    b
        ``(m,)`` right-hand side.
    max_iter
        Most outer iterations (default ``3 n``).

    Returns
    -------
    x : np.ndarray
        ``(n,)`` the solution.
    residual : float
        ``‖a x − b‖₂``.

    Raises
    ------
    RuntimeError
        When the iterations run out (not seen on well-posed problems).
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    # Columns scaled to unit norm (the constraint x >= 0 does not change), so the
    # tolerance on the gradient means the same for a column of tiny values.
    scale = np.linalg.norm(a, axis=0)
    scale[scale == 0] = 1.0
    x, residual = _solve(a / scale, b, max_iter)
    return x / scale, residual


def _solve(a: np.ndarray, b: np.ndarray, max_iter: int | None
           ) -> tuple[np.ndarray, float]:
    m, n = a.shape
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    tol = 10 * np.finfo(float).eps * np.abs(a).sum(axis=0).max(initial=0.0) * max(m, n)
    limit = 3 * n if max_iter is None else max_iter
    for _ in range(limit + 1):
        w = a.T @ (b - a @ x)
        if passive.all() or not (w[~passive] > tol).any():
            return x, float(np.linalg.norm(a @ x - b))
        passive[np.argmax(np.where(passive, -np.inf, w))] = True
        while True:
            z = np.zeros(n)
            z[passive] = np.linalg.lstsq(a[:, passive], b, rcond=None)[0]
            if (z[passive] > 0).all():
                x = z
                break
            neg = passive & (z <= 0)
            alpha = np.min(x[neg] / (x[neg] - z[neg]))
            x = x + alpha * (z - x)
            passive &= x > tol
            x[~passive] = 0.0
    raise RuntimeError(f"nnls did not converge in {limit} iterations")
