"""Compiled kernels of the forest surrogate (Numba), imported only when a forest is fitted.

The work is a list of *tasks*, one per tree: tree ``t`` of problem ``p`` (a problem is one
forest's trials, ``rows[row_start[p]:row_start[p + 1]]`` of the stacked inputs). Each
task draws its bootstrap and grows its tree with a random stream of its own, seeded from
the problem's seed and the tree's number (:func:`task_state`), so a forest is the same
bit for bit whatever the number of threads or the tasks it is fitted with.

Dimension kinds: ``0`` a range (splits at the midpoint between neighbouring values, as
scikit-learn's), ``1`` ordered cells (splits on a cell boundary between two observed
levels, so a level missing from the node is never cut in two) and ``2`` unordered cells
(splits over subsets of levels: the node's levels ordered by mean response and the best
prefix taken, which is optimal for squared error; levels absent from the node go with
the heavier side). A node routes a point by ``x <= threshold`` (kind 0), by its cell
index ``level < cut`` (kind 1; when predicting, ``x <= threshold`` with the threshold
just below the cell boundary, the same thing) or by bit ``level`` of ``mask`` (kind 2).
"""

from __future__ import annotations

import types

import numpy as np
from numba import njit, prange

#: Spread below which a node's values of a dimension count as constant (scikit-learn's).
FEATURE_THRESHOLD = 1e-7
#: Impurity at or below which a node is a leaf (scikit-learn's ``EPSILON``).
EPSILON = float(np.finfo(np.float64).eps)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_ONE = np.uint64(1)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53
#: Points predicted together, one tree after another (the sum over trees of each point
#: still runs in tree order).
POINT_CHUNK = 512


@njit(cache=True, nogil=True)
def _mix(z):
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(cache=True, nogil=True)
def _next(state):
    """splitmix64: the next 64 random bits of ``state`` (a one-element uint64 array)."""
    state[0] += _GOLDEN
    return _mix(state[0])


@njit(cache=True, nogil=True)
def _below(state, n):
    """A random whole number in ``[0, n)``."""
    k = np.int64(np.float64(_next(state) >> _S11) * _TO_UNIT * n)
    return k if k < n else n - 1


@njit(cache=True, nogil=True)
def task_state(seed, tree):
    """The random stream of tree ``tree`` of a forest seeded ``seed``."""
    state = np.empty(1, dtype=np.uint64)
    state[0] = _mix(np.uint64(seed) + _GOLDEN) ^ _mix(np.uint64(tree) * _GOLDEN + _ONE)
    return state


@njit(cache=True, nogil=True)
def _route_left(kind, thr, cut, mask, f, x, lev):
    k = kind[f]
    if k == 0:
        return x <= thr
    if k == 1:
        return lev < cut
    return ((mask >> np.uint64(lev)) & _ONE) == _ONE


@njit(cache=True, nogil=True)
def _level_set(prefix, wl, wr, lc, k, lowest):
    """The left set of a split over levels, in one canonical form.

    ``prefix`` holds the levels ranked before the cut. Levels absent from the node
    (``lc == 0``) join the heavier side (on equal weights, the side of the ``lowest``
    level present); the set returned is the side holding ``lowest``.
    """
    bits = prefix
    prefix_has_lowest = ((prefix >> np.uint64(lowest)) & _ONE) == _ONE
    if wl > wr or (wl == wr and prefix_has_lowest):
        for b in range(k):
            if lc[b] == 0:
                bits |= _ONE << np.uint64(b)
    full = ~np.uint64(0) if k >= 64 else (_ONE << np.uint64(k)) - _ONE
    if not prefix_has_lowest:
        bits = full & ~bits
    return bits


