"""The compiled random forest: CART regression trees fitted, read and scored in one go.

:class:`CompiledForestSurrogate` follows the :class:`~odyssey_analysis.surrogate.Surrogate`
protocol with the same :class:`~odyssey_analysis.surrogate.ForestSettings` as
scikit-learn's forest: exact CART splits on squared error over the encoded unit cube,
each tree on a bootstrap sample drawn with replacement, ``max_features`` dimensions
tried per split, ``min_samples_split``/``min_samples_leaf`` counted in distinct trials
(as scikit-learn counts them) and ``max_depth``. The compiled kernels
(:mod:`odyssey_analysis._forest_kernels`) grow the trees, emit their leaves as boxes
(:class:`~odyssey_analysis.fanova.LeafBoxes`), and add up the out-of-bag predictions and
the predictions at the points asked for, with nothing read back from a tree object.

Where a hyperparameter has levels, the forest is told so (:func:`cells_of`,
:meth:`CompiledForestSurrogate.with_levels`):

* ordered levels (ordinal hyperparameters, integers) are split on a boundary between
  two cells, never through the middle of a level missing from the node's trials;
* unordered levels (categorical hyperparameters) are by default split the same way, in
  their declared order. With ``level_sets=True`` (up to 64 levels) they are split into
  two sets instead: the node's levels ordered by their mean response, the best prefix
  taken (the optimal partition for squared error); a level absent from the node goes
  with the heavier side. A leaf whose set of levels is not one run of neighbouring
  cells is emitted as one box per run, all with the leaf's value: the boxes still
  partition the cube, so the decomposition stays exact. Set splits are not the default
  because they measured less accurate: on the NAS-Bench-201 problems of
  ``benchmarks/accuracy.py`` (six categorical hyperparameters, 20 sweeps each) the
  largest main-effect error came out 0.192 at 200 trials and 0.068 at 1,000, against
  0.158 and 0.054 with splits on cell boundaries in the declared order (scikit-learn's
  forest: 0.164 and 0.052).

The forest is the same, bit for bit, for any number of threads: each tree draws from a
random stream of its own (seeded by the forest's seed and the tree's number), and every
sum over trees runs in tree order. :func:`fit_forests` fits many forests (the bootstrap's
refits, the groups of a study) in one call.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ._threads import current_fit_threads
from .errors import InputError
from .fanova import LeafBoxes
from .surrogate import FittedSurrogate, ForestSettings

#: Bytes of node arrays held at once while growing a batch of trees (about 116 bytes per
#: trial and tree); trees are grown in batches that fit.
BATCH_BYTES = 128 << 20
#: Most unordered levels split as sets; beyond this a categorical's levels are split
#: in their declared order (as ordered cells).
MAX_SET_LEVELS = 64
#: Most cells an integer hyperparameter is split on (larger ranges are split as ranges).
MAX_INT_CELLS = 4096


@dataclass(frozen=True)
class Cells:
    """A dimension made of cells: ``edges`` (``k + 1`` boundaries from 0 to 1).

    Attributes
    ----------
    edges
        The cells' boundaries in the encoded coordinate.
    ordered
        Whether the levels are ordered (ordinal, integer) or not (categorical).
    """

    edges: np.ndarray
    ordered: bool

    @property
    def n_levels(self) -> int:
        """Number of cells."""
        return int(len(self.edges) - 1)


def cells_of(space: Any) -> tuple[Cells | None, ...]:
    """Each hyperparameter's cells, or ``None`` for a continuous range.

    Categorical and ordinal hyperparameters have one cell per level; an integer on a
    linear or log scale has one per whole number (up to :data:`MAX_INT_CELLS`);
    constants and one-level hyperparameters have none (nothing to split).
    """
    out: list[Cells | None] = []
    for hp in space:
        if hp.is_constant:
            out.append(None)
        elif hp.is_discrete:
            out.append(Cells(np.asarray(hp.level_edges(), dtype=float),
                             ordered=hp.kind == "ordinal"))
        elif hp.kind == "int" and hp.scale in ("linear", "log"):
            k = int(round(hp.upper - hp.lower)) + 1
            if k > MAX_INT_CELLS:
                out.append(None)
                continue
            out.append(Cells(np.asarray(hp.cell_edges(), dtype=float), ordered=True))
        else:
            out.append(None)
    return tuple(out)


@dataclass(frozen=True)
class _Layout:
    """The dimensions' kinds and cells, as the kernels read them."""

    kind: np.ndarray
    n_levels: np.ndarray
    edges: np.ndarray
    edge_start: np.ndarray

    @classmethod
    def of(cls, cells: Sequence[Cells | None] | None, d: int) -> _Layout:
        cells = tuple(cells) if cells is not None else (None,) * d
        if len(cells) != d:
            raise ValueError(f"levels describe {len(cells)} dimensions, the inputs have {d}")
        kind = np.zeros(d, dtype=np.int64)
        n_levels = np.zeros(d, dtype=np.int64)
        parts, start = [], [0]
        for j, c in enumerate(cells):
            if c is not None and c.n_levels >= 2:
                kind[j] = 1 if (c.ordered or c.n_levels > MAX_SET_LEVELS) else 2
                n_levels[j] = c.n_levels
                parts.append(np.asarray(c.edges, dtype=float))
            else:
                parts.append(np.array([0.0, 1.0]))
            start.append(start[-1] + len(parts[-1]))
        return cls(kind, n_levels, np.concatenate(parts), np.array(start, dtype=np.int64))

    def cell_index(self, x: np.ndarray) -> np.ndarray:
        """``(n, d)`` each coordinate's cell (0 where a dimension has none)."""
        lev = np.zeros(x.shape, dtype=np.int64)
        for j in np.flatnonzero(self.kind):
            e = self.edges[self.edge_start[j]:self.edge_start[j + 1]]
            lev[:, j] = np.clip(np.searchsorted(e, x[:, j], side="right") - 1, 0,
                                self.n_levels[j] - 1)
        return lev


def features_per_split(max_features: float | int | str, d: int) -> int:
    """Dimensions tried per split, as scikit-learn counts them (at most ``d``)."""
    if max_features == "sqrt":
        k = int(math.sqrt(d))
    elif max_features == "log2":
        k = int(math.log2(d)) if d > 0 else 0
    elif isinstance(max_features, (int, np.integer)) and not isinstance(max_features, bool):
        k = int(max_features)
    else:
        k = int(float(max_features) * d)
    return max(1, min(k, d))


def fit_forests(problems: Sequence[tuple[np.ndarray, np.ndarray]], seeds: Sequence[int],
                settings: ForestSettings, *, cells: Sequence[Cells | None] | None = None,
                evaluate_at: np.ndarray | None = None,
                clip: tuple[float, float] | None = None, n_threads: int = 1,
                level_sets: bool = True) -> list[FittedSurrogate]:
    """Fit one forest per problem, all in the same compiled calls.

    Parameters
    ----------
    problems
        ``(x, y)`` per forest: ``(n, d)`` inputs in [0, 1] (the same ``d`` for all) and
        ``(n,)`` finite responses.
    seeds
        One seed per forest (``settings.seed`` is not used).
    settings
        Forest settings shared by all forests.
    cells
        Each dimension's cells (:func:`cells_of`), or ``None``: all continuous.
        Unordered cells are split as sets of levels.
    evaluate_at
        ``(m, d)`` points at which each forest's mean prediction is returned.
    clip
        Each tree's values are clipped into this range before the mean at
        ``evaluate_at`` (the out-of-bag predictions are not clipped).
    n_threads
        Threads; the forests do not depend on it.
    level_sets
        Recorded in the settings (whether unordered cells were asked to be split as
        sets; ``cells`` says which are).

    Returns
    -------
    list of FittedSurrogate
        One per problem, in order: the trees' boxes (raw leaf values), out-of-bag R²,
        the settings (with ``"surrogate": "compiled"``) and the predictions.
    """
    from . import _forest_kernels
    from ._numba_start import load_registries

    load_registries()  # before the first compiled call: without scipy.linalg
    settings = settings.with_leaf(1)  # a leaf size left to the method: 1 when unset
    if len(problems) != len(seeds):
        raise ValueError("one seed per forest")
    if not problems:
        return []
    d = int(problems[0][0].shape[1])
    layout = _Layout.of(cells, d)
    xs = [np.asarray(x, dtype=float).reshape(len(x), d) for x, _ in problems]
    sizes = np.array([len(x) for x in xs], dtype=np.int64)
    if np.any(sizes < 1):
        raise InputError("a forest needs at least one trial")
    x = np.ascontiguousarray(np.concatenate(xs))
    y = np.ascontiguousarray(np.concatenate([np.asarray(v, dtype=float).ravel()
                                             for _, v in problems]))
    if len(y) != len(x):
        raise ValueError("x and y differ in length")
    lev = np.ascontiguousarray(layout.cell_index(x))
    row_start = np.zeros(len(problems) + 1, dtype=np.int64)
    np.cumsum(sizes, out=row_start[1:])
    row_problem = np.repeat(np.arange(len(problems), dtype=np.int64), sizes)
    order = _sorted_rows(x, lev, layout.kind, row_problem, row_start)
    seed_arr = np.array([int(s) % (1 << 64) for s in seeds], dtype=np.uint64)
    n_trees = settings.n_trees
    n_problems = len(problems)
    task_problem = np.repeat(np.arange(n_problems, dtype=np.int64), n_trees)
    task_tree = np.tile(np.arange(n_trees, dtype=np.int64), n_problems)
    mtry = features_per_split(settings.max_features, d)
    max_depth = np.iinfo(np.int64).max if settings.max_depth is None else settings.max_depth
    if evaluate_at is not None:
        points = np.ascontiguousarray(np.asarray(evaluate_at, dtype=float).reshape(-1, d))
    else:
        points = np.empty((0, d))
    plev = np.ascontiguousarray(layout.cell_index(points))
    total = np.zeros((n_problems, len(points)))
    oob_sum = np.zeros(len(y))
    oob_count = np.zeros(len(y), dtype=np.int64)
    lo, hi = (0.0, 0.0) if clip is None else (float(clip[0]), float(clip[1]))
    n_max = int(sizes.max())
    cap = 2 * n_max
    per_task = 56 * cap + 4 * n_max + 64
    batch = max(1, min(len(task_problem), BATCH_BYTES // per_task))
    trees: list[list[LeafBoxes]] = [[] for _ in range(n_problems)]
    common = (layout.kind, layout.n_levels, layout.edges, layout.edge_start)
    has_sets = bool(np.any(layout.kind == 2))
    threads: contextlib.AbstractContextManager[Any]
    if n_threads > 1:
        fk, threads = _forest_kernels.parallel, _numba_threads(n_threads)
    else:  # no thread pool started
        fk, threads = _forest_kernels.serial, contextlib.nullcontext()
    with threads:
        for t0 in range(0, len(task_problem), batch):
            tp = task_problem[t0:t0 + batch]
            nb = len(tp)
            feat = np.empty((nb, cap), dtype=np.int64)
            thr = np.empty((nb, cap))
            cut = np.empty((nb, cap), dtype=np.int64)
            mask = np.zeros((nb, cap), dtype=np.uint64)
            left = np.empty((nb, cap), dtype=np.int64)
            right = np.empty((nb, cap), dtype=np.int64)
            value = np.empty((nb, cap))
            inbag = np.zeros((nb, n_max), dtype=np.int32)
            n_nodes = np.zeros(nb, dtype=np.int64)
            fk.grow_block(x, lev, y, order, row_start, tp, task_tree[t0:t0 + batch], seed_arr,
                          *common, mtry, max_depth, settings.min_samples_split,
                          settings.min_samples_leaf, settings.bootstrap, feat, thr, cut,
                          mask, left, right, value, inbag, n_nodes)
            nodes = (feat, thr, cut, mask, left, right, value)
            if has_sets:  # a leaf may become several boxes: count them first
                n_boxes = np.zeros(nb, dtype=np.int64)
                fk.count_boxes(d, *common, *nodes, n_nodes, n_boxes)
            else:  # one box per leaf
                n_boxes = (n_nodes + 1) // 2
            box_start = np.zeros(nb + 1, dtype=np.int64)
            np.cumsum(n_boxes, out=box_start[1:])
            lower = np.empty((box_start[-1], d))
            upper = np.empty((box_start[-1], d))
            box_value = np.empty(box_start[-1])
            fk.fill_boxes(d, *common, *nodes, n_nodes, box_start, lower, upper, box_value)
            bounds = box_start.tolist()
            for i, p in enumerate(tp.tolist()):
                a, b = bounds[i], bounds[i + 1]
                trees[p].append(LeafBoxes(lower[a:b], upper[a:b], box_value[a:b]))
            block_problems = np.unique(tp)
            task_start = np.searchsorted(tp, np.append(block_problems, n_problems))
            task_start[-1] = nb
            if len(points):
                fk.add_predictions(points, plev, block_problems, task_start, layout.kind,
                                   *nodes, n_nodes, clip is not None, lo, hi, total)
            if settings.bootstrap:
                fk.add_out_of_bag(x, lev, row_start, row_problem, block_problems,
                                  task_start, layout.kind, *nodes, inbag, oob_sum, oob_count)
    out = []
    info = {**settings.to_dict(), "surrogate": "compiled", "level_sets": bool(level_sets)}
    for p in range(n_problems):
        rows = slice(row_start[p], row_start[p + 1])
        r2 = (_out_of_bag_r2(y[rows], oob_sum[rows], oob_count[rows])
              if settings.bootstrap else float("nan"))
        evaluated = total[p] / n_trees if evaluate_at is not None else None
        out.append(FittedSurrogate(trees[p], r2, dict(info), evaluated))
    return out


def _sorted_rows(x: np.ndarray, lev: np.ndarray, kind: np.ndarray, row_problem: np.ndarray,
                 row_start: np.ndarray) -> np.ndarray:
    """``(N, d)`` each problem's rows (numbered from 0 within it) in order of each
    dimension: by value for a range, by cell for cells, ties in row order (a stable
    sort, so each tree's rows come out as a stable sort of its own rows would)."""
    order = np.zeros(x.shape, dtype=np.int64)
    for j in range(x.shape[1]):
        if kind[j] == 2:  # unordered levels are not read in order
            continue
        key = x[:, j] if kind[j] == 0 else lev[:, j]
        rows = np.lexsort((key, row_problem))  # by problem, then key; stable
        order[:, j] = rows - row_start[row_problem[rows]]
    return order


def _out_of_bag_r2(y: np.ndarray, total: np.ndarray, count: np.ndarray) -> float:
    """R² over the trials some tree left out (the definition of
    :func:`~odyssey_analysis.surrogate.out_of_bag_r2`)."""
    seen = count > 0
    if seen.sum() < 2 or np.var(y[seen]) == 0:
        return float("nan")
    pred = total[seen] / count[seen]
    return float(1.0 - np.mean((y[seen] - pred) ** 2) / np.var(y[seen]))


class _numba_threads:
    """Run the kernels on ``n`` threads (at most Numba's pool), restoring the count."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.before: int | None = None

    def __enter__(self) -> None:
        import numba

        self.before = numba.get_num_threads()
        # Set dynamically at Numba's import, so invisible to the type check.
        pool = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
        numba.set_num_threads(max(1, min(int(self.n), pool)))

    def __exit__(self, *exc: Any) -> None:
        import numba

        if self.before is not None:
            numba.set_num_threads(self.before)


class CompiledForestSurrogate:
    """The compiled random forest as a surrogate (see the module docstring).

    Parameters
    ----------
    settings
        Forest settings (default: 64 fully grown trees, seed 0).
    cells
        Each dimension's cells (:func:`cells_of`); ``None``: every dimension is a range.
        :class:`~odyssey_analysis.methods.FanovaMethod` sets them from the search space
        through :meth:`with_levels`.
    n_jobs
        Threads; ``None`` (default): as many as the running study gives each fit. The
        result does not depend on it.
    level_sets
        Split unordered levels into sets of levels ranked by mean response, rather than
        on cell boundaries in their declared order (see the module docstring).
    """

    name = "compiled"

    def __init__(self, settings: ForestSettings | None = None,
                 cells: Sequence[Cells | None] | None = None, n_jobs: int | None = None,
                 level_sets: bool = False) -> None:
        self.settings = settings or ForestSettings()
        self.cells = None if cells is None else tuple(cells)
        self.n_jobs = n_jobs
        self.level_sets = bool(level_sets)

    def __repr__(self) -> str:
        return f"CompiledForestSurrogate({self.settings!r}, level_sets={self.level_sets})"

    def _key(self) -> tuple[Any, ...]:
        cells = (None if self.cells is None else tuple(
            None if c is None else (tuple(np.asarray(c.edges).tolist()), c.ordered)
            for c in self.cells))
        return (self.settings, cells, self.n_jobs, self.level_sets)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompiledForestSurrogate):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _threads(self) -> int:
        return current_fit_threads() if self.n_jobs is None else self.n_jobs

    def _cells(self) -> tuple[Cells | None, ...] | None:
        """The cells as split: unordered ones as ordered unless ``level_sets``."""
        if self.cells is None or self.level_sets:
            return self.cells
        return tuple(c if c is None or c.ordered else Cells(c.edges, ordered=True)
                     for c in self.cells)

    def with_levels(self, cells: Sequence[Cells | None]) -> CompiledForestSurrogate:
        """The same forest told which dimensions are cells (:func:`cells_of`)."""
        return CompiledForestSurrogate(self.settings, cells, self.n_jobs, self.level_sets)

    def fit(self, x: np.ndarray, y: np.ndarray, *, evaluate_at: np.ndarray | None = None,
            clip: tuple[float, float] | None = None) -> FittedSurrogate:
        """Fit the forest (see :meth:`~odyssey_analysis.surrogate.Surrogate.fit`)."""
        return fit_forests([(x, y)], [self.settings.seed], self.settings, cells=self._cells(),
                           evaluate_at=evaluate_at, clip=clip, n_threads=self._threads(),
                           level_sets=self.level_sets)[0]

    def fit_many(self, problems: Sequence[tuple[np.ndarray, np.ndarray]],
                 seeds: Sequence[int], *, n_trees: int | None = None,
                 evaluate_at: np.ndarray | None = None,
                 clip: tuple[float, float] | None = None) -> list[FittedSurrogate]:
        """Forests on many ``(x, y)`` at once, each the same as
        ``self.replicate(n_trees=n_trees, seed=seed).fit(x, y, ...)``."""
        settings = self.settings if n_trees is None else replace(self.settings,
                                                                  n_trees=n_trees)
        return fit_forests(problems, seeds, settings, cells=self._cells(),
                           evaluate_at=evaluate_at, clip=clip, n_threads=self._threads(),
                           level_sets=self.level_sets)

    def replicate(self, *, n_trees: int, seed: int) -> CompiledForestSurrogate:
        """The same settings and cells with ``n_trees`` trees and ``seed``."""
        return CompiledForestSurrogate(replace(self.settings, n_trees=n_trees, seed=seed),
                                       self.cells, self.n_jobs, self.level_sets)
