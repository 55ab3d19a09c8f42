"""Test functions with a known functional ANOVA, and their exact decomposition.

:func:`tensor_truth` decomposes any function of the unit cube by Gauss–Legendre
quadrature on a tensor grid: exact for polynomials of degree below ``2 · nodes`` in each
input, and to machine precision for the smooth terms used here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from odyssey_analysis.space import Hyperparameter, SearchSpace

PAPER_NAMES = ("lr", "hidden", "momentum", "dropout")


def paper_like(u: np.ndarray) -> np.ndarray:
    """A validation-error surface of four encoded training hyperparameters.

    Learning rate and hidden size interact (the best learning rate moves with the
    size), momentum barely matters, dropout matters on its own.
    """
    lr, size, mom, drop = u[:, 0], u[:, 1], u[:, 2], u[:, 3]
    centre = 0.62 - 0.2 * (size - 0.5)
    return (0.05 + 0.7 * (lr - centre) ** 2 + 0.14 * np.exp(-2.5 * size)
            + 0.008 * (mom - 0.5) + 0.24 * (drop - 0.35) ** 2)


@dataclass(frozen=True)
class Truth:
    """Exact fractions: ``main`` ``(d,)``, pure ``pair`` ``(d, d)``; ``variance``."""

    main: np.ndarray
    pair: np.ndarray
    variance: float


def tensor_truth(func: Callable[[np.ndarray], np.ndarray], d: int, nodes: int = 16
                 ) -> Truth:
    """The exact main and pure pair fractions of ``func`` under the uniform measure."""
    z, w = np.polynomial.legendre.leggauss(nodes)
    z, w = (z + 1) / 2, w / 2
    grid = np.stack(np.meshgrid(*[z] * d, indexing="ij"), -1).reshape(-1, d)
    values = func(grid).reshape((nodes,) * d)

    def marginal(keep: tuple[int, ...]) -> np.ndarray:
        v = values
        for axis in reversed(range(d)):
            if axis not in keep:
                v = np.tensordot(v, w, axes=([axis], [0]))
        return v

    mu = float(marginal(()))
    centred = (values - mu) ** 2
    for _ in range(d):
        centred = np.tensordot(centred, w, axes=([0], [0]))
    variance = float(centred)
    mains = [marginal((j,)) - mu for j in range(d)]
    main = np.array([w @ m ** 2 for m in mains]) / variance
    pair = np.zeros((d, d))
    for j, k in combinations(range(d), 2):
        pure = marginal((j, k)) - mu - mains[j][:, None] - mains[k][None, :]
        pair[j, k] = pair[k, j] = float(w @ pure ** 2 @ w) / variance
    return Truth(main, pair, variance)


def unit_space(names: tuple[str, ...]) -> SearchSpace:
    """Uniform floats on [0, 1] (the encoding is the identity)."""
    return SearchSpace(tuple(Hyperparameter(n, "float", 0.0, 1.0) for n in names))