@njit(cache=True, nogil=True)
def _grow(x, lev, y, order, start, n, kind, n_levels, edges, edge_start, mtry, max_depth,
          min_split, min_leaf, bootstrap, state, feat, thr, cut, mask, left, right, value, inbag):
    """Grow one tree on rows ``start .. start + n - 1``; returns its number of nodes.

    ``inbag[i]`` is set to each row's bootstrap count. Nodes are numbered parents first,
    the two children of a split one after the other (``right == left + 1``); leaves have
    ``left == -1``.
    """
    d = x.shape[1]
    w = np.zeros(n, dtype=np.float64)
    if bootstrap:
        for _ in range(n):
            w[_below(state, n)] += 1.0
    else:
        w[:] = 1.0
    # Each row's weighted response, and its coordinates dimension by dimension (read
    # in the split search's inner loop).
    wy = np.empty(n)
    xt = np.empty((d, n))
    for i in range(n):
        wy[i] = w[i] * y[start + i]
        for j in range(d):
            xt[j, i] = x[start + i, j]
    m = 0
    for i in range(n):
        inbag[i] = np.int32(w[i])
        if w[i] > 0:
            m += 1
    samples = np.empty(m, dtype=np.int64)
    m = 0
    for i in range(n):
        if w[i] > 0:
            samples[m] = i
            m += 1
    max_levels = 1
    for j in range(d):
        if kind[j] != 0 and n_levels[j] > max_levels:
            max_levels = n_levels[j]
    lw = np.zeros(max_levels)
    ls = np.zeros(max_levels)
    lc = np.zeros(max_levels, dtype=np.int64)
    present = np.empty(max_levels, dtype=np.int64)
    means = np.empty(max_levels)
    suf_w = np.empty(max_levels + 1)
    suf_s = np.empty(max_levels + 1)
    buf = np.empty(m, dtype=np.int64)
    features = np.arange(d)
    # Each range dimension's rows sorted once by value, each ordered cells dimension's
    # by cell (rows of one cell in their order in ``samples``); every split partitions
    # the lists stably, so a node's rows stay sorted (no sort, and no pass over all
    # cells, per node).
    slot = np.full(d, -1, dtype=np.int64)
    n_ranges = 0
    for j in range(d):
        if kind[j] != 2:
            slot[j] = n_ranges
            n_ranges += 1
    # ``order`` holds the problem's rows sorted once for all its trees (a stable sort:
    # ties in row order); a tree keeps its bootstrap's rows in that order.
    by_value = np.empty((n_ranges, m), dtype=np.int64)
    for j in range(d):
        if slot[j] >= 0:
            r = slot[j]
            q2 = 0
            for q in range(n):
                i = order[start + q, j]
                if w[i] > 0:
                    by_value[r, q2] = i
                    q2 += 1
    goes_left = np.zeros(n, dtype=np.bool_)
    # Stack of (start, end, depth, node); a split numbers its two children at once
    # (the right one is the left one plus one, which is how predictions step down).
    st_s = np.empty(m + 1, dtype=np.int64)
    st_e = np.empty(m + 1, dtype=np.int64)
    st_d = np.empty(m + 1, dtype=np.int64)
    st_n = np.empty(m + 1, dtype=np.int64)
    st_s[0], st_e[0], st_d[0], st_n[0] = 0, m, 0, 0
    top = 1
    count = 1
    while top > 0:
        top -= 1
        s, e, depth, node = st_s[top], st_e[top], st_d[top], st_n[top]
        big_w = 0.0
        big_s = 0.0
        big_ss = 0.0
        for q in range(s, e):
            i = samples[q]
            big_w += w[i]
            big_s += wy[i]
            big_ss += wy[i] * y[start + i]
        c = e - s
        mean = big_s / big_w
        value[node] = mean
        left[node] = -1
        right[node] = -1
        feat[node] = -1
        impurity = big_ss / big_w - mean * mean
        if (depth >= max_depth or c < min_split or c < 2 * min_leaf
                or impurity <= EPSILON):
            continue
        best = -np.inf
        best_f = -1
        best_thr = 0.0
        best_cut = 0
        best_mask = np.uint64(0)
        visited = 0
        for fi in range(d):
            r = fi + _below(state, d - fi)
            f = features[r]
            features[r] = features[fi]
            features[fi] = f
            kf = kind[f]
            if kf == 0:
                rows = by_value[slot[f], s:e]
                xf = xt[f]
                if xf[rows[c - 1]] <= xf[rows[0]] + FEATURE_THRESHOLD:
                    continue
                visited += 1
                wl = 0.0
                sl = 0.0
                x_next = xf[rows[0]]
                for p in range(c - 1):
                    i = rows[p]
                    wl += w[i]
                    sl += wy[i]
                    x_now = x_next
                    x_next = xf[rows[p + 1]]
                    if x_next <= x_now + FEATURE_THRESHOLD:
                        continue
                    if p + 1 < min_leaf or c - p - 1 < min_leaf:
                        continue
                    sr = big_s - sl
                    proxy = sl * sl / wl + sr * sr / (big_w - wl)
                    if proxy > best:
                        best = proxy
                        best_f = f
                        best_mask = np.uint64(0)
                        t = x_now / 2.0 + x_next / 2.0
                        if t == x_next or not np.isfinite(t):
                            t = x_now
                        best_thr = t
            elif kf == 1:
                # The node's cells in order, from its rows sorted by cell: ``present``,
                # and per cell (by rank) its weight, sum and trials in ``lw``, ``ls``,
                # ``lc``, each sum over the cell's rows in ``samples`` order.
                rows = by_value[slot[f], s:e]
                n_present = 0
                a = -1
                for q in range(c):
                    i = rows[q]
                    level = lev[start + i, f]
                    if level != a:
                        a = level
                        present[n_present] = a
                        lw[n_present] = 0.0
                        ls[n_present] = 0.0
                        lc[n_present] = 0
                        n_present += 1
                    lw[n_present - 1] += w[i]
                    ls[n_present - 1] += wy[i]
                    lc[n_present - 1] += 1
                if n_present < 2:
                    continue
                visited += 1
                suf_w[n_present] = 0.0
                suf_s[n_present] = 0.0
                for p in range(n_present - 1, -1, -1):
                    suf_w[p] = suf_w[p + 1] + lw[p]
                    suf_s[p] = suf_s[p + 1] + ls[p]
                wl = 0.0
                sl = 0.0
                cl = 0
                for p in range(n_present - 1):
                    wl += lw[p]
                    sl += ls[p]
                    cl += lc[p]
                    if cl < min_leaf or c - cl < min_leaf:
                        continue
                    wr = suf_w[p + 1]
                    sr = suf_s[p + 1]
                    proxy = sl * sl / wl + sr * sr / wr
                    if proxy > best:
                        best = proxy
                        best_f = f
                        best_mask = np.uint64(0)
                        best_cut = present[p + 1]  # set below: nearest boundary
                        best_thr = float(present[p])  # remember the left level
            else:
                k = n_levels[f]
                for a in range(k):
                    lw[a] = 0.0
                    ls[a] = 0.0
                    lc[a] = 0
                for q in range(s, e):
                    i = samples[q]
                    a = lev[start + i, f]
                    lw[a] += w[i]
                    ls[a] += wy[i]
                    lc[a] += 1
                n_present = 0
                for a in range(k):
                    if lc[a] > 0:
                        present[n_present] = a
                        n_present += 1
                if n_present < 2:
                    continue
                visited += 1
                if kf == 2:
                    for q in range(n_present):
                        means[q] = ls[present[q]] / lw[present[q]]
                    order = np.argsort(means[:n_present], kind="mergesort")
                    ranked = present[:n_present][order]
                else:
                    ranked = present[:n_present]
                # Right-hand sums accumulated from the far end: a partition scores the
                # same whichever side its levels were ranked from (a response and its
                # negation give mirrored trees).
                suf_w[n_present] = 0.0
                suf_s[n_present] = 0.0
                for p in range(n_present - 1, -1, -1):
                    suf_w[p] = suf_w[p + 1] + lw[ranked[p]]
                    suf_s[p] = suf_s[p + 1] + ls[ranked[p]]
                wl = 0.0
                sl = 0.0
                cl = 0
                set_bits = np.uint64(0)
                for p in range(n_present - 1):
                    a = ranked[p]
                    wl += lw[a]
                    sl += ls[a]
                    cl += lc[a]
                    set_bits |= _ONE << np.uint64(a)
                    if cl < min_leaf or c - cl < min_leaf:
                        continue
                    wr = suf_w[p + 1]
                    sr = suf_s[p + 1]
                    proxy = sl * sl / wl + sr * sr / wr
                    if proxy > best:
                        best = proxy
                        best_f = f
                        if kf == 2:
                            best_mask = _level_set(set_bits, wl, wr, lc, k, present[0])
                        else:
                            best_mask = np.uint64(0)
                            best_cut = ranked[p + 1]  # set below: nearest boundary
                            best_thr = float(a)  # remember the left level
            if visited >= mtry:
                break
        if best_f < 0:
            continue
        kf = kind[best_f]
        if kf == 1:
            # A cell boundary between the last level on the left (a) and the first on
            # the right (b): the one nearest the midpoint of their cells' centres.
            a = np.int64(best_thr)
            b = best_cut
            e0 = edge_start[best_f]
            mid = 0.25 * (edges[e0 + a] + edges[e0 + a + 1] + edges[e0 + b]
                          + edges[e0 + b + 1])
            best_cut = a + 1
            for cb in range(a + 2, b + 1):
                if abs(edges[e0 + cb] - mid) < abs(edges[e0 + best_cut] - mid):
                    best_cut = cb
            best_thr = np.nextafter(edges[e0 + best_cut], -np.inf)
        # Partition the node's rows: left ones first, each side in its old order (the
        # same for every dimension's sorted list).
        nl = 0
        for q in range(s, e):
            i = samples[q]
            left_of = _route_left(kind, best_thr, best_cut, best_mask, best_f,
                                  x[start + i, best_f], lev[start + i, best_f])
            goes_left[i] = left_of
            nl += np.int64(left_of)
        a = 0
        b = nl
        for q in range(s, e):  # without a branch: the sides are not predictable
            i = samples[q]
            go = np.int64(goes_left[i])
            buf[b + (a - b) * go] = i
            a += go
            b += 1 - go
        for q in range(c):
            samples[s + q] = buf[q]
        for r in range(n_ranges):
            rows = by_value[r, s:e]
            a = 0
            b = nl
            for q in range(c):  # without a branch: the sides are not predictable
                i = rows[q]
                go = np.int64(goes_left[i])
                buf[b + (a - b) * go] = i
                a += go
                b += 1 - go
            for q in range(c):
                rows[q] = buf[q]
        # A split over a set of levels is marked by its feature stored as -(f + 2).
        feat[node] = best_f if best_mask == 0 else -best_f - 2
        thr[node] = best_thr
        cut[node] = best_cut
        mask[node] = best_mask
        left[node] = count
        right[node] = count + 1
        count += 2
        st_s[top], st_e[top], st_d[top], st_n[top] = s + nl, e, depth + 1, count - 1
        top += 1
        st_s[top], st_e[top], st_d[top], st_n[top] = s, s + nl, depth + 1, count - 2
        top += 1
    return count


@njit(cache=True, nogil=True)
def _leaf_node(x, lev, row, feat, thr, mask, left):
    """The leaf that row ``row`` of ``x`` (cells in ``lev``) falls in.

    A split over levels has a non-empty ``mask``; every other split routes by
    ``x <= thr`` (for ordered cells ``thr`` lies just below the boundary, so a point
    goes left exactly when its cell does).
    """
    node = 0
    while True:
        child = left[node]
        if child < 0:
            return node
        f = feat[node]
        if f >= 0:
            node = child + (x[row, f] > thr[node])
        else:
            f = -f - 2
            node = child + (((mask[node] >> np.uint64(lev[row, f])) & _ONE) == 0)


@njit(cache=True, nogil=True)
def _leaf_value(x, lev, row, feat, thr, mask, left, right, value):
    """The value of the leaf that row ``row`` of ``x`` (cells in ``lev``) falls in."""
    return value[_leaf_node(x, lev, row, feat, thr, mask, left)]


def _grow_block(x, lev, y, order, row_start, task_problem, task_tree, seeds, kind, n_levels, edges,
               edge_start, mtry, max_depth, min_split, min_leaf, bootstrap,
               feat, thr, cut, mask, left, right, value, inbag, n_nodes):
    """Grow the trees of a block of tasks, one per row of the node arrays, in parallel."""
    for t in prange(task_problem.shape[0]):
        p = task_problem[t]
        start = row_start[p]
        n = row_start[p + 1] - start
        state = task_state(seeds[p], task_tree[t])
        n_nodes[t] = _grow(x, lev, y, order, start, n, kind, n_levels, edges, edge_start, mtry,
                           max_depth, min_split, min_leaf, bootstrap, state, feat[t],
                           thr[t], cut[t], mask[t], left[t], right[t], value[t], inbag[t])


