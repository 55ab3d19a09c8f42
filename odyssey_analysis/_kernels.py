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


def _forest_mean_variances(lower, upper, value, pairs):
    """Main and pure pair variances of a sum of boxes (``fanova.forest_mean_effects``).

    The same arithmetic as :class:`~odyssey_analysis.fanova.TreeDecomposition`'s
    ``main_variance`` and ``pair_variance`` on the boxes ``lower``/``upper``
    (``(n, d)``) with values ``value``, in one compiled call instead of a few dozen
    NumPy calls per dimension and pair.

    Returns
    -------
    main, pair
        ``(d,)`` and symmetric ``(d, d)`` (pure pairs clamped at zero; zero unless
        ``pairs``).
    """
    n, d = lower.shape
    widths = np.empty((d, n))
    for j in range(d):
        for m in range(n):
            widths[j, m] = upper[m, j] - lower[m, j]
    # Every dimension's distinct bounds (0 and 1 included) and each box's interval.
    edges = np.empty(d * (2 * n + 2))
    edge_start = np.zeros(d + 1, dtype=np.int64)
    lo = np.empty((d, n), dtype=np.int64)
    hi = np.empty((d, n), dtype=np.int64)
    used = 0
    for j in range(d):
        raw = np.empty(2 * n + 2)
        raw[0] = 0.0
        raw[1] = 1.0
        raw[2:n + 2] = lower[:, j]
        raw[n + 2:] = upper[:, j]
        raw.sort()
        edge_start[j] = used
        for t in range(raw.shape[0]):
            if t == 0 or raw[t] != raw[t - 1]:
                edges[used] = raw[t]
                used += 1
        e = edges[edge_start[j]:used]
        lo[j] = np.searchsorted(e, lower[:, j])
        hi[j] = np.searchsorted(e, upper[:, j])
    edge_start[d] = used
    volume = widths[0].copy()
    for j in range(1, d):
        volume *= widths[j]
    mean = 0.0  # loops, not np.dot: Numba's dot would need SciPy's BLAS
    for m in range(n):
        mean += volume[m] * value[m]
    main = np.zeros(d)
    for j in range(d):
        e = edges[edge_start[j]:edge_start[j + 1]]
        k = e.shape[0]
        if k == 2:
            continue  # never split on: exactly no effect
        c = _others_kernel(widths, j, -1) * value
        starts = np.zeros(k)
        ends = np.zeros(k)
        for m in range(n):
            starts[lo[j, m]] += c[m]
            ends[hi[j, m]] += c[m]
        f = np.cumsum(starts - ends)
        total = 0.0
        for t in range(k - 1):
            total += (e[t + 1] - e[t]) * (f[t] - mean) ** 2
        main[j] = total
    pair = np.zeros((d, d))
    if not pairs:
        return main, pair
    centred = value - mean
    for j in range(d):
        ej = edges[edge_start[j]:edge_start[j + 1]]
        if ej.shape[0] == 2:
            continue
        order_j = _corner_kernel(lo[j], hi[j], ej.shape[0])
        for k in range(j + 1, d):
            ek = edges[edge_start[k]:edge_start[k + 1]]
            if ek.shape[0] == 2:
                continue
            c = centred * _others_kernel(widths, j, k)
            closed = max(_pair_kernel(ej, lo[j], hi[j], order_j, ek, lo[k], hi[k],
                                             c), 0.0)
            pure = max(closed - main[j] - main[k], 0.0)
            pair[j, k] = pure
            pair[k, j] = pure
    return main, pair


def _leaf_members(lower, upper, x):
    """The box of ``lower``/``upper`` (``(n_leaves, d)``, disjoint, half-open) holding
    each row of ``x``, ``-1`` for none (``estimators.leaf_members``)."""
    n, d = x.shape
    out = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        for leaf in range(lower.shape[0]):
            inside = True
            for j in range(d):
                v = x[i, j]
                if v < lower[leaf, j] or v >= upper[leaf, j]:
                    inside = False
                    break
            if inside:
                out[i] = leaf
                break
    return out


def _corner_order(lo, hi, n_keys):
    """The stable order of the corners ``lo`` then ``hi`` by edge index (a counting
    sort: ``TreeDecomposition.corner_order``'s permutation)."""
    n = lo.shape[0]
    start = np.zeros(n_keys + 1, dtype=np.int64)
    for m in range(n):
        start[lo[m] + 1] += 1
        start[hi[m] + 1] += 1
    for t in range(n_keys):
        start[t + 1] += start[t]
    order = np.empty(2 * n, dtype=np.int64)
    for m in range(n):
        order[start[lo[m]]] = m
        start[lo[m]] += 1
    for m in range(n):
        order[start[hi[m]]] = n + m
        start[hi[m]] += 1
    return order


def _others(widths, j, k):
    """Each box's volume in every dimension but ``j`` and ``k``, multiplied in order."""
    d, n = widths.shape
    out = np.ones(n)
    first = True
    for m in range(d):
        if m == j or m == k:
            continue
        if first:
            out = widths[m].copy()
            first = False
        else:
            out *= widths[m]
    return out


def _tree_boxes(left, right, feature, threshold, splits, d):
    """One tree's leaves as boxes, with every dimension's split points ranked.

    Parameters
    ----------
    left, right, feature, threshold
        The tree's node arrays, contiguous (scikit-learn's layout: -1 children at
        leaves, every child numbered after its parent; go left when
        ``x[feature] <= threshold``); ``threshold`` already clipped into [0, 1].
    splits
        The split nodes sorted by feature, then by threshold.
    d
        Number of dimensions.

    Returns
    -------
    edges, edge_start, lo, hi, lower, upper, leaves
        ``edges[edge_start[j]:edge_start[j + 1]]`` are dimension ``j``'s sorted distinct
        split points with 0 and 1; ``lo``/``hi`` ``(d, n_leaves)`` each leaf's interval
        as indices into them and ``lower``/``upper`` ``(n_leaves, d)`` its bounds;
        ``leaves`` the leaves' node numbers, in node order.
    """
    n = left.shape[0]
    n_splits = splits.shape[0]
    # Each dimension's distinct split points (0 and 1 included) and every split's rank.
    edges = np.empty(2 * d + n_splits, dtype=np.float64)
    edge_start = np.zeros(d + 1, dtype=np.int64)
    rank = np.zeros(n, dtype=np.int32)
    used = 0
    s = 0
    for j in range(d):
        edge_start[j] = used
        edges[used] = 0.0
        used += 1
        while s < n_splits and feature[splits[s]] == j:
            node = splits[s]
            v = threshold[node]
            if v != edges[used - 1]:
                edges[used] = v
                used += 1
            rank[node] = used - 1 - edge_start[j]
            s += 1
        if edges[used - 1] != 1.0:
            edges[used] = 1.0
            used += 1
    edge_start[d] = used
    # Carry each node's box as ranks from the root down (children follow parents).
    n_leaves = n - n_splits
    lo_node = np.zeros((n, d), dtype=np.int32)
    hi_node = np.empty((n, d), dtype=np.int32)
    for j in range(d):
        hi_node[0, j] = edge_start[j + 1] - edge_start[j] - 1
    lo = np.empty((d, n_leaves), dtype=np.int32)
    hi = np.empty((d, n_leaves), dtype=np.int32)
    lower = np.empty((n_leaves, d), dtype=np.float64)
    upper = np.empty((n_leaves, d), dtype=np.float64)
    leaves = np.empty(n_leaves, dtype=np.int64)
    p = 0
    for i in range(n):
        a = left[i]
        if a == -1:
            leaves[p] = i
            for j in range(d):
                u = lo_node[i, j]
                w = max(hi_node[i, j], u)
                lo[j, p] = u
                hi[j, p] = w
                lower[p, j] = edges[edge_start[j] + u]
                upper[p, j] = edges[edge_start[j] + w]
            p += 1
            continue
        b = right[i]
        for j in range(d):
            lo_node[a, j] = lo_node[i, j]
            hi_node[a, j] = hi_node[i, j]
            lo_node[b, j] = lo_node[i, j]
            hi_node[b, j] = hi_node[i, j]
        f = feature[i]
        r = rank[i]
        hi_node[a, f] = min(hi_node[a, f], r)
        lo_node[b, f] = max(lo_node[b, f], r)
    return edges[:used], edge_start, lo, hi, lower, upper, leaves


_lock = threading.Lock()
_state: dict[str, Any] = {}
# The compiled helpers that ``_forest_mean_variances`` calls (set by ``_load``).
_pair_kernel: Any = None
_others_kernel: Any = None
_corner_kernel: Any = None


def _jit(fn):
    from numba import njit

    try:
        return njit(cache=True, nogil=True)(fn)
    except RuntimeError:  # pragma: no cover - no writable cache folder anywhere
        return njit(nogil=True)(fn)


def compiled() -> SimpleNamespace | None:
    """The compiled kernels (``pair_second_moment``, ``tree_boxes``), or ``None``.

    ``None`` without Numba or with ``ODYSSEY_NO_NUMBA`` set.

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
    # The forest-mean kernel calls these three: compiled first, under their own names.
    global _pair_kernel, _others_kernel, _corner_kernel
    _pair_kernel = _jit(_pair_second_moment)
    _others_kernel = _jit(_others)
    _corner_kernel = _jit(_corner_order)
    return SimpleNamespace(pair_second_moment=_pair_kernel,
                           tree_boxes=_jit(_tree_boxes),
                           leaf_members=_jit(_leaf_members),
                           forest_mean_variances=_jit(_forest_mean_variances))


def __getattr__(name: str) -> Any:
    # ``COMPILED`` and ``pair_second_moment`` resolve (and import Numba) on first access.
    if name == "COMPILED":
        return compiled() is not None
    if name == "pair_second_moment":
        kernels = compiled()
        return None if kernels is None else kernels.pair_second_moment
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
