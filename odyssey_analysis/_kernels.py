"""Compiled kernels for the decomposition engine (Numba), loaded on first use.

The pair kernel computes the second moment of a tree's joint marginal over two
dimensions in O(E log K) for E box corners and K split points, instead of the
O(K_j · K_k) grid of the NumPy path. Both are exact; where Numba cannot be imported
(or with the environment variable ``ODYSSEY_NO_NUMBA=1``) the engine uses the NumPy
path, several times slower for pairs on large trees.

The identity behind it: write the centred joint marginal as a sum of signed corner
steps, ``F(a, b) = sum_e w_e [a >= p_e][b >= q_e]``. Then

    ∫∫ F² = sum_{e, e'} w_e w_e' min(P_e, P_e') min(Q_e, Q_e'),  P = 1 − p, Q = 1 − q,

and sweeping the corners in decreasing P with two Fenwick trees over the ranks of Q
gives every pair's contribution once.

Nothing here imports Numba until a kernel is asked for (:func:`compiled`), so a process
that decomposes nothing never pays for it. Compiled machine code is cached on disk
(Numba's ``cache=True``: next to this file, or in Numba's user cache folder when this
folder is read-only); where no cache folder is writable the kernels are compiled in
memory, once per process.
"""

from __future__ import annotations

import os
import threading
from types import SimpleNamespace
from typing import Any

import numpy as np


def _pair_second_moment(edges_j, lo_j, hi_j, order_j, edges_k, lo_k, hi_k, c):
    """Second moment of the joint marginal (see the module docstring).

    Parameters
    ----------
    edges_j, edges_k
        Sorted split points (including 0 and 1) of the two dimensions.
    lo_j, hi_j, lo_k, hi_k
        Each leaf's interval as indices into the edges.
    order_j
        The ``2 * n_leaves`` j-corners (``l`` = lower end of leaf ``l``,
        ``n_leaves + l`` = upper end) sorted by increasing position.
    c
        Each leaf's centred value times the volume of its box in the other dimensions.
    """
    n_leaves = c.shape[0]
    n_k = edges_k.shape[0]
    bit_w = np.zeros(n_k + 1)
    bit_wq = np.zeros(n_k + 1)
    total_w = 0.0
    second = 0.0
    for t in range(2 * n_leaves):
        m = order_j[t]
        if m < n_leaves:
            leaf = m
            sign = 1.0
            p = edges_j[lo_j[leaf]]
        else:
            leaf = m - n_leaves
            sign = -1.0
            p = edges_j[hi_j[leaf]]
        big_p = 1.0 - p
        if big_p <= 0.0:
            break  # every later corner sits at p = 1 too
        for corner in range(2):
            if corner == 0:
                idx = lo_k[leaf]
                w = sign * c[leaf]
            else:
                idx = hi_k[leaf]
                w = -sign * c[leaf]
            big_q = 1.0 - edges_k[idx]
            if big_q <= 0.0 or w == 0.0:
                continue
            rank = n_k - 1 - idx  # smaller rank = smaller Q
            pw = 0.0
            pwq = 0.0
            i = rank
            while i > 0:
                pw += bit_w[i]
                pwq += bit_wq[i]
                i -= i & -i
            before = big_q * (total_w - pw) + pwq
            second += big_p * w * (2.0 * before + w * big_q)
            i = rank + 1
            while i <= n_k:
                bit_w[i] += w
                bit_wq[i] += w * big_q
                i += i & -i
            total_w += w
    return second


_lock = threading.Lock()
_state: dict[str, Any] = {}


def _jit(fn):
    from numba import njit

    try:
        return njit(cache=True, nogil=True)(fn)
    except RuntimeError:  # pragma: no cover - no writable cache folder anywhere
        return njit(nogil=True)(fn)


def compiled() -> SimpleNamespace | None:
    """The compiled kernels (``pair_second_moment``), or ``None`` without Numba.

    The first call imports Numba and prepares the kernels; later calls return the same
    namespace. Thread-safe.
    """
    if "kernels" not in _state:
        with _lock:
            if "kernels" not in _state:
                _state["kernels"] = _load()
    return _state["kernels"]


def _load() -> SimpleNamespace | None:
    if os.environ.get("ODYSSEY_NO_NUMBA"):
        return None
    try:
        import numba  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return SimpleNamespace(pair_second_moment=_jit(_pair_second_moment))


def __getattr__(name: str) -> Any:
    # ``COMPILED`` and ``pair_second_moment`` resolve (and import Numba) on first access.
    if name == "COMPILED":
        return compiled() is not None
    if name == "pair_second_moment":
        kernels = compiled()
        return None if kernels is None else kernels.pair_second_moment
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