@njit(cache=True, nogil=True)
def _boxes(d, kind, n_levels, edges, edge_start, feat, thr, cut, mask, left, right, value,
           n, fill, lower, upper, out_value):
    """One tree's leaves as boxes; with ``fill`` False only counts them.

    A leaf whose set of unordered levels is not one run of neighbouring cells becomes
    one box per run (per combination of runs over several such dimensions), all with
    the leaf's value: the boxes still partition the cube.
    """
    lo = np.zeros((n, d))
    hi = np.ones((n, d))
    allowed = np.zeros((n, d), dtype=np.uint64)
    for j in range(d):
        if kind[j] == 2:
            allowed[0, j] = (_ONE << np.uint64(n_levels[j])) - _ONE if n_levels[j] < 64 \
                else ~np.uint64(0)
    run_a = np.empty((d, 33), dtype=np.int64)
    run_b = np.empty((d, 33), dtype=np.int64)
    n_runs = np.zeros(d, dtype=np.int64)
    digit = np.zeros(d, dtype=np.int64)
    out = 0
    for i in range(n):
        a = left[i]
        if a == -1:
            total = 1
            for j in range(d):
                if kind[j] != 2:
                    continue
                bits = allowed[i, j]
                r = 0
                b = 0
                k = n_levels[j]
                while b < k:
                    if (bits >> np.uint64(b)) & _ONE:
                        run_a[j, r] = b
                        while b < k and (bits >> np.uint64(b)) & _ONE:
                            b += 1
                        run_b[j, r] = b
                        r += 1
                    else:
                        b += 1
                n_runs[j] = r
                total *= r
            if fill:
                for j in range(d):
                    digit[j] = 0
                for _ in range(total):
                    for j in range(d):
                        if kind[j] == 2:
                            e0 = edge_start[j]
                            lower[out, j] = edges[e0 + run_a[j, digit[j]]]
                            upper[out, j] = edges[e0 + run_b[j, digit[j]]]
                        else:
                            lower[out, j] = lo[i, j]
                            upper[out, j] = hi[i, j]
                    out_value[out] = value[i]
                    out += 1
                    for j in range(d):  # next combination of runs
                        if kind[j] != 2:
                            continue
                        digit[j] += 1
                        if digit[j] < n_runs[j]:
                            break
                        digit[j] = 0
            else:
                out += total
            continue
        b = right[i]
        for j in range(d):
            lo[a, j] = lo[i, j]
            hi[a, j] = hi[i, j]
            lo[b, j] = lo[i, j]
            hi[b, j] = hi[i, j]
            allowed[a, j] = allowed[i, j]
            allowed[b, j] = allowed[i, j]
        f = feat[i]
        if f < 0:
            f = -f - 2
        if kind[f] == 2:
            allowed[a, f] = allowed[i, f] & mask[i]
            allowed[b, f] = allowed[i, f] & ~mask[i]
        else:
            t = thr[i] if kind[f] == 0 else edges[edge_start[f] + cut[i]]
            hi[a, f] = min(hi[i, f], t)
            lo[b, f] = max(lo[i, f], t)
    return out


