"""Results of the decomposition: per fit (:class:`FanovaResult`) and per study.

Containers of numbers; the figures and tables draw and print them and never recompute
them. A fit can keep its trees as leaf boxes (never the surrogate itself), from which
closed fractions of larger subsets are computed on request.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .fanova import LeafBoxes, closed_variances, zero_variance
from .noise import NoiseEstimate
from .quality import format_r2
from .significance import SignalTest, signal_note
from .space import DISCRETE_KINDS, SearchSpace

PAIR_SEPARATOR = " × "
HIGHER_ORDER = "higher order"
#: The remainder's name when pairs were not computed (it then holds every interaction).
NO_PAIRS_REMAINDER = "interactions (pairs not computed)"
#: ``order`` of the higher-order remainder (every interaction of three or more) in the
#: Python tables; ``importance.csv`` writes it as ``higher``.
HIGHER_ORDER_ORDER = 3
ORDER_LABELS = {1: "1", 2: "2", HIGHER_ORDER_ORDER: "higher"}
#: Kinds whose curves are drawn as points per level rather than as lines.
LEVEL_KINDS = DISCRETE_KINDS | {"constant"}
IMPORTANCE_COLUMNS = ["response", "effect", "order", "param_a", "param_b", "fraction",
                      "fraction_std", "n_trials", "n_trees", "fraction_lo",
                      "fraction_hi", "fraction_corrected", "oob_r2", "signal_p"]
#: The interval columns of the importance table (empty without a bootstrap).
INTERVAL_COLUMNS = ["fraction_lo", "fraction_hi", "fraction_corrected"]


class Share(NamedTuple):
    """A share of the variance, labelled: the estimate and the spread over trees.

    Attributes
    ----------
    mean
        The estimated fraction (named for the per-tree estimator, where it is the mean
        over trees).
    std
        Standard deviation of the trees' own fractions.

    Each is a :class:`pandas.Series` indexed by hyperparameter (main effects), a
    square :class:`pandas.DataFrame` indexed by hyperparameter on both axes (pairs), or
    a float (one effect: the higher-order remainder, a subset's total). Every accessor
    of a share returns one; it unpacks as ``mean, std = ...``.
    """

    mean: Any
    std: Any


def first_intervals(results: Iterable[Any]) -> FractionIntervals | None:
    """The calibrated intervals of the first of ``results`` that has them (their level
    and replicate count are the method's, shared by every fit), else ``None``."""
    return next((ci for r in results if (ci := getattr(r, "intervals", None)) is not None),
                None)


def effect_orders(order: pd.Series) -> pd.Series:
    """An importance table's ``order`` column as integers (``higher`` → 3).

    Accepts the Python tables' integers and the text of ``importance.csv``.
    """
    text = order.astype(str).str.strip().str.lower()
    return text.map(lambda v: HIGHER_ORDER_ORDER if v == "higher" else int(float(v))
                    ).astype("int64")


def importance_csv(table: pd.DataFrame) -> str:
    """The text of ``importance.csv``: ``order`` as ``1``, ``2`` or ``higher``; the
    interval columns are always there (empty without intervals)."""
    out = table.assign(order=effect_orders(table["order"]).map(ORDER_LABELS))
    keys = [c for c in out.columns if c not in IMPORTANCE_COLUMNS]  # the group columns
    return out.reindex(columns=[*keys, *IMPORTANCE_COLUMNS]).to_csv(index=False)


class Named(dict):
    """A dict whose missing keys raise a :class:`KeyError` that lists the keys present."""

    def __missing__(self, key: Any) -> Any:
        present = ", ".join(map(repr, self)) or "none"
        raise KeyError(f"{key!r} is not here; present: {present}")


@dataclass
class FitInfo:
    """How one fit was made: the surrogate's settings and the trials it used.

    Attributes
    ----------
    forest
        The surrogate's settings, JSON-ready (for the default forest, those of
        :class:`~odyssey_analysis.surrogate.ForestSettings`).
    cutoffs
        The leaf-value clamp ``(low, high)`` applied, or ``None``.
    n_zero_variance_trees
        Trees with no variance (left out of the fractions).
    pairs_computed
        Whether pairwise effects were computed.
    rows_used
        Trials fitted on.
    rows_excluded
        The group's excluded trials, counted by reason.
    method
        What a method adds about itself (the local method: its cap), or ``None``.

    Reading it as the mapping it used to be (``fit["forest"]``) still works.
    """

    forest: dict[str, Any] = field(default_factory=dict)
    cutoffs: tuple[float, float] | None = None
    n_zero_variance_trees: int = 0
    pairs_computed: bool = True
    rows_used: int = 0
    rows_excluded: dict[str, int] = field(default_factory=dict)
    method: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``method`` only where there is one)."""
        out = {"forest": dict(self.forest),
               "cutoffs": None if self.cutoffs is None else list(self.cutoffs),
               "n_zero_variance_trees": self.n_zero_variance_trees,
               "pairs_computed": self.pairs_computed, "rows_used": self.rows_used,
               "rows_excluded": dict(self.rows_excluded)}
        if self.method is not None:
            out["method"] = self.method
        return out

    def __getitem__(self, key: str) -> Any:
        names = [f.name for f in fields(self)]
        if key not in names:
            raise KeyError(f"{key!r} is not a field of FitInfo; fields: {', '.join(names)}")
        return self.to_dict()[key] if key == "cutoffs" else getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        """``self[key]``, or ``default`` for a name that is not a field."""
        try:
            return self[key]
        except KeyError:
            return default


@dataclass
class Marginal:
    """One hyperparameter's marginal (mean prediction with it fixed), over trees.

    Attributes
    ----------
    name, kind, scale
        The hyperparameter, its kind and its scale (``log`` means a log axis).
    grid
        Points in the encoded unit interval.
    values
        The same points in original units (levels for categorical and ordinal).
    mean, std
        Mean and standard deviation across trees of the marginal at each point.
    per_tree
        ``(trees, points)``: each tree's marginal (``None`` where not kept); the
        guidelines read the uncertainty of a good region from it.
    observed
        The values the fitted trials had, in original units (levels for categorical and
        ordinal), one per trial in the order of the fit's rows; ``None`` when unknown.
        The figures draw them as a rug.
    """

    name: str
    kind: str
    scale: str
    grid: np.ndarray
    values: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    per_tree: np.ndarray | None = field(default=None, repr=False)
    observed: np.ndarray | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        lo, hi = (self.values[0], self.values[-1]) if len(self.values) else ("", "")
        return (f"Marginal({self.name!r}, {self.kind}, {len(self.grid)} points from "
                f"{_short(lo)} to {_short(hi)}, mean {_short(np.min(self.mean))}"
                f"–{_short(np.max(self.mean))})")

    @property
    def drawn_as_levels(self) -> bool:
        """Whether the values are levels (categorical, ordinal or constant), not a range."""
        return self.kind in LEVEL_KINDS

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready arrays."""
        return {"name": self.name, "kind": self.kind, "scale": self.scale,
                "values": _jsonable(self.values), "mean": self.mean.tolist(),
                "std": self.std.tolist()}


@dataclass
class PairGrid:
    """The joint marginal of a pair of hyperparameters on a grid, over trees.

    The first axis of every array follows ``names[0]`` (``values_a``), the second
    ``names[1]`` (``values_b``): ``total_mean[i, j]`` is the mean prediction with
    ``names[0]`` at ``values_a[i]`` and ``names[1]`` at ``values_b[j]``. A fit stores
    each pair once, in search-space order; ``result.pairs[(b, a)]`` gives the same grid
    transposed (:meth:`transposed`).

    Attributes
    ----------
    names
        The pair: ``names[0]`` along the rows, ``names[1]`` along the columns.
    values_a, values_b
        Grid points in original units (lengths ``na``, ``nb``) of ``names[0]`` and
        ``names[1]``.
    scale_a, scale_b, kind_a, kind_b
        Scales and kinds of ``names[0]`` and ``names[1]``.
    total_mean, total_std
        ``(na, nb)`` joint marginal: mean prediction with both fixed.
    interaction_mean, interaction_std
        ``(na, nb)`` pure interaction: joint marginal − both main effects + mean
        (0 means no interaction).
    total_per_tree
        ``(trees, na, nb)``: each tree's joint marginal in single precision (``None``
        where not kept).
    """

    names: tuple[str, str]
    values_a: np.ndarray
    values_b: np.ndarray
    scale_a: str
    scale_b: str
    kind_a: str
    kind_b: str
    total_mean: np.ndarray
    total_std: np.ndarray
    interaction_mean: np.ndarray
    interaction_std: np.ndarray
    total_per_tree: np.ndarray | None = field(default=None, repr=False)

    def transposed(self) -> PairGrid:
        """The same grid with the roles of the two hyperparameters swapped."""
        per_tree = (None if self.total_per_tree is None
                    else np.swapaxes(self.total_per_tree, 1, 2))
        return PairGrid((self.names[1], self.names[0]), self.values_b, self.values_a,
                        self.scale_b, self.scale_a, self.kind_b, self.kind_a,
                        self.total_mean.T, self.total_std.T, self.interaction_mean.T,
                        self.interaction_std.T, per_tree)

    def __repr__(self) -> str:
        a, b = self.names
        peak = (float(np.nanmax(np.abs(self.interaction_mean)))
                if np.size(self.interaction_mean) else float("nan"))
        return (f"PairGrid({a!r} × {b!r}, {len(self.values_a)} × {len(self.values_b)} "
                f"points, largest interaction {_short(peak)})")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready arrays."""
        return {"names": list(self.names), "values_a": _jsonable(self.values_a),
                "values_b": _jsonable(self.values_b),
                "total_mean": self.total_mean.tolist(),
                "interaction_mean": self.interaction_mean.tolist()}


class PairGrids(Named):
    """A fit's pair grids, keyed ``(a, b)`` in search-space order.

    Either order may be asked for: ``grids[(b, a)]`` (and ``.get``, ``in``) gives the
    stored grid transposed, with ``b`` along the rows.
    """

    def __missing__(self, key: Any) -> PairGrid:
        if isinstance(key, tuple) and len(key) == 2 and dict.__contains__(self, key[::-1]):
            return dict.__getitem__(self, key[::-1]).transposed()
        return super().__missing__(key)

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or (
            isinstance(key, tuple) and len(key) == 2 and dict.__contains__(self, key[::-1]))

    def get(self, key: Any, default: Any = None) -> Any:
        """The grid for ``key`` in either order, else ``default``."""
        return self[key] if key in self else default


@dataclass(frozen=True)
class FractionIntervals:
    """Calibrated intervals of the forest-mean fractions (:mod:`~odyssey_analysis.
    intervals`).

    Attributes
    ----------
    conf_level
        Nominal coverage of each interval.
    n_bootstrap
        Replicates of each bootstrap (parametric and nonparametric).
    replicate_trees
        Trees of each replicate's forest.
    noise_variance, noise_source
        The noise variance of the simulated sweeps and where it came from
        (``replicates``, ``nugget`` or ``none``; see :mod:`~odyssey_analysis.noise`).
    main_lower, main_upper, main_corrected
        ``(d,)`` interval and bias-corrected centre of each main effect's fraction.
    pair_lower, pair_upper, pair_corrected
        ``(d, d)`` the same for the pure pairs (NaN where pairs were not computed).
    resampled_main, resampled_pair
        ``(B, d)`` and ``(B, d, d)``: the re-estimates from the trials resampled with
        replacement (for other intervals, e.g. :func:`~odyssey_analysis.intervals.
        percentile_interval`; not written to ``analysis.json``).
    """

    conf_level: float
    n_bootstrap: int
    replicate_trees: int
    noise_variance: float
    noise_source: str
    main_lower: np.ndarray
    main_upper: np.ndarray
    main_corrected: np.ndarray
    pair_lower: np.ndarray
    pair_upper: np.ndarray
    pair_corrected: np.ndarray
    resampled_main: np.ndarray | None = field(default=None, repr=False)
    resampled_pair: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self, names: Sequence[str]) -> dict[str, Any]:
        """JSON-ready, main effects by name."""
        return {"conf_level": self.conf_level, "n_bootstrap": self.n_bootstrap,
                "replicate_trees": self.replicate_trees,
                "noise_variance": self.noise_variance, "noise_source": self.noise_source,
                "main_lower": dict(zip(names, self.main_lower.tolist())),
                "main_upper": dict(zip(names, self.main_upper.tolist())),
                "main_corrected": dict(zip(names, self.main_corrected.tolist()))}


@dataclass(frozen=True)
class ForestMeanEstimate:
    """The fractions of the forest's mean function (the default estimator).

    The forest predicts with the mean of its trees; these are the exact main and pure
    pair variances of that mean function over its variance (integrated at ``points``
    points of the measure, exactly when ``exact``). They are closer to the true
    importance than the mean of the trees' own fractions (``docs/accuracy.md``).

    Attributes
    ----------
    main
        ``(d,)`` main-effect fractions.
    pair
        ``(d, d)`` symmetric pure pair fractions (zero diagonal; zero where not computed).
    mean, variance
        Mean and variance of the forest's mean function.
    points, exact
        Points the variance was integrated at, and whether that is exact (every cell of
        an all-levels space).
    intervals
        Calibrated intervals, when a bootstrap was run.
    estimator
        The estimator of ``main`` and ``pair``: ``"forest-mean"``, or another of
        :data:`~odyssey_analysis.estimators.ESTIMATORS` (``mean``, ``variance`` and
        ``points`` then describe the forest's mean function only when it was
        integrated: NaN and 0 otherwise).
    alternatives
        Every estimator this fit computed, ``name -> (main, pair)`` (for comparisons).
    noise
        The noise variance the corrected estimators subtracted
        (:class:`~odyssey_analysis.estimators.FittedNoise`), when they ran.
    """

    main: np.ndarray
    pair: np.ndarray
    mean: float
    variance: float
    points: int
    exact: bool
    intervals: FractionIntervals | None = None
    estimator: str = "forest-mean"
    alternatives: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict,
                                                                   repr=False)
    noise: Any = None


@dataclass
class FanovaResult:
    """The functional ANOVA of one response in one group.

    The per-tree arrays hold every tree of the forest; fractions use only the trees
    with non-zero variance (a constant tree has no variance to share out).

    Attributes
    ----------
    group
        Group key values, e.g. ``{"task": "speech", "variant": "V"}``.
    response
        The response analysed.
    hyperparameters
        In search-space order.
    tree_mean, tree_variance
        ``(n_trees_total,)`` per tree.
    main_variance
        ``(n_trees_total, d)`` variance of each main effect per tree.
    pair_variance
        ``(n_trees_total, d, d)`` variance of each pure pairwise effect per tree.
    n_trials
        Trials the forest was fitted on.
    oob_r2
        Out-of-bag R² of the forest.
    marginals, pairs
        Curves and grids for the figures; ``pairs`` answers either order of a pair
        (:class:`PairGrids`).
    measures
        Each hyperparameter's sampling distribution, in words: the measure integrated.
    fit
        How the fit was made (:class:`FitInfo`: forest settings, cutoffs, rows used).
    trees
        Each tree's leaf boxes (cutoffs applied), when the fit was asked to keep them.
    estimate
        The forest-mean estimate (``None`` with the per-tree estimator, whose fractions
        are the mean of the trees' own).
    noise
        The run-to-run noise of the response estimated from the trials
        (:func:`~odyssey_analysis.noise.noise_variance`), where the method computed it.
    signal
        The permutation test of whether the forest predicts anything (``None`` when
        not run). Without detectable signal the tables report no shares
        (:attr:`signal_note` says why).
    """

    group: dict[str, Any]
    response: str
    hyperparameters: list[str]
    tree_mean: np.ndarray
    tree_variance: np.ndarray
    main_variance: np.ndarray
    pair_variance: np.ndarray
    n_trials: int
    oob_r2: float
    marginals: dict[str, Marginal] = field(default_factory=dict)
    pairs: dict[tuple[str, str], PairGrid] = field(default_factory=PairGrids)
    measures: dict[str, str] = field(default_factory=dict)
    fit: FitInfo = field(default_factory=FitInfo)
    warnings: list[str] = field(default_factory=list)
    trees: list[LeafBoxes] | None = field(default=None, repr=False)
    estimate: ForestMeanEstimate | None = field(default=None, repr=False)
    noise: NoiseEstimate | None = field(default=None, repr=False)
    signal: SignalTest | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.fit, dict):  # the mapping of earlier releases
            self.fit = FitInfo(**self.fit)
        self.marginals = Named(self.marginals)
        self.pairs = PairGrids(self.pairs)

    def __repr__(self) -> str:
        where = ", ".join(f"{k}={v}" for k, v in self.group.items())
        head = f"FanovaResult({self.response}" + (f", {where}" if where else "")
        mean, _ = self.main_fraction()
        top = ", ".join(f"{name} {100 * v:.1f}%" for name, v in
                        mean.sort_values(ascending=False).head(4).items()) or "–"
        h_mean, _ = self.higher_order_fraction()
        if self.signal_note is not None:
            return f"{head}: {self.n_trials} trials, {self.n_trees} trees; {self.signal_note})"
        return (f"{head}: {self.n_trials} trials, {self.n_trees} trees, OOB R² "
                f"{format_r2(self.oob_r2)}; main effects {top}; higher order "
                f"{100 * h_mean:.1f}%)")

    def _repr_html_(self) -> str:
        e = html.escape
        mean, std = self.main_fraction()
        where = ", ".join(f"{k}={v}" for k, v in self.group.items())
        rows = "".join(f"<tr><td style='text-align:left'>{e(str(name))}</td>"
                       f"<td>{100 * m:.1f} ± {100 * s:.1f}</td></tr>"
                       for (name, m), s in zip(mean.items(), std.to_numpy()))
        h_mean, h_std = self.higher_order_fraction()
        rows += (f"<tr><td style='text-align:left'>{HIGHER_ORDER}</td>"
                 f"<td>{100 * h_mean:.1f} ± {100 * h_std:.1f}</td></tr>")
        if self.signal_note is not None:
            rows = f"<tr><td colspan='2'>{e(self.signal_note)}</td></tr>"
        return (f"<table><caption>{e(self.response)}{e(' — ' + where if where else '')}: "
                f"{self.n_trials} trials, {self.n_trees} trees, OOB R² "
                f"{format_r2(self.oob_r2)}</caption><thead><tr><th>effect</th>"
                f"<th>share of variance [%]</th></tr></thead><tbody>{rows}</tbody></table>")

    @property
    def has_signal(self) -> bool:
        """Whether the shares are reported: signal detected, or no test run."""
        return self.signal is None or self.signal.detected

    @property
    def signal_note(self) -> str | None:
        """``"no detectable signal (OOB R² −0.04, p = 0.61)"`` when the test found no
        signal (shown instead of the shares), else ``None``."""
        return signal_note(self.oob_r2, self.signal)

    # -- trees ---------------------------------------------------------------------------
    @property
    def valid_trees(self) -> np.ndarray:
        """Mask of trees with non-zero variance."""
        return ~zero_variance(self.tree_variance, self.tree_mean)

    @property
    def n_trees(self) -> int:
        """Trees used for the fractions (non-zero variance)."""
        return int(self.valid_trees.sum())

    @property
    def n_zero_variance_trees(self) -> int:
        """Trees skipped because they predict a constant."""
        return int((~self.valid_trees).sum())

    # -- fractions -----------------------------------------------------------------------
    def _per_tree_fractions(self) -> tuple[np.ndarray, np.ndarray]:
        ok = self.valid_trees
        var = self.tree_variance[ok]
        return (self.main_variance[ok] / var[:, None],
                self.pair_variance[ok] / var[:, None, None])

    @property
    def estimator(self) -> str:
        """``"forest-mean"`` (the default) or ``"per-tree"`` (the mean of the trees'
        own fractions)."""
        return "per-tree" if self.estimate is None else self.estimate.estimator

    @property
    def intervals(self) -> FractionIntervals | None:
        """Calibrated intervals, when the fit ran a bootstrap."""
        return None if self.estimate is None else self.estimate.intervals

    def main_fraction(self) -> Share:
        """Each main effect's share of the variance, and its spread over trees.

        Returns
        -------
        Share
            ``(mean, std)``, each a :class:`pandas.Series` indexed by hyperparameter:
            the estimated fraction (the forest-mean estimate, or with the per-tree
            estimator the mean of the trees' fractions) and the standard deviation of
            the trees' own fractions (how much the trees disagree; not an interval:
            see :attr:`intervals`).
        """
        main, _ = self._per_tree_fractions()
        mean, std = _mean_std(main, (len(self.hyperparameters),))
        if self.estimate is not None:
            mean = self.estimate.main
        names = pd.Index(self.hyperparameters, name="hyperparameter")
        return Share(pd.Series(mean, index=names, name="mean"),
                     pd.Series(std, index=names, name="std"))

    def pair_fraction(self) -> Share:
        """Each pure pair's share, and its spread over trees (as :meth:`main_fraction`).

        Returns
        -------
        Share
            ``(mean, std)``, each a symmetric :class:`pandas.DataFrame` with the
            hyperparameters as index and columns (zero on the diagonal).
        """
        _, pair = self._per_tree_fractions()
        d = len(self.hyperparameters)
        mean, std = _mean_std(pair, (d, d))
        if self.estimate is not None:
            mean = self.estimate.pair
        names = pd.Index(self.hyperparameters, name="hyperparameter")
        return Share(pd.DataFrame(mean, index=names, columns=names),
                     pd.DataFrame(std, index=names, columns=names))

    def higher_order_per_tree(self) -> np.ndarray:
        """Per valid tree: 1 − all main fractions − all pair fractions."""
        main, pair = self._per_tree_fractions()
        d = len(self.hyperparameters)
        iu = np.triu_indices(d, 1)
        return 1.0 - main.sum(axis=1) - pair[:, iu[0], iu[1]].sum(axis=1)

    def higher_order_fraction(self) -> Share:
        """The share left to interactions of order ≥ 3, and its spread over trees.

        With the forest-mean estimate, 1 − its main and pair fractions (at least 0).
        """
        h = self.higher_order_per_tree()
        if h.size == 0:
            return Share(float("nan"), float("nan"))
        if self.estimate is not None:
            iu = np.triu_indices(len(self.hyperparameters), 1)
            rest = 1.0 - self.estimate.main.sum() - self.estimate.pair[iu].sum()
            return Share(float(np.clip(rest, 0.0, 1.0)), float(h.std()))
        return Share(float(h.mean()), float(h.std()))

    def total_fraction(self, names: Sequence[str]) -> Share:
        """Closed ("total") share of a subset: the variance of its joint marginal.

        That is every effect whose hyperparameters all lie in ``names`` (its main
        effects, the pairs among them, ...), with its spread over trees. Subsets of
        one or two hyperparameters come from the stored variances (and the forest-mean
        estimate where there is one); larger ones are the mean of the trees' own
        closed fractions and need the trees (``analyze(..., keep_trees=True)``),
        computed exactly from their leaves.
        """
        unknown = [n for n in names if n not in self.hyperparameters]
        if unknown:
            raise KeyError(f"{unknown[0]!r} is not a hyperparameter of this fit; there are: "
                           f"{', '.join(self.hyperparameters)}")
        idx = sorted({self.hyperparameters.index(n) for n in names})
        ok = self.valid_trees
        if not idx:
            return Share(0.0, 0.0)
        if len(idx) <= 2:
            closed = self.main_variance[:, idx].sum(axis=1)
            if len(idx) == 2:
                closed = closed + self.pair_variance[:, idx[0], idx[1]]
        elif len(idx) == len(self.hyperparameters):
            closed = self.tree_variance.copy()
        else:
            if self.trees is None:
                raise ValueError("subsets of three or more hyperparameters need the trees: "
                                 "run analyze(..., keep_trees=True)")
            closed = closed_variances(self.trees, idx)
        frac = closed[ok] / self.tree_variance[ok]
        if frac.size == 0:
            return Share(float("nan"), float("nan"))
        if self.estimate is not None and len(idx) <= 2:
            value = float(self.estimate.main[idx].sum())
            if len(idx) == 2:
                value += float(self.estimate.pair[idx[0], idx[1]])
            return Share(value, float(frac.std()))
        if self.estimate is not None and len(idx) == len(self.hyperparameters):
            return Share(1.0, float(frac.std()))
        return Share(float(frac.mean()), float(frac.std()))

    # -- tables --------------------------------------------------------------------------
    def importance_table(self) -> pd.DataFrame:
        """One row per effect: mains, pairs, then the higher-order remainder.

        ``order`` is 1, 2 or 3 (:data:`HIGHER_ORDER_ORDER`: the remainder of every
        interaction of three or more hyperparameters); :func:`importance_csv` writes
        the file's ``1``, ``2``, ``higher``. A fit without pairs has no pair rows, and
        its remainder (every interaction) is called ``interactions (pairs not computed)``.
        ``fraction_lo``, ``fraction_hi`` and ``fraction_corrected`` hold the
        calibrated interval and its bias-corrected centre when the fit has intervals
        (NaN for the remainder); without intervals the table has no such columns
        (``importance.csv`` always has them: :func:`importance_csv`). ``oob_r2`` and
        ``signal_p`` (the permutation test's p-value) repeat on every row; without
        detectable signal every share column is NaN (:attr:`signal_note` says why).
        """
        names = self.hyperparameters
        d = len(names)
        mean, std = (s.to_numpy() for s in self.main_fraction())
        pmean, pstd = (s.to_numpy() for s in self.pair_fraction())
        ci = self.intervals
        nan_main, nan_pair = np.full(d, np.nan), np.full((d, d), np.nan)
        lo, hi, mid = ((ci.main_lower, ci.main_upper, ci.main_corrected) if ci else
                       (nan_main,) * 3)
        plo, phi, pmid = ((ci.pair_lower, ci.pair_upper, ci.pair_corrected) if ci else
                          (nan_pair,) * 3)
        rows = []
        base = {"response": self.response, "n_trials": self.n_trials, "n_trees": self.n_trees}
        for j, name in enumerate(names):
            rows.append({**base, "effect": name, "order": 1, "param_a": name, "param_b": "",
                         "fraction": mean[j], "fraction_std": std[j],
                         "fraction_lo": lo[j], "fraction_hi": hi[j],
                         "fraction_corrected": mid[j]})
        with_pairs = self.fit.pairs_computed
        for j in range(d if with_pairs else 0):
            for k in range(j + 1, d):
                rows.append({**base, "effect": names[j] + PAIR_SEPARATOR + names[k],
                             "order": 2, "param_a": names[j], "param_b": names[k],
                             "fraction": pmean[j, k], "fraction_std": pstd[j, k],
                             "fraction_lo": plo[j, k], "fraction_hi": phi[j, k],
                             "fraction_corrected": pmid[j, k]})
        h_mean, h_std = self.higher_order_fraction()
        rows.append({**base, "effect": HIGHER_ORDER if with_pairs else NO_PAIRS_REMAINDER,
                     "order": HIGHER_ORDER_ORDER,
                     "param_a": "",
                     "param_b": "", "fraction": h_mean, "fraction_std": h_std,
                     "fraction_lo": np.nan, "fraction_hi": np.nan,
                     "fraction_corrected": np.nan})
        columns = [c for c in IMPORTANCE_COLUMNS if ci is not None or c not in INTERVAL_COLUMNS]
        table = pd.DataFrame(rows, columns=IMPORTANCE_COLUMNS)
        table["oob_r2"] = self.oob_r2
        table["signal_p"] = np.nan if self.signal is None else self.signal.p_value
        if not self.has_signal:
            table[["fraction", "fraction_std", *INTERVAL_COLUMNS]] = np.nan
        return table[columns]

    def to_frame(self) -> pd.DataFrame:
        """The importance table (:meth:`importance_table`)."""
        return self.importance_table()

    def to_dict(self, *, curves: bool = False) -> dict[str, Any]:
        """A JSON-ready summary: fractions, the measure, and the details of the fit."""
        mean, std = (s.to_numpy() for s in self.main_fraction())
        h_mean, h_std = self.higher_order_fraction()
        out: dict[str, Any] = {
            "group": {k: _scalar(v) for k, v in self.group.items()},
            "response": self.response,
            "hyperparameters": list(self.hyperparameters),
            "measure": self.measures,
            "n_trials": self.n_trials,
            "n_trees": self.n_trees,
            "n_zero_variance_trees": self.n_zero_variance_trees,
            "oob_r2": None if not np.isfinite(self.oob_r2) else self.oob_r2,
            "mean": float(np.mean(self.tree_mean)),
            "variance_mean": float(np.mean(self.tree_variance)),
            "main_fraction": dict(zip(self.hyperparameters, mean.tolist())),
            "main_fraction_std": dict(zip(self.hyperparameters, std.tolist())),
            "higher_order_fraction": h_mean,
            "higher_order_fraction_std": h_std,
            "estimator": self.estimator,
            "signal": None if self.signal is None else self.signal.to_dict(),
            "fit": self.fit.to_dict(),
            "warnings": list(self.warnings),
        }
        if self.estimate is not None and self.estimate.points:
            out["forest_mean"] = {"mean": self.estimate.mean,
                                  "variance": self.estimate.variance,
                                  "points": self.estimate.points,
                                  "exact": self.estimate.exact}
        noise = None if self.estimate is None else self.estimate.noise
        if noise is not None:
            out["fitted_noise"] = {"variance": noise.variance, "source": noise.source,
                                   "dof": noise.dof}
        if self.intervals is not None:
            out["intervals"] = self.intervals.to_dict(self.hyperparameters)
        if curves:
            out["marginals"] = {k: m.to_dict() for k, m in self.marginals.items()}
            out["pairs"] = [p.to_dict() for p in self.pairs.values()]
        return _clean(out)


class StudyResult:
    """All fits of a study: one :class:`FanovaResult` per group and response.

    Parameters
    ----------
    results
        ``{(group values tuple, response): FanovaResult}``.
    group_keys
        Names of the group columns.
    responses
        Responses analysed.
    space
        The search space used (with its measure).
    table_info
        Facts about the trial table (source, rows, exclusions).
    """

    def __init__(self, results: dict[tuple[tuple, str], FanovaResult], group_keys: list[str],
                 responses: list[str], space: SearchSpace,
                 table_info: dict[str, Any] | None = None,
                 method: dict[str, Any] | None = None) -> None:
        self.results = results
        self.group_keys = list(group_keys)
        self.responses = list(responses)
        self.space = space
        self.table_info = table_info or {}
        self.method = dict(method or {})

    def __len__(self) -> int:
        return len(self.results)

    def __repr__(self) -> str:
        groups = (f"{len(self.groups())} groups by {', '.join(self.group_keys)}"
                  if self.group_keys else "one group")
        return (f"StudyResult({len(self)} fits: {groups} × {len(self.responses)} "
                f"response(s) {', '.join(self.responses)}; hyperparameters "
                f"{', '.join(self.space.names)})")

    def _repr_html_(self) -> str:
        e = html.escape
        response = self.responses[0] if self.responses else ""
        names = self.space.names
        head = "".join(f"<th>{e(k)}</th>" for k in self.group_keys)
        head += "".join(f"<th>{e(n)} [%]</th>" for n in names) + "<th>higher order [%]</th>"
        rows = []
        for fit in self:
            if fit.response != response:
                continue
            mean, _ = fit.main_fraction()
            cells = "".join(f"<td style='text-align:left'>{e(str(fit.group[k]))}</td>"
                            for k in self.group_keys)
            cells += "".join(f"<td>{100 * v:.1f}</td>" for v in mean.to_numpy())
            cells += f"<td>{100 * fit.higher_order_fraction()[0]:.1f}</td>"
            rows.append(f"<tr>{cells}</tr>")
        return (f"<table><caption>{e(repr(self))}<br>main effects on {e(response)}, mean "
                f"over trees</caption><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}"
                "</tbody></table>")

    def __iter__(self) -> Iterator[FanovaResult]:
        return iter(self.results.values())

    def groups(self) -> list[tuple]:
        """Group value tuples in order."""
        seen: dict[tuple, None] = {}
        for key, _ in self.results:
            seen.setdefault(key, None)
        return list(seen)

    def get(self, response: str | None = None, **group: Any) -> FanovaResult:
        """The result for ``response`` in the group given by keyword values."""
        response = response or self.responses[0]
        if response not in self.responses:
            raise KeyError(f"{response!r} is not a response of this study; responses: "
                           f"{', '.join(map(repr, self.responses))}")
        unknown = set(group) - set(self.group_keys)
        if unknown:
            raise KeyError(f"not group keys: {', '.join(sorted(unknown))}; group keys: "
                           f"{', '.join(self.group_keys) or 'none'}")
        matches = [r for (key, resp), r in self.results.items() if resp == response
                   and all(_same(r.group.get(k), v) for k, v in group.items())]
        if len(matches) != 1:
            groups = "; ".join(", ".join(f"{k}={v}" for k, v in zip(self.group_keys, key))
                               for key in self.groups()) or "one group"
            raise KeyError(f"{len(matches)} results match response={response!r} {group}; "
                           f"the groups: {groups}")
        return matches[0]

    def importance_table(self) -> pd.DataFrame:
        """The long table of ``importance.csv``: group columns, then effects (see
        :meth:`FanovaResult.importance_table`; :func:`importance_csv` writes it). The
        interval columns are there when the method computed intervals."""
        with_intervals = bool(self.method.get("n_bootstrap"))
        columns = [*self.group_keys, *(c for c in IMPORTANCE_COLUMNS
                                       if with_intervals or c not in INTERVAL_COLUMNS)]
        frames = []
        for result in self.results.values():
            t = result.importance_table()
            for pos, key in enumerate(self.group_keys):
                t.insert(pos, key, result.group[key])
            frames.append(t.reindex(columns=columns))
        if not frames:
            return pd.DataFrame(columns=columns)
        return pd.concat(frames, ignore_index=True)

    def guidelines(self, *, directions: dict[str, str] | None = None,
                   tolerance: float | dict[str, float] | None = None,
                   responses: Sequence[str] | None = None) -> Any:
        """What to tune, where, and whether optima stay put, per group and response.

        Reads the fits' shares, curves and pair grids (analyse with ``curves=True``,
        the default); see :mod:`odyssey_analysis.guidelines` for the rules.

        Parameters
        ----------
        directions
            ``response -> minimize|maximize``; default: the directions recorded.
        tolerance
            The good regions' tolerance in response units (one number, or per
            response); default: the rule of :mod:`odyssey_analysis.guidelines`.
        responses
            Only these responses (default: all).

        Returns
        -------
        odyssey_analysis.guidelines.Guidelines
            With ``to_dict()`` and ``to_frame()``.
        """
        from .guidelines import study_guidelines

        return study_guidelines(self, directions=directions, tolerance=tolerance,
                                responses=responses)

    def to_frame(self) -> pd.DataFrame:
        """The importance table (:meth:`importance_table`)."""
        return self.importance_table()

    def to_dict(self, *, curves: bool = False) -> dict[str, Any]:
        """JSON-ready: the space and its encoding, the table facts, and every fit."""
        return _clean({
            "method": self.method,
            "space": self.space.to_dict(),
            "group_keys": self.group_keys,
            "responses": self.responses,
            "table": self.table_info,
            "fits": [r.to_dict(curves=curves) for r in self.results.values()],
        })


def _mean_std(x: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    if x.shape[0] == 0:
        return np.full(shape, np.nan), np.full(shape, np.nan)
    return x.mean(axis=0), x.std(axis=0)


def _short(value: Any) -> str:
    """A value in a few characters (numbers to 4 significant digits)."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
            value, bool):
        return f"{float(value):.4g}"
    return str(value)


def _same(a: Any, b: Any) -> bool:
    return a == b or str(a) == str(b)


def _scalar(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


def _jsonable(values: np.ndarray) -> list:
    return [_scalar(v) for v in np.asarray(values).tolist()]


def _clean(obj: Any) -> Any:
    """Replace NaN/inf by None and numpy scalars by Python ones (strict JSON)."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj
