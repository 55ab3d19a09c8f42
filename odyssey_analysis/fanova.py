"""Exact functional ANOVA of regression trees, computed from their leaves' boxes.

A fitted regression tree is a piecewise-constant function: each leaf owns an
axis-aligned box of the encoded unit cube (see :mod:`odyssey_analysis.space`) and a
value. Under the uniform measure on the cube, every quantity of the Sobol/functional
ANOVA decomposition of that function is a finite sum over leaves:

* the mean and total variance are volume-weighted sums of leaf values;
* the marginal of hyperparameter ``j`` is constant between consecutive split points of
  ``j``; each leaf adds ``value * (volume of its box in the other dimensions)`` on its
  interval in ``j``. A difference array over the sorted split points gives the whole
  marginal in O(leaves) time, and the marginal curve on any grid is that step function
  read at the grid's points;
* the joint marginal of a pair is constant on the grid of both split-point sets; its
  second moment comes from a sweep over the boxes' corners (the compiled kernel of
  :mod:`odyssey_analysis._kernels`) or, without Numba, from a 2-D difference array
  computed in row blocks so memory stays bounded;
* the closed (total) variance of any subset follows from the pairwise overlaps of the
  leaves' boxes in that subset.

Nothing walks the tree per grid cell, and nothing is sampled: the numbers are exact
for the fitted trees. The engine knows trees only as boxes (:class:`LeafBoxes`), so
any surrogate made of axis-aligned trees plugs in (see
:mod:`odyssey_analysis.surrogate`); nothing here imports scikit-learn or matplotlib,
and Numba only once a pair is computed.

Every dimension's split points and each leaf's interval between them
(:class:`EdgeIndex`) are computed once per tree and shared by the main effects, the
pairs and the curves. :func:`forest_leaf_boxes` reads all trees of a forest in one
level-by-level pass that yields the boxes together with that index;
:func:`decompose_trees` decomposes every tree into a :class:`ForestDecomposition`
(per-tree variances, marginal curves and pair grids), on several threads if asked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from itertools import combinations
from typing import Any

import numpy as np

from . import _kernels

#: Largest number of cells of a pair grid held in memory at once (float64).
PAIR_BLOCK_CELLS = 1 << 22
#: :func:`forest_leaf_boxes` reads trees in batches of about this many nodes.
BATCH_NODES = 1 << 20


@dataclass(frozen=True)
class EdgeIndex:
    """Each dimension's split points and every leaf's interval between them.

    Attributes
    ----------
    edges
        Per dimension, the sorted distinct box bounds, 0 and 1 included.
    lo, hi
        ``(d, n_leaves)`` indices into ``edges[j]``: leaf ``l`` covers the intervals
        ``lo[j, l] .. hi[j, l] - 1`` of dimension ``j``.
    """

    edges: tuple[np.ndarray, ...]
    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def of(cls, lower: np.ndarray, upper: np.ndarray) -> EdgeIndex:
        """The index of boxes given by their bounds (``(n_leaves, d)`` each)."""
        d = lower.shape[1]
        edges, lo, hi = [], np.empty((d, lower.shape[0]), np.int32), np.empty(
            (d, lower.shape[0]), np.int32)
        for j in range(d):
            a, b = lower[:, j], upper[:, j]
            e = np.unique(np.concatenate([[0.0, 1.0], a, b]))
            edges.append(e)
            lo[j] = np.searchsorted(e, a)
            hi[j] = np.searchsorted(e, b)
        return cls(tuple(edges), lo, hi)


@dataclass(frozen=True)
class LeafBoxes:
    """The leaves of one tree as boxes in the unit cube.

    Attributes
    ----------
    lower, upper
        ``(n_leaves, d)`` box bounds.
    value
        ``(n_leaves,)`` leaf predictions (after cutoffs).
    index
        The boxes' :class:`EdgeIndex` when the reader already knows it (as
        :func:`forest_leaf_boxes` does); computed from the bounds on first use otherwise.
    """

    lower: np.ndarray
    upper: np.ndarray
    value: np.ndarray
    index: EdgeIndex | None = field(default=None, repr=False, compare=False)

    @property
    def widths(self) -> np.ndarray:
        """``(n_leaves, d)`` side lengths."""
        return self.upper - self.lower

    @property
    def n_leaves(self) -> int:
        """Number of leaves."""
        return int(self.value.shape[0])

    @property
    def dim(self) -> int:
        """Number of dimensions."""
        return int(self.lower.shape[1])

    @cached_property
    def edge_index(self) -> EdgeIndex:
        """Every dimension's split points and each leaf's interval (:class:`EdgeIndex`)."""
        return self.index if self.index is not None else EdgeIndex.of(self.lower, self.upper)

    def clipped(self, cutoffs: tuple[float, float] | None) -> LeafBoxes:
        """The same boxes with values clamped into ``cutoffs`` (``None``: unchanged)."""
        if cutoffs is None:
            return self
        return LeafBoxes(self.lower, self.upper, np.clip(self.value, cutoffs[0], cutoffs[1]),
                         self.index)

    def without_index(self) -> LeafBoxes:
        """The boxes alone (to keep on a result: the index is recomputed if needed)."""
        return LeafBoxes(self.lower, self.upper, self.value)


def leaf_boxes(tree, n_features: int, cutoffs: tuple[float, float] | None = None) -> LeafBoxes:
    """The leaf boxes over the unit cube of a binary regression tree in array form.

    Parameters
    ----------
    tree
        Any object with the arrays ``children_left``, ``children_right`` (-1 at
        leaves), ``feature``, ``threshold`` (go left when ``x[feature] <= threshold``),
        ``value`` (``(nodes, 1, 1)``) and ``node_count`` — the layout of scikit-learn's
        ``Tree`` (``estimator.tree_``), fitted on encoded inputs.
    n_features
        Number of input dimensions.
    cutoffs
        Optional ``(low, high)``: leaf values are clamped into this range, as the
        reference fanova's ``set_cutoffs`` does.

    Returns
    -------
    LeafBoxes
        The boxes (leaves in node order) with their :class:`EdgeIndex`; see
        :func:`forest_leaf_boxes`.
    """
    return forest_leaf_boxes([tree], n_features, cutoffs)[0]


def forest_leaf_boxes(trees: Iterable[Any], n_features: int,
                      cutoffs: tuple[float, float] | None = None) -> list[LeafBoxes]:
    """The leaf boxes of every tree of a forest (see :func:`leaf_boxes`).

    With Numba, each tree is walked once by a compiled kernel that also ranks every
    dimension's split points (for trees whose children are numbered after their
    parents, as scikit-learn's are). Otherwise trees are read in batches of about
    :data:`BATCH_NODES` nodes: the split points of each tree and dimension are ranked
    by one sort per batch, and the boxes propagated from the roots level by level over
    all trees of the batch at once. Either way a tree is released as soon as it is
    read, so ``trees`` may be a generator that hands them over one by one.

    Returns
    -------
    list of LeafBoxes
        One per tree, in order, each with its :class:`EdgeIndex`.
    """
    kernels = _kernels.compiled()
    out: list[LeafBoxes] = []
    batch: list[Any] = []
    nodes = 0
    for tree in trees:
        if kernels is not None:
            boxes = _read_compiled(kernels.tree_boxes, tree, n_features, cutoffs)
            if boxes is not None:
                out.append(boxes)
                continue
        batch.append(tree)
        nodes += int(tree.node_count)
        if nodes >= BATCH_NODES:
            out += _read_batch(batch, n_features, cutoffs)
            batch, nodes = [], 0
    if batch:
        out += _read_batch(batch, n_features, cutoffs)
    return out


def _read_compiled(kernel: Any, tree: Any, d: int, cutoffs: tuple[float, float] | None
                   ) -> LeafBoxes | None:
    n = int(tree.node_count)
    # Contiguous copies: scikit-learn's node arrays are strided views into its records.
    left = np.ascontiguousarray(np.asarray(tree.children_left)[:n], dtype=np.intp)
    right = np.ascontiguousarray(np.asarray(tree.children_right)[:n], dtype=np.intp)
    feature = np.ascontiguousarray(np.asarray(tree.feature)[:n], dtype=np.intp)
    threshold = np.clip(np.asarray(tree.threshold, dtype=float)[:n], 0.0, 1.0)
    splits = np.flatnonzero(left != -1)
    if np.any(left[splits] <= splits) or np.any(right[splits] <= splits):
        return None  # not numbered parents first: the batch path reads it
    by_value = splits[np.argsort(threshold[splits])]
    splits = by_value[_stable_order(feature[by_value], d)]
    edges, start, lo, hi, lower, upper, leaves = kernel(left, right, feature, threshold,
                                                        splits, d)
    value = np.asarray(tree.value)[:n, 0, 0][leaves].astype(float)
    if cutoffs is not None:
        value = np.clip(value, cutoffs[0], cutoffs[1])
    index = EdgeIndex(tuple(edges[start[j]:start[j + 1]] for j in range(d)), lo, hi)
    return LeafBoxes(lower, upper, value, index)


def _read_batch(trees: list[Any], d: int, cutoffs: tuple[float, float] | None
                ) -> list[LeafBoxes]:
    n_trees = len(trees)
    sizes = np.array([int(t.node_count) for t in trees], dtype=np.intp)
    start = np.zeros(n_trees + 1, dtype=np.intp)
    np.cumsum(sizes, out=start[1:])
    tree_of = np.repeat(np.arange(n_trees), sizes)
    left = np.concatenate([np.asarray(t.children_left)[:n] for t, n in zip(trees, sizes)])
    right = np.concatenate([np.asarray(t.children_right)[:n] for t, n in zip(trees, sizes)])
    feature = np.concatenate([np.asarray(t.feature)[:n] for t, n in zip(trees, sizes)])
    threshold = np.clip(np.concatenate([np.asarray(t.threshold)[:n]
                                        for t, n in zip(trees, sizes)]), 0.0, 1.0)
    node_value = np.concatenate([np.asarray(t.value)[:n, 0, 0] for t, n in zip(trees, sizes)])
    trees.clear()  # the batch's arrays are copied: let the caller free its trees
    is_split = left != -1
    offset = start[tree_of]
    left = np.where(is_split, left + offset, -1)
    right = np.where(is_split, right + offset, -1)
    del offset

    # Rank each split's threshold among the distinct split points (0 and 1 included) of
    # its tree and feature: one sort over (group = tree × feature, value).
    splits = np.flatnonzero(is_split)
    n_groups = n_trees * d
    group = np.concatenate([np.arange(n_groups), np.arange(n_groups),
                            tree_of[splits] * d + feature[splits]])
    value = np.concatenate([np.zeros(n_groups), np.ones(n_groups), threshold[splits]])
    order = np.argsort(value)
    order = order[_stable_order(group[order], n_groups)]  # by group, then by value
    sorted_group, sorted_value = group[order], value[order]
    new = np.empty(order.size, dtype=bool)
    new[0] = True
    np.logical_or(sorted_group[1:] != sorted_group[:-1],
                  sorted_value[1:] != sorted_value[:-1], out=new[1:])
    distinct = np.cumsum(new) - 1
    first = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
    group_start = distinct[first]  # (n_groups,) first distinct id of each group
    n_edges = np.diff(np.r_[group_start, distinct[-1] + 1])
    all_edges = sorted_value[new]
    rank = np.empty(order.size, dtype=np.int32)
    rank[order] = distinct - group_start[sorted_group]
    split_rank = np.zeros(left.size, dtype=np.int32)
    split_rank[splits] = rank[2 * n_groups:]
    del group, value, order, sorted_group, sorted_value, new, distinct, rank

    # Propagate each node's box (as ranks) from the roots, level by level; a leaf's
    # row goes to its place among the leaves in node order.
    nodes = np.flatnonzero(~is_split)
    position = np.cumsum(~is_split) - 1
    lo_out = np.empty((nodes.size, d), dtype=np.int32)
    hi_out = np.empty((nodes.size, d), dtype=np.int32)
    frontier = start[:-1].copy()
    lo = np.zeros((n_trees, d), dtype=np.int32)
    hi = (n_edges.reshape(n_trees, d) - 1).astype(np.int32)
    while frontier.size:
        inner = is_split[frontier]
        if not inner.all():
            done = position[frontier[~inner]]
            lo_out[done] = lo[~inner]
            hi_out[done] = hi[~inner]
        parent = frontier[inner]
        if parent.size == 0:
            break
        plo, phi = lo[inner], hi[inner]
        rows = np.arange(parent.size)
        f = feature[parent]
        r = split_rank[parent]
        left_hi = phi.copy()
        left_hi[rows, f] = np.minimum(phi[rows, f], r)
        right_lo = plo.copy()
        right_lo[rows, f] = np.maximum(plo[rows, f], r)
        frontier = np.concatenate([left[parent], right[parent]])
        lo = np.concatenate([plo, right_lo])
        hi = np.concatenate([left_hi, phi])
    lo, hi = lo_out, hi_out
    np.maximum(hi, lo, out=hi)
    leaf_tree = tree_of[nodes]
    bounds = np.searchsorted(leaf_tree, np.arange(n_trees + 1))
    values = node_value[nodes]
    if cutoffs is not None:
        values = np.clip(values, cutoffs[0], cutoffs[1])
    out = []
    for t in range(n_trees):
        a, b = bounds[t], bounds[t + 1]
        g0 = group_start[t * d:(t + 1) * d]
        edges = tuple(all_edges[g:g + k] for g, k in zip(g0, n_edges[t * d:(t + 1) * d]))
        tlo = np.ascontiguousarray(lo[a:b].T)
        thi = np.ascontiguousarray(hi[a:b].T)
        lower = np.empty((b - a, d))
        upper = np.empty((b - a, d))
        for j in range(d):
            lower[:, j] = edges[j][tlo[j]]
            upper[:, j] = edges[j][thi[j]]
        out.append(LeafBoxes(lower, upper, values[a:b].copy(), EdgeIndex(edges, tlo, thi)))
    return out


def _accumulate_rows(x: np.ndarray) -> None:
    """Cumulative sum along axis 0, in place.

    Row-by-row vector additions run about three times faster than ``np.cumsum(axis=0)``,
    which accumulates element by element.
    """
    for i in range(1, x.shape[0]):
        np.add(x[i], x[i - 1], out=x[i])


def _other_volume(widths: np.ndarray, exclude: Sequence[int]) -> np.ndarray:
    keep = [k for k in range(widths.shape[1]) if k not in set(exclude)]
    if not keep:
        return np.ones(widths.shape[0])
    return np.prod(widths[:, keep], axis=1)


def _row_product(rows: np.ndarray, keep: Sequence[int]) -> np.ndarray:
    """The product of ``rows[keep]``, multiplied left to right.

    The same numbers, bit for bit, as ``np.prod(rows.T[:, keep], axis=1)`` (which also
    multiplies in order), read from contiguous rows.
    """
    if len(keep) == 0:
        return np.ones(rows.shape[1])
    out = rows[keep[0]].copy()
    for k in keep[1:]:
        out *= rows[k]
    return out


def _stable_order(keys: np.ndarray, n_keys: int) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for integer keys in ``[0, n_keys)``, faster.

    A stable order is unique, so every route gives the same permutation: a radix sort
    on 16-bit keys where they fit, else a sort of keys made distinct by their position.
    """
    if n_keys <= 1 << 16:
        return np.argsort(keys.astype(np.uint16), kind="stable")
    return np.argsort(keys.astype(np.int64) * keys.size + np.arange(keys.size))


class TreeDecomposition:
    """Exact functional ANOVA of one tree under the uniform measure on the unit cube.

    Parameters
    ----------
    boxes
        The tree's leaves (:func:`leaf_boxes`).
    """

    def __init__(self, boxes: LeafBoxes) -> None:
        self.boxes = boxes
        #: ``(d, n_leaves)`` side lengths, one contiguous row per dimension.
        self._rows = np.ascontiguousarray((boxes.upper - boxes.lower).T)
        self._volume = _row_product(self._rows, range(boxes.dim))
        v = boxes.value
        self.mean = float(np.dot(self._volume, v))
        self.variance = float(np.dot(self._volume, (v - self.mean) ** 2))
        self._main: dict[int, np.ndarray] = {}
        self._main_var: dict[int, float] = {}
        self._order: dict[int, np.ndarray] = {}
        #: Use the compiled kernels when Numba is installed (set False to compare).
        self.use_kernels = True

    @property
    def _widths(self) -> np.ndarray:
        return self._rows.T

    def _others(self, exclude: Sequence[int]) -> np.ndarray:
        """Each leaf's volume in every dimension but ``exclude``."""
        return _row_product(self._rows, [k for k in range(self.boxes.dim) if k not in exclude])

    # -- main effects --------------------------------------------------------------------
    def edges(self, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sorted split points of dimension ``j`` and each leaf's interval indices.

        Returns
        -------
        edges, lo_index, hi_index
            ``edges`` includes 0 and 1; leaf ``l`` covers intervals
            ``lo_index[l] .. hi_index[l] - 1``.
        """
        index = self.boxes.edge_index
        return index.edges[j], index.lo[j], index.hi[j]

    def main_marginal(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """The exact marginal of dimension ``j``.

        Returns
        -------
        edges, values
            ``values[k]`` is the marginal (mean prediction with ``x_j`` fixed) on
            ``[edges[k], edges[k+1])``.
        """
        e, ilo, ihi = self.edges(j)
        if j not in self._main:
            c = self.boxes.value * self._others((j,))
            k = e.size
            diff = np.bincount(ilo, weights=c, minlength=k) - np.bincount(ihi, weights=c,
                                                                         minlength=k)
            self._main[j] = np.cumsum(diff)[:-1]
        return e, self._main[j]

    def main_variance(self, j: int) -> float:
        """Variance of the main effect of dimension ``j``."""
        if j not in self._main_var:
            e, f = self.main_marginal(j)
            # Never split on: exactly no effect (not rounding noise).
            self._main_var[j] = (0.0 if e.size == 2 else
                                 float(np.dot(np.diff(e), (f - self.mean) ** 2)))
        return self._main_var[j]

    # -- pairs ---------------------------------------------------------------------------
    def pair_variance(self, j: int, k: int) -> tuple[float, float]:
        """Variance of the pure interaction of ``j`` and ``k`` and of their joint marginal.

        Returns
        -------
        pure, closed
            ``closed`` = variance of the joint marginal; ``pure`` = ``closed`` minus both
            main-effect variances (the variance of joint marginal − both main effects +
            mean, since the three parts are orthogonal).
        """
        ej, ajl, ajh = self.edges(j)
        ek, akl, akh = self.edges(k)
        if ej.size == 2 or ek.size == 2:  # one of them is never split on
            other = k if ej.size == 2 else j
            return 0.0, self.main_variance(other)
        # Centred leaf values make the joint marginal centred (the other-dimension
        # volumes of the leaves covering any cell sum to one), so no pass subtracts it.
        c = (self.boxes.value - self.mean) * self._others((j, k))
        kernels = _kernels.compiled() if self.use_kernels else None
        if kernels is not None:
            closed = kernels.pair_second_moment(ej, ajl, ajh, self.corner_order(j), ek,
                                                akl, akh, c)
        else:
            closed = self._pair_second_moment_grid(ej, ajl, ajh, ek, akl, akh, c)
        closed = max(closed, 0.0)
        pure = closed - self.main_variance(j) - self.main_variance(k)
        return max(pure, 0.0), closed

    def corner_order(self, j: int) -> np.ndarray:
        """The leaves' lower and upper ends in dimension ``j`` sorted by position.

        Index ``l`` stands for the lower end of leaf ``l`` and ``n_leaves + l`` for its
        upper end (a stable sort: ties keep this order).
        """
        if j not in self._order:
            e, lo, hi = self.edges(j)
            self._order[j] = _stable_order(np.concatenate([lo, hi]), e.size)
        return self._order[j]

    def _pair_second_moment_grid(self, ej, ajl, ajh, ek, akl, akh, c) -> float:
        """The NumPy path: the joint marginal on the full grid of split points."""
        wj, wk = np.diff(ej), np.diff(ek)
        nk = ek.size
        n_rows = ej.size - 1  # the last edge row only cancels
        block = max(1, PAIR_BLOCK_CELLS // nk)
        ajl, ajh = ajl.astype(np.intp), ajh.astype(np.intp)
        akl, akh = akl.astype(np.intp), akh.astype(np.intp)
        if n_rows <= block:
            flat = np.concatenate([ajl * nk + akl, ajh * nk + akl, ajl * nk + akh,
                                   ajh * nk + akh])
            dense = np.bincount(flat, weights=np.concatenate([c, -c, -c, c]),
                                minlength=(n_rows + 1) * nk).reshape(n_rows + 1, nk)
            _accumulate_rows(dense)
            np.cumsum(dense, axis=1, out=dense)
            closed = float(wj @ np.square(dense[:-1, :-1]) @ wk)
        else:
            rows = np.concatenate([ajl, ajh, ajl, ajh])
            cols = np.concatenate([akl, akl, akh, akh])
            wts = np.concatenate([c, -c, -c, c])
            order = np.argsort(rows, kind="stable")
            rows, cols, wts = rows[order], cols[order], wts[order]
            carry = np.zeros(nk)
            closed = 0.0
            start = 0
            for a0 in range(0, n_rows, block):
                a1 = min(n_rows, a0 + block)
                stop = int(np.searchsorted(rows, a1, side="left"))
                flat = (rows[start:stop] - a0) * nk + cols[start:stop]
                dense = np.bincount(flat, weights=wts[start:stop],
                                    minlength=(a1 - a0) * nk).reshape(a1 - a0, nk)
                start = stop
                dense[0] += carry
                _accumulate_rows(dense)
                carry = dense[-1].copy()
                np.cumsum(dense, axis=1, out=dense)
                closed += float(wj[a0:a1] @ np.square(dense[:, :-1]) @ wk)
        return closed

    # -- any subset ----------------------------------------------------------------------
    def closed_variance(self, subset: Sequence[int], chunk: int = 1024) -> float:
        """Variance of the joint marginal of ``subset`` (its closed Sobol variance).

        Uses the pairwise overlaps of the leaves' boxes in the subset's dimensions:
        ``E[f_U^2] = sum_l sum_m c_l c_m |box_l ∩ box_m|_U``, O(leaves² · |U|).
        """
        subset = sorted(set(subset))
        if not subset:
            return 0.0
        if len(subset) == self.boxes.dim:
            return self.variance
        c = self.boxes.value * _other_volume(self._widths, subset)
        lo = self.boxes.lower[:, subset]
        hi = self.boxes.upper[:, subset]
        second = 0.0
        for s in range(0, c.size, chunk):
            overlap = np.ones((min(chunk, c.size - s), c.size))
            for d in range(len(subset)):
                o = (np.minimum(hi[s:s + chunk, d, None], hi[None, :, d])
                     - np.maximum(lo[s:s + chunk, d, None], lo[None, :, d]))
                overlap *= np.clip(o, 0.0, None)
            second += float(c[s:s + chunk] @ overlap @ c)
        return max(second - self.mean ** 2, 0.0)

    # -- evaluation on grids -------------------------------------------------------------
    def marginal_on(self, j: int, grid: np.ndarray) -> np.ndarray:
        """The marginal of dimension ``j`` at the (sorted) points ``grid`` in [0, 1].

        The step function of :meth:`main_marginal` read at the points (a point on a
        split belongs to the interval to its right; 1 to the last interval).
        """
        e, f = self.main_marginal(j)
        at = np.searchsorted(e, np.asarray(grid, dtype=float), side="right") - 1
        return f[np.clip(at, 0, f.size - 1)]

    def grid_cells(self, j: int, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each leaf's range of the (sorted) grid points of dimension ``j``.

        Returns
        -------
        first, stop
            Leaf ``l`` covers the points ``first[l] .. stop[l] - 1`` (a point on a
            split belongs to the leaf on its right; 1 to the last).
        """
        e, lo, hi = self.edges(j)
        first = np.searchsorted(grid, e, side="left")
        stop = np.where(e >= 1.0, grid.size, first)
        return first[lo], stop[hi]

    def pair_on(self, j: int, k: int, grid_j: np.ndarray, grid_k: np.ndarray,
                cells: Mapping[int, tuple[np.ndarray, np.ndarray]] | None = None
                ) -> np.ndarray:
        """The joint marginal of ``j`` and ``k`` on the (sorted) grid ``grid_j × grid_k``.

        ``cells`` may hold :meth:`grid_cells` of ``j`` and ``k`` on these grids.
        """
        grid_j = np.asarray(grid_j, dtype=float)
        grid_k = np.asarray(grid_k, dtype=float)
        jl, jh = cells[j] if cells else self.grid_cells(j, grid_j)
        kl, kh = cells[k] if cells else self.grid_cells(k, grid_k)
        c = self.boxes.value * self._others((j, k))
        some = (jl < jh) & (kl < kh)  # leaves that cover no grid point add nothing
        jl, jh, kl, kh, c = jl[some], jh[some], kl[some], kh[some], c[some]
        nj, nk = grid_j.size + 1, grid_k.size + 1
        rows_l, rows_h = jl * nk, jh * nk
        idx = np.concatenate([rows_l + kl, rows_h + kl, rows_l + kh, rows_h + kh])
        wts = np.concatenate([c, -c, -c, c])
        dense = np.bincount(idx, weights=wts, minlength=nj * nk).reshape(nj, nk)
        return np.cumsum(np.cumsum(dense, axis=0), axis=1)[:-1, :-1]


def zero_variance(variance: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Trees whose variance is zero up to rounding (constant trees)."""
    scale = np.maximum(np.abs(mean), 1.0) ** 2
    return variance <= 1e-14 * scale


@dataclass(frozen=True)
class PairCurves:
    """A pair's joint marginal on a grid, per tree.

    Attributes
    ----------
    grid_a, grid_b
        Grid points in [0, 1] of the two dimensions.
    joint
        ``(trees, len(grid_a), len(grid_b))`` joint marginal.
    interaction
        The same minus both main effects plus the mean (0 = no interaction).
    """

    grid_a: np.ndarray
    grid_b: np.ndarray
    joint: np.ndarray
    interaction: np.ndarray


@dataclass(frozen=True)
class ForestDecomposition:
    """The exact functional ANOVA of every tree of a forest.

    Attributes
    ----------
    mean, variance
        ``(trees,)`` each tree's mean and total variance.
    main
        ``(trees, d)`` variance of each main effect.
    pair
        ``(trees, d, d)`` variance of each pure pairwise effect (symmetric; zero where
        pairs were not computed).
    pairs_computed
        Whether :attr:`pair` holds the pairs.
    grids, curves
        Per dimension with a requested grid: the points in [0, 1] and the
        ``(trees, points)`` marginal there.
    pair_curves
        ``(j, k) -> PairCurves`` for the pairs whose grids were requested.
    """

    mean: np.ndarray
    variance: np.ndarray
    main: np.ndarray
    pair: np.ndarray
    pairs_computed: bool
    grids: Mapping[int, np.ndarray] = field(default_factory=dict)
    curves: Mapping[int, np.ndarray] = field(default_factory=dict)
    pair_curves: Mapping[tuple[int, int], PairCurves] = field(default_factory=dict)

    @property
    def n_trees(self) -> int:
        """Trees decomposed."""
        return int(self.mean.shape[0])


def decompose_trees(
    trees: Sequence[LeafBoxes],
    *,
    pairs: bool = True,
    grids: Mapping[int, np.ndarray] | None = None,
    pair_grids: Mapping[int, np.ndarray] | None = None,
    n_threads: int = 1,
) -> ForestDecomposition:
    """Exact functional ANOVA of each tree of a forest.

    The trees are decomposed together, in batches of about :data:`BATCH_LEAVES`
    leaves: every per-leaf quantity is one array operation over the batch, and only the
    sums that must run tree by tree (dot products, cumulative sums, the pair kernel)
    loop over trees. Each tree's numbers are those of :class:`TreeDecomposition`, bit
    for bit.

    Parameters
    ----------
    trees
        The trees as leaf boxes (cutoffs already applied), all of dimension ``d``.
    pairs
        Compute every pure pairwise effect's variance.
    grids
        ``dimension -> sorted points in [0, 1]`` where the marginal curve is wanted.
    pair_grids
        ``dimension -> sorted points``: the joint marginal (and its interaction part)
        of every pair of these dimensions is evaluated on the product of their grids.
    n_threads
        The pair kernel runs on this many threads (it releases the interpreter lock);
        the numbers do not depend on it.

    Returns
    -------
    ForestDecomposition
    """
    grids = {j: np.asarray(g, dtype=float) for j, g in (grids or {}).items()}
    pair_grids = {j: np.asarray(g, dtype=float) for j, g in (pair_grids or {}).items()}
    t = len(trees)
    d = trees[0].dim if t else 0
    out = _Outputs(t, d, grids, pair_grids)
    kernels = _kernels.compiled() if pairs and d > 1 and t else None
    with single_threaded_blas(), ThreadPoolExecutor(max(1, int(n_threads))) as pool:
        start = 0
        while start < t:
            stop, leaves = start, 0
            while stop < t and (stop == start or leaves + trees[stop].n_leaves <= BATCH_LEAVES):
                leaves += trees[stop].n_leaves
                stop += 1
            _Batch(trees[start:stop], start, out).run(pairs, kernels, pool, int(n_threads))
            start = stop
    return ForestDecomposition(
        mean=out.mean, variance=out.variance, main=out.main, pair=out.pair,
        pairs_computed=pairs, grids=grids, curves=out.curves,
        pair_curves={jk: PairCurves(pair_grids[jk[0]], pair_grids[jk[1]], out.joint[jk],
                                    out.inter[jk]) for jk in out.grid_pairs})


#: :func:`decompose_trees` works on batches of trees of about this many leaves: enough
#: small trees to share each array operation, few enough that a batch's arrays stay in
#: the processor's cache (one big batch is twice as slow on trees of thousands of leaves).
BATCH_LEAVES = 1 << 14


class _Outputs:
    """The arrays :func:`decompose_trees` fills, tree by tree."""

    def __init__(self, t: int, d: int, grids: Mapping[int, np.ndarray],
                 pair_grids: Mapping[int, np.ndarray]) -> None:
        self.mean = np.empty(t)
        self.variance = np.empty(t)
        self.main = np.zeros((t, d))
        self.pair = np.zeros((t, d, d))
        self.grids, self.pair_grids = grids, pair_grids
        self.curves = {j: np.empty((t, g.size)) for j, g in grids.items()}
        self.grid_pairs = list(combinations(sorted(pair_grids), 2))
        self.joint = {jk: np.empty((t, pair_grids[jk[0]].size, pair_grids[jk[1]].size))
                      for jk in self.grid_pairs}
        self.inter = {jk: np.empty_like(self.joint[jk]) for jk in self.grid_pairs}


class _Batch:
    """Consecutive trees of a forest, their leaves side by side.

    Leaf ``l`` of tree ``i`` of the batch sits at ``offset[i] + l``; dimension ``j``'s
    split points of all trees sit side by side in ``edges[j]`` (tree ``i``'s from
    ``edge_offset[j][i]``), and ``first[j]``/``stop[j]`` are each leaf's interval as
    indices into that array.
    """

    def __init__(self, trees: Sequence[LeafBoxes], base: int, out: _Outputs) -> None:
        self.trees, self.base, self.out = trees, base, out
        self.d = d = trees[0].dim
        sizes = np.array([b.n_leaves for b in trees], dtype=np.intp)
        self.offset = np.zeros(len(trees) + 1, dtype=np.intp)
        np.cumsum(sizes, out=self.offset[1:])
        self.tree_of = np.repeat(np.arange(len(trees)), sizes)
        self.value = np.concatenate([b.value for b in trees])
        self.rows = np.concatenate([(b.upper - b.lower).T for b in trees], axis=1)
        self.index = [b.edge_index for b in trees]
        self.edges, self.edge_offset, self.first, self.stop = [], [], [], []
        for j in range(d):
            counts = np.array([ix.edges[j].size for ix in self.index], dtype=np.intp)
            off = np.zeros(len(trees) + 1, dtype=np.intp)
            np.cumsum(counts, out=off[1:])
            shift = off[self.tree_of]
            self.edges.append(np.concatenate([ix.edges[j] for ix in self.index]))
            self.edge_offset.append(off)
            self.first.append(np.concatenate([ix.lo[j] for ix in self.index]) + shift)
            self.stop.append(np.concatenate([ix.hi[j] for ix in self.index]) + shift)
        self.cums: list[np.ndarray] = []

    def others(self, exclude: Sequence[int]) -> np.ndarray:
        return _row_product(self.rows, [k for k in range(self.d) if k not in exclude])

    def run(self, pairs: bool, kernels: Any, pool: ThreadPoolExecutor, n_threads: int) -> None:
        out, n, d = self.out, len(self.trees), self.d
        rows = slice(self.base, self.base + n)
        volume = _row_product(self.rows, range(d))
        mean, variance = out.mean[rows], out.variance[rows]
        for i, (a, b) in enumerate(zip(self.offset[:-1], self.offset[1:])):
            mean[i] = float(np.dot(volume[a:b], self.value[a:b]))
        centred = self.value - np.repeat(mean, np.diff(self.offset))
        square = centred ** 2
        for i, (a, b) in enumerate(zip(self.offset[:-1], self.offset[1:])):
            variance[i] = float(np.dot(volume[a:b], square[a:b]))
        main = out.main[rows]
        for j in range(d):
            self.cums.append(self._main_effect(j, mean, main[:, j]))
        for j, grid in out.grids.items():
            out.curves[j][rows] = self.marginal_on(j, grid)
        if pairs and d > 1:
            self._pairs(kernels, centred, main, out.pair[rows], variance, pool, n_threads)
        if out.grid_pairs:
            self._pair_grids(mean, rows)

    def _main_effect(self, j: int, mean: np.ndarray, main: np.ndarray) -> np.ndarray:
        """Each tree's marginal of ``j`` (cumulative sums, side by side); fills ``main``."""
        c = self.value * self.others((j,))
        e, off = self.edges[j], self.edge_offset[j]
        k = e.size
        diff = np.bincount(self.first[j], weights=c, minlength=k) - np.bincount(
            self.stop[j], weights=c, minlength=k)
        # One cumulative sum per tree: rows of a padded table (each row sums in order).
        counts = np.diff(off)
        tree = np.repeat(np.arange(counts.size), counts)
        place = np.arange(k) - off[tree]
        table = np.zeros((counts.size, int(counts.max())))
        table[tree, place] = diff
        np.cumsum(table, axis=1, out=table)
        cums = table[tree, place]
        widths = np.diff(e)  # tree i's widths are widths[off[i]:off[i + 1] - 1]
        square = (cums - mean[tree]) ** 2
        for i in range(counts.size):
            a, b = off[i], off[i + 1]
            # Never split on: exactly no effect (not rounding noise).
            main[i] = 0.0 if b - a == 2 else float(np.dot(widths[a:b - 1], square[a:b - 1]))
        return cums

    def marginal_on(self, j: int, grid: np.ndarray) -> np.ndarray:
        """``(trees, points)``: each tree's marginal of ``j`` read at ``grid``."""
        off, e, cums = self.edge_offset[j], self.edges[j], self.cums[j]
        at = np.empty((len(self.trees), grid.size), dtype=np.intp)
        for i in range(len(self.trees)):
            a, b = off[i], off[i + 1]
            # The interval each point falls in (1 belongs to the last; grids start >= 0).
            at[i] = np.searchsorted(e[a:b], grid, side="right")
            np.minimum(at[i], b - a - 1, out=at[i])
        at += off[:-1, None] - 1
        return cums[at]

    def _pairs(self, kernels: Any, centred: np.ndarray, main: np.ndarray, pair: np.ndarray,
               variance: np.ndarray, pool: ThreadPoolExecutor, n_threads: int) -> None:
        d = self.d
        all_pairs = list(combinations(range(d), 2))
        weights = {jk: centred * self.others(jk) for jk in all_pairs}
        corners = {j: self._corner_order(j) for j in range(d)} if kernels else {}

        def tree(i: int) -> None:
            if not variance[i] > 0:
                return
            boxes, a, b = self.trees[i], self.offset[i], self.offset[i + 1]
            index = self.index[i]
            for j, k in all_pairs:
                ej, ek = index.edges[j], index.edges[k]
                if ej.size == 2 or ek.size == 2:  # one of them is never split on
                    continue
                c = weights[(j, k)][a:b]
                if kernels is not None:
                    order = corners[j][2 * a:2 * b] - 2 * a
                    closed = kernels.pair_second_moment(ej, index.lo[j], index.hi[j], order,
                                                        ek, index.lo[k], index.hi[k], c)
                else:
                    closed = TreeDecomposition(boxes)._pair_second_moment_grid(
                        ej, index.lo[j], index.hi[j], ek, index.lo[k], index.hi[k], c)
                closed = max(closed, 0.0)
                pure = max(closed - main[i, j] - main[i, k], 0.0)
                pair[i, j, k] = pair[i, k, j] = pure

        if n_threads > 1 and len(self.trees) > 1:
            for _ in pool.map(tree, range(len(self.trees))):
                pass
        else:
            for i in range(len(self.trees)):
                tree(i)

    def _corner_order(self, j: int) -> np.ndarray:
        """Each tree's :meth:`TreeDecomposition.corner_order` of ``j``, side by side
        (tree ``i``'s at ``2 * offset[i]``, as global positions)."""
        n = self.value.size
        local = np.arange(n) - self.offset[self.tree_of]
        keys = np.empty(2 * n, dtype=np.int64)
        at = 2 * self.offset[self.tree_of] + local
        keys[at] = self.first[j]
        keys[at + np.diff(self.offset)[self.tree_of]] = self.stop[j]
        return _stable_order(keys, self.edges[j].size)

    def _pair_grids(self, mean: np.ndarray, rows: slice) -> None:
        out, n = self.out, len(self.trees)
        cells, on_grid = {}, {}
        for j, grid in out.pair_grids.items():
            off, e = self.edge_offset[j], self.edges[j]
            first = np.empty(e.size, dtype=np.intp)
            for i in range(n):
                a, b = off[i], off[i + 1]
                first[a:b] = np.searchsorted(grid, e[a:b], side="left")
            stop = np.where(e >= 1.0, grid.size, first)
            cells[j] = (first[self.first[j]], stop[self.stop[j]])
            on_grid[j] = self.marginal_on(j, grid)
        tree_of = self.tree_of
        for j, k in out.grid_pairs:
            nj, nk = out.pair_grids[j].size + 1, out.pair_grids[k].size + 1
            (jl, jh), (kl, kh) = cells[j], cells[k]
            c = self.value * self.others((j, k))
            some = (jl < jh) & (kl < kh)  # leaves that cover no grid point add nothing
            base = tree_of[some] * (nj * nk)
            jl, jh, kl, kh, c = jl[some] * nk, jh[some] * nk, kl[some], kh[some], c[some]
            idx = np.concatenate([base + jl + kl, base + jh + kl, base + jl + kh,
                                  base + jh + kh])
            dense = np.bincount(idx, weights=np.concatenate([c, -c, -c, c]),
                                minlength=n * nj * nk).reshape(n, nj, nk)
            total = np.cumsum(np.cumsum(dense, axis=1), axis=2)[:, :-1, :-1]
            out.joint[(j, k)][rows] = total
            out.inter[(j, k)][rows] = (total - on_grid[j][:, :, None]
                                       - on_grid[k][:, None, :] + mean[:, None, None])


def forest_mean_effects(trees: Sequence[LeafBoxes], *, pairs: bool = True,
                        means: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact main and pure pair variances of the forest-mean function ``F = mean_t f_t``.

    The leaves of all trees, each value centred by its tree's mean and divided by the
    number of trees, form one sum of boxes whose marginals are exactly ``F``'s centred
    marginals (marginals are linear in the boxes; overlapping boxes are allowed), so the
    one-tree formulas and the compiled pair kernel apply unchanged. ``F``'s total
    variance is not such a sum (it is quadratic across trees); callers estimate it
    separately.

    Parameters
    ----------
    trees
        The trees as leaf boxes (cutoffs already applied).
    pairs
        Compute the pure pairs too.
    means
        ``(trees,)`` each tree's mean, when already known.

    Returns
    -------
    main, pair
        ``(d,)`` and symmetric ``(d, d)`` variances (pure pairs clamped at zero).
    """
    t = len(trees)
    d = trees[0].dim
    if means is None:
        means = np.array([TreeDecomposition(b).mean for b in trees])
    merged = LeafBoxes(np.concatenate([b.lower for b in trees]),
                       np.concatenate([b.upper for b in trees]),
                       np.concatenate([(b.value - m) / t for b, m in zip(trees, means)]))
    kernels = _kernels.compiled()
    if kernels is not None:  # the same arithmetic in one compiled call
        main, pair = kernels.forest_mean_variances(
            np.ascontiguousarray(merged.lower, dtype=np.float64),
            np.ascontiguousarray(merged.upper, dtype=np.float64),
            np.ascontiguousarray(merged.value, dtype=np.float64), bool(pairs))
        return main, pair
    with single_threaded_blas():
        dec = TreeDecomposition(merged)
        main = np.array([dec.main_variance(j) for j in range(d)])
        pair = np.zeros((d, d))
        if pairs:
            for j, k in combinations(range(d), 2):
                pair[j, k] = pair[k, j] = dec.pair_variance(j, k)[0]
    return main, pair


def closed_variances(trees: Sequence[LeafBoxes], subset: Sequence[int]) -> np.ndarray:
    """``(trees,)`` the closed variance of ``subset`` (its joint marginal) in each tree."""
    with single_threaded_blas():
        return np.array([TreeDecomposition(b).closed_variance(subset) for b in trees])


_blas_lock = threading.Lock()
_blas_users = 0
_blas_limit: Any = None


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the block with BLAS on one thread (re-entrant, shared by concurrent callers).

    The decomposition's dot products go through BLAS, whose threaded kernels split long
    vectors over threads and so round differently with another thread count. On one
    thread the numbers do not depend on the machine's cores or on how fits are spread
    over processes. Without threadpoolctl (a scikit-learn dependency) nothing changes.
    """
    global _blas_users, _blas_limit
    with _blas_lock:
        if _blas_users == 0:
            _blas_limit = _limit_blas()
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0 and _blas_limit is not None:
                _blas_limit.restore_original_limits()
                _blas_limit = None


_controller: list[Any] = []


def _limit_blas() -> Any:
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return None
    if not _controller:
        _controller.append(ThreadpoolController())
    return _controller[0].limit(limits=1, user_api="blas")