def _count_boxes(d, kind, n_levels, edges, edge_start, feat, thr, cut, mask, left, right,
                value, n_nodes, n_boxes):
    """Each tree's number of boxes."""
    dummy = np.empty((0, d))
    dummy_v = np.empty(0)
    for t in prange(n_nodes.shape[0]):
        n_boxes[t] = _boxes(d, kind, n_levels, edges, edge_start, feat[t], thr[t], cut[t],
                            mask[t], left[t], right[t], value[t], n_nodes[t], False, dummy,
                            dummy, dummy_v)


def _fill_boxes(d, kind, n_levels, edges, edge_start, feat, thr, cut, mask, left, right,
               value, n_nodes, box_start, lower, upper, out_value):
    """Each tree's boxes, tree ``t``'s at rows ``box_start[t] .. box_start[t + 1] - 1``."""
    for t in prange(n_nodes.shape[0]):
        a = box_start[t]
        b = box_start[t + 1]
        _boxes(d, kind, n_levels, edges, edge_start, feat[t], thr[t], cut[t], mask[t],
               left[t], right[t], value[t], n_nodes[t], True, lower[a:b], upper[a:b],
               out_value[a:b])


@njit(cache=True, nogil=True)
def _steps(feat, thr, left, n, shift, code, ts):
    """A tree as steps every point takes together: ``code`` holds each node's next
    node less one, shifted left by ``shift`` bits, and its split dimension in the bits
    below; ``ts`` the threshold. A leaf steps to itself (``x > inf`` is false).

    Fills nodes ``0 .. n - 1`` and returns the depth of the tree's deepest leaf, or -1
    when the tree has a split over a set of levels (walked one point at a time).
    """
    depth = np.zeros(n, dtype=np.int64)
    deepest = 0
    for i in range(n):
        a = left[i]
        if a < 0:
            code[i] = i << shift
            ts[i] = np.inf
            if depth[i] > deepest:
                deepest = depth[i]
            continue
        if feat[i] < 0:
            return -1
        code[i] = (a << shift) | feat[i]
        ts[i] = thr[i]
        depth[a] = depth[i] + 1
        depth[a + 1] = depth[i] + 1
    return deepest


def _add_predictions(points, plev, problems, task_start, kind, feat, thr, cut, mask, left,
                    right, value, n_nodes, clip, lo, hi, total):
    """Add each tree's (clipped) predictions at ``points`` to its problem's row of
    ``total``, tree after tree (the same sums for any number of threads).

    ``problems[q]``'s trees are the block's tasks ``task_start[q] .. task_start[q + 1] - 1``.
    A chunk of points walks down a tree together, one level at a time for all of them
    (steps independent of each other, which the processor overlaps), as deep as the
    deepest leaf; each point's sum still runs in tree order.
    """
    m = points.shape[0]
    d = points.shape[1]
    n_chunks = (m + POINT_CHUNK - 1) // POINT_CHUNK
    cap = feat.shape[1]
    shift = 1
    while (1 << shift) < d:
        shift += 1
    low = (1 << shift) - 1
    for job in prange(problems.shape[0] * n_chunks):
        q = job // n_chunks
        a = (job - q * n_chunks) * POINT_CHUNK
        b = min(a + POINT_CHUNK, m)
        c = b - a
        p = problems[q]
        acc = total[p, a:b].copy()
        at = np.empty(c, dtype=np.int64)
        by_dim = np.empty((d, c))  # the chunk's coordinates, dimension by dimension
        for i in range(c):
            for j in range(d):
                by_dim[j, i] = points[a + i, j]
        code = np.empty(cap, dtype=np.int64)
        ts = np.empty(cap)
        for t in range(task_start[q], task_start[q + 1]):  # one tree at a time, in cache
            ft, th, mk, lt, vt = feat[t], thr[t], mask[t], left[t], value[t]
            deepest = _steps(ft, th, lt, n_nodes[t], shift, code, ts)
            if deepest < 0:
                for i in range(c):
                    at[i] = _leaf_node(points, plev, a + i, ft, th, mk, lt)
            else:
                for i in range(c):
                    at[i] = 0
                for _ in range(deepest):
                    for i in range(c):
                        node = at[i]
                        k = code[node]
                        at[i] = (k >> shift) + (by_dim[k & low, i] > ts[node])
            for i in range(c):
                v = vt[at[i]]
                if clip:
                    v = min(max(v, lo), hi)
                acc[i] += v
        total[p, a:b] = acc


def _add_out_of_bag(x, lev, row_start, row_problem, problems, task_start, kind, feat, thr,
                   cut, mask, left, right, value, inbag, oob_sum, oob_count):
    """Add each tree's prediction at the rows its bootstrap left out, tree after tree.

    The block's problems are consecutive (``problems[q] == problems[0] + q``).
    """
    first = row_start[problems[0]]
    last = row_start[problems[problems.shape[0] - 1] + 1]
    for row in prange(first, last):
        q = row_problem[row] - problems[0]
        r = row - row_start[problems[q]]
        acc = oob_sum[row]
        cnt = oob_count[row]
        for t in range(task_start[q], task_start[q + 1]):
            if inbag[t, r] == 0:
                acc += _leaf_value(x, lev, row, feat[t], thr[t], mask[t], left[t], right[t],
                                   value[t])
                cnt += 1
        oob_sum[row] = acc
        oob_count[row] = cnt


def _serial_copy(fn):
    """The same function under another name, so Numba caches its serial build apart."""
    copy = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_serial",
                              fn.__defaults__, fn.__closure__)
    copy.__qualname__ = fn.__qualname__ + "_serial"
    copy.__module__ = fn.__module__
    return copy


_BATCH = (_grow_block, _count_boxes, _fill_boxes, _add_predictions, _add_out_of_bag)
#: The batch kernels, their loops over trees and points spread over Numba's threads.
parallel = types.SimpleNamespace(**{fn.__name__[1:]: njit(cache=True, parallel=True)(fn)
                                    for fn in _BATCH})
#: The same kernels on the calling thread (no thread pool is started: safe to call from
#: several threads at once, and in a process forked after).
serial = types.SimpleNamespace(**{fn.__name__[1:]: njit(cache=True)(_serial_copy(fn))
                                  for fn in _BATCH})
