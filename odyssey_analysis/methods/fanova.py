"""The default method: the exact functional ANOVA of a forest surrogate.

:class:`FanovaMethod` fits a :class:`~odyssey_analysis.surrogate.Surrogate` (by default
scikit-learn's random forest) to one group's encoded trials and decomposes each of its
trees exactly (:func:`~odyssey_analysis.fanova.decompose_trees`: the trees' own
fractions, their spread, the curves), then the forest's mean function
(:func:`~odyssey_analysis.fanova.forest_mean_effects`: the reported fractions, by
default). With ``n_bootstrap`` it adds calibrated intervals
(:mod:`~odyssey_analysis.intervals`). The result is a
:class:`~odyssey_analysis.result.FanovaResult`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from numbers import Integral, Real
from typing import Any

import numpy as np

from .._threads import current_fit_threads
from ..estimators import (
    DEFAULT_ESTIMATOR,
    bias_shifted,
    blend,
    corrected_fractions,
    fitted_noise,
    noise_share,
)
from ..estimators import ESTIMATORS as _ESTIMATORS
from ..fanova import (
    ForestDecomposition,
    LeafBoxes,
    decompose_trees,
    forest_leaf_boxes,
    forest_mean_effects,
    zero_variance,
)
from ..intervals import calibrated_interval, ratio_corrected, spanning_interval
from ..noise import NoiseEstimate, noise_variance
from ..params import Constraint, Interval, OneOf, OrderedPair, ParameterError, validate
from ..quality import low_oob_r2
from ..result import (
    FanovaResult,
    FitInfo,
    ForestMeanEstimate,
    FractionIntervals,
    Marginal,
    PairGrid,
)
from ..significance import SIGNAL_PERMUTATIONS, SignalTest, signal_note, signal_test
from ..space import Hyperparameter, SearchSpace
from ..space.points import MeasurePoints, draw_design, variance_points
from ..surrogate import ForestSettings, Surrogate, make_surrogate, surrogate_name

#: The estimators of the reported fractions (see :mod:`~odyssey_analysis.estimators`).
ESTIMATORS = _ESTIMATORS
#: Estimators that need the forest's mean function.
NEEDS_FOREST_MEAN = ("forest-mean", "blend", "blend-corrected")
#: Estimators that need the per-tree fractions less the fitted noise.
NEEDS_CORRECTED = ("per-tree-corrected", "blend", "blend-corrected")
#: Points of the measure at which the forest's variance is integrated (fewer when the
#: space has few enough cells to integrate exactly). Against 2**18 points, 2**13 scrambled
#: Sobol points (:mod:`~odyssey_analysis.space.sobol`) leave a relative error of the
#: variance of at most 0.35 %, 0.08 % RMS, below 0.003 on any fraction (30 forests with
#: 2 to 20 hyperparameters × 5 seeds, ``benchmarks/bench_sobol.py``; SciPy's scrambled
#: Sobol points: 0.23 %, 0.06 %); 2**15 would halve that for 4x the cost, which is the
#: forest's own fitting time again.
VARIANCE_POINTS = 1 << 13
#: Most cells of an all-levels grid on which the fit's forest is integrated exactly, cell
#: by cell (a 9-hyperparameter grid has 10⁴–10⁵ cells; on 2¹³ Sobol points snapped to
#: its levels the variance came out 2.2 % low). Evaluating 64 trees at 2¹⁷ points takes
#: about a second.
EXACT_GRID_CELLS = 1 << 17
#: Trees and variance points of each bootstrap replicate's forest.
REPLICATE_TREES = 16
REPLICATE_POINTS = 1 << 12
#: Sweeps simulated in the fitted world to measure the forest-mean's bias for the
#: ``blend-corrected`` estimator without a bootstrap (with one, its world replicates are
#: used). Each refits a forest of :data:`REPLICATE_TREES` trees.
WORLD_REPLICATES = 10
#: Most bootstrap refits fitted per call of a surrogate's ``fit_many`` (bounds the trees
#: held in memory at once).
REFITS_PER_CALL = 16
#: Trials summed over the refits of one call: fewer refits per call on large sweeps
#: (one per call from this many trials on).
REFIT_TRIALS_PER_CALL = 32_000


def refits_per_call(n_trials: int) -> int:
    """Refits per ``fit_many`` call for sweeps of ``n_trials``: :data:`REFITS_PER_CALL`
    up to 2,000 trials, then fewer, so a call's trees take about the same memory."""
    return max(1, min(REFITS_PER_CALL, REFIT_TRIALS_PER_CALL // max(n_trials, 1)))
#: How the warning for a fit without any variance begins.
CONSTANT_WARNING = "every tree is constant"
#: Fewest bootstrap replicates accepted (100 is the calibrated default of the CLI).
MIN_BOOTSTRAP = 10
#: ``min_samples_leaf`` of a forest left to the method, with and without a bootstrap
#: (the intervals were calibrated with leaves of at least 2 trials).
LEAF_WITH_BOOTSTRAP = 2
LEAF_WITHOUT_BOOTSTRAP = 1


def with_leaf_rule(surrogate: Surrogate, n_bootstrap: int) -> Surrogate:
    """``surrogate`` with the leaf size chosen where its settings leave it to the method.

    A surrogate whose ``settings`` are :class:`~odyssey_analysis.surrogate.ForestSettings`
    with ``min_samples_leaf=None`` is copied with :data:`LEAF_WITH_BOOTSTRAP` when
    ``n_bootstrap`` replicates are asked for, else :data:`LEAF_WITHOUT_BOOTSTRAP`; any
    other surrogate is returned as it is.
    """
    settings = getattr(surrogate, "settings", None)
    if not isinstance(settings, ForestSettings) or settings.min_samples_leaf is not None:
        return surrogate
    leaf = LEAF_WITH_BOOTSTRAP if n_bootstrap else LEAF_WITHOUT_BOOTSTRAP
    chosen = copy.copy(surrogate)
    chosen.settings = settings.with_leaf(leaf)  # type: ignore[attr-defined]
    return chosen


def grid_for(hp: Hyperparameter, points: int) -> np.ndarray:
    """Evaluation points in [0, 1] for ``hp``: level centres, or evenly spaced points.

    Even spacing in the encoded coordinate is even spacing under the sampling measure
    (log-spaced for a log-uniform hyperparameter).
    """
    if hp.is_constant:
        return np.array([0.5])
    if hp.is_discrete:
        edges = hp.level_edges()
        return 0.5 * (edges[:-1] + edges[1:])
    return np.linspace(0.0, 1.0, points)


#: What each setting of :class:`FanovaMethod` accepts (see :mod:`odyssey_analysis.params`).
METHOD_CONSTRAINTS: dict[str, list[Constraint]] = {
    "cutoffs": [OrderedPair(what="two cutoffs"), None],
    "cutoff_quantiles": [OrderedPair(Interval(Real, 0, 1), what="two cutoff quantiles"),
                         None],
    "pairs": [OneOf((True, False))],
    "curves": [OneOf((True, False))],
    "grid_points": [Interval(Integral, 2, None)],
    "pair_grid_points": [Interval(Integral, 2, None)],
    "keep_trees": [OneOf((True, False))],
    "estimator": [OneOf(ESTIMATORS)],
    "n_bootstrap": [OneOf((0,)), Interval(Integral, MIN_BOOTSTRAP, None)],
    "conf_level": [Interval(Real, 0, 1, closed="neither")],
    "variance_points": [Interval(Integral, 16, None)],
    "signal_permutations": [OneOf((0,)), Interval(Integral, 3, None)],
}


def snap_to_levels(tree: LeafBoxes, space: SearchSpace) -> LeafBoxes:
    """The tree as a function of the levels: box bounds moved to level edges.

    A tree splits between observed values, and a level whose centre no trial of a node
    had can be cut in two (a split at the middle level's own centre); integrated over
    the unit cube, that level would count half on each side although every
    configuration of it falls on one. Each bound moves to the level edge below the
    first centre it does not cover (a trial goes left when its value, as the trees
    read it in float32, is at most the split), so a box covers whole levels, the ones
    whose configurations it predicts, and a box that holds no level centre gets no
    measure. Numeric hyperparameters are left as they are.
    """
    lower, upper = tree.lower, tree.upper
    changed = False
    for j, hp in enumerate(space):
        if not hp.is_discrete or hp.is_constant:
            continue
        edges = hp.level_edges()
        centres = (0.5 * (edges[:-1] + edges[1:])).astype(np.float32).astype(float)
        if not changed:
            lower, upper, changed = lower.copy(), upper.copy(), True
        for bounds in (lower, upper):
            bounds[:, j] = edges[np.searchsorted(centres, bounds[:, j], side="right")]
    return LeafBoxes(lower, upper, tree.value) if changed else tree



@dataclass(frozen=True)
class FanovaMethod:
    """Exact fANOVA of a forest surrogate: of its mean function and of each tree.

    Parameters
    ----------
    surrogate
        The surrogate (default: :func:`~odyssey_analysis.surrogate.make_surrogate`'s,
        the compiled forest with default
        :class:`~odyssey_analysis.surrogate.ForestSettings`). One with a ``with_levels``
        method is told each hyperparameter's cells
        (:func:`~odyssey_analysis.forest.cells_of`) before it is fitted. Where its
        ``settings`` leave ``min_samples_leaf`` at ``None`` the method chooses it: 2 with
        a bootstrap (the setting the intervals were calibrated with), else 1; the
        ``surrogate`` attribute holds the surrogate with that choice made.
    cutoffs
        Clamp leaf values into ``(low, high)`` (response units) first.
    cutoff_quantiles
        Clamp into these quantiles of each group's observed response instead.
    pairs
        Compute every pairwise effect.
    curves
        Store marginal curves (and, with ``pairs``, pair grids) for the figures.
    grid_points, pair_grid_points
        Points per hyperparameter of the marginal curves and the pair grids.
    keep_trees
        Keep each tree's leaf boxes on the result (closed fractions of subsets of three
        or more hyperparameters need them; memory grows with trials × trees).
    estimator
        ``"blend"``: the mean of ``forest-mean`` and ``per-tree-corrected``,
        whose errors have opposite signs; ``"forest-mean"``: the fractions of the
        forest's mean function, the function the forest predicts with;
        ``"per-tree"``: the mean of each tree's own fractions (the reference fANOVA's
        number); ``"per-tree-corrected"``: each tree's fractions over its variance
        less the noise it fitted (see :mod:`~odyssey_analysis.estimators` and
        ``docs/accuracy.md``); ``"blend-corrected"`` (default): ``blend``, its main
        effects less the forest-mean's bias measured in :data:`WORLD_REPLICATES` sweeps
        simulated in the fitted forest's world (the bootstrap's, with ``n_bootstrap``),
        at the cost of as many 16-tree refits.
    n_bootstrap
        Replicates of each bootstrap for calibrated intervals (0: none; 100 is the
        calibrated choice, and each replicate refits a forest, so this costs about
        ``2 · n_bootstrap · 16`` more trees per fit). The intervals are calibrated on
        the forest-mean fractions, so they need an estimator that computes them
        (``blend`` or ``forest-mean``); they are intervals for the true fraction
        whichever of the two is reported.
    conf_level
        Nominal coverage of the intervals.
    variance_points
        Points of the measure at which the forest's variance is integrated.
    signal_permutations
        Permutations of the response in the test of whether the surrogate predicts
        anything (:mod:`~odyssey_analysis.significance`; 0: no test). A fit without
        detectable signal reports no shares.
    """

    surrogate: Surrogate | None = None
    cutoffs: tuple[float, float] | None = None
    cutoff_quantiles: tuple[float, float] | None = None
    pairs: bool = True
    curves: bool = True
    grid_points: int = 50
    pair_grid_points: int = 24
    keep_trees: bool = False
    estimator: str = DEFAULT_ESTIMATOR
    n_bootstrap: int = 0
    conf_level: float = 0.9
    variance_points: int = VARIANCE_POINTS
    signal_permutations: int = SIGNAL_PERMUTATIONS

    name = "fanova"

    def __post_init__(self) -> None:
        try:
            validate(self, METHOD_CONSTRAINTS)
        except ParameterError as exc:
            if exc.parameter != "n_bootstrap":
                raise
            raise ParameterError(exc.template, parameters=exc.parameters, got=exc.got,
                                 hint="100 is the number the intervals were calibrated "
                                      "with") from None
        if self.cutoffs is not None and self.cutoff_quantiles is not None:
            raise ParameterError("give {cutoffs} or {cutoff_quantiles}, not both",
                                 parameters=("cutoffs", "cutoff_quantiles"))
        if self.n_bootstrap and self.estimator not in NEEDS_FOREST_MEAN:
            raise ParameterError("intervals ({n_bootstrap}) are calibrated on the "
                                 "forest-mean fractions: use the blend or forest-mean "
                                 "{estimator}",
                                 parameters=("n_bootstrap", "estimator"),
                                 got=repr(self.estimator))
        surrogate = self.surrogate if self.surrogate is not None else make_surrogate()
        object.__setattr__(self, "surrogate", with_leaf_rule(surrogate, self.n_bootstrap))

    @property
    def forest_surrogate(self) -> Surrogate:
        """The surrogate in use (set by ``__post_init__``, the default one when none was
        given)."""
        assert self.surrogate is not None  # set on creation
        return self.surrogate

    @property
    def trees_per_fit(self) -> int:
        """Trees fitted per group and response, bootstrap replicates included."""
        settings = getattr(self.forest_surrogate, "settings", None)
        own = int(getattr(settings, "n_trees", ForestSettings().n_trees))
        return own + REPLICATE_TREES * (2 * int(self.n_bootstrap) or self._world_replicates())

    def _world_replicates(self) -> int:
        """Sweeps simulated in the fitted world without a bootstrap."""
        return WORLD_REPLICATES if self.estimator == "blend-corrected" else 0

    def to_dict(self) -> dict[str, Any]:
        """The method's settings, JSON-ready."""
        out = {"name": self.name, "surrogate": surrogate_name(self.forest_surrogate),
               "estimator": self.estimator, "pairs": self.pairs,
               "cutoffs": self.cutoffs, "cutoff_quantiles": self.cutoff_quantiles}
        if self.estimator in NEEDS_FOREST_MEAN:
            out["variance_points"] = int(self.variance_points)
        out["signal_permutations"] = int(self.signal_permutations)
        if self.n_bootstrap:
            out.update(n_bootstrap=int(self.n_bootstrap), conf_level=float(self.conf_level),
                       replicate_trees=REPLICATE_TREES)
        return out

    def _cutoffs(self, y: np.ndarray, direction: str | None) -> tuple[float, float] | None:
        """The leaf-value clamp for one group (``direction`` is for methods that need it)."""
        if self.cutoff_quantiles is None:
            return self.cutoffs
        lo_q, hi_q = self.cutoff_quantiles
        return (float(np.quantile(y, lo_q)), float(np.quantile(y, hi_q)))

    def _seed(self) -> int:
        return int(getattr(getattr(self.forest_surrogate, "settings", None), "seed", 0))

    def fit(self, x: np.ndarray, y: np.ndarray, space: SearchSpace, *,
            group: Mapping[str, Any] | None = None, response: str = "response",
            rows_excluded: Mapping[str, int] | None = None,
            direction: str | None = None) -> FanovaResult:
        """Fit the surrogate to one group's trials and decompose it exactly.

        Parameters
        ----------
        x
            ``(n, d)`` design matrix encoded by ``space``.
        y
            ``(n,)`` finite responses.
        space
            The search space (defines the measure).
        group, response
            Labels stored in the result.
        rows_excluded
            The group's excluded trials counted by reason (recorded in ``fit``).
        direction
            ``"minimize"`` or ``"maximize"`` when known (the plain method ignores it).

        Returns
        -------
        FanovaResult
        """
        y = np.asarray(y, dtype=float)
        cutoffs = self._cutoffs(y, direction)
        seed = self._seed()
        surrogate = _told_levels(self.forest_surrogate, space)
        points = designs = None
        if self.estimator in NEEDS_FOREST_MEAN:
            points = variance_points(space, int(self.variance_points), seed,
                                     exact_cells=max(int(self.variance_points),
                                                     EXACT_GRID_CELLS))
            at = points.points
            n_worlds = int(self.n_bootstrap) or self._world_replicates()
            if n_worlds:
                key = [seed, fit_stream(group, response)]
                rng = np.random.default_rng([*key, 1])
                designs = np.stack([draw_design(space, len(y), rng)
                                    for _ in range(n_worlds)])
                at = np.concatenate([at, designs.reshape(-1, x.shape[1])])
            fitted = surrogate.fit(x, y, evaluate_at=at, clip=cutoffs)
            if fitted.evaluated is None:
                raise TypeError(f"{type(surrogate).__name__}.fit ignored evaluate_at; the "
                                "forest-mean estimator needs the predictions there "
                                "(or use estimator='per-tree')")
        else:
            fitted = surrogate.fit(x, y)
        trees = [snap_to_levels(t.clipped(cutoffs), space) for t in fitted.trees]
        parts = self._decompose(trees, space)
        estimate = None
        alternatives: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        mean = variance = float("nan")
        m, exact, intervals = 0, False, None
        measured: NoiseEstimate | None = None  # the trials' noise, measured once
        unbiased = None  # the forest-mean main fractions less their simulated bias
        if points is not None:
            m = len(points.points)
            evaluated = np.asarray(fitted.evaluated)  # checked above
            main, pair, mean, variance = _forest_mean_fractions(
                trees, evaluated[:m], points, self.pairs, parts.mean)
            exact = points.exact
            alternatives["forest-mean"] = (main, pair)
            if designs is not None and np.isfinite(main).all():
                world = evaluated[m:].reshape(len(designs), len(y))
                measured = _measured_noise(x, y, space)
                if self.n_bootstrap:
                    intervals = self._bootstrap(surrogate, x, y, space, cutoffs, main, pair,
                                                world, designs, key, measured)
                    unbiased = intervals.main_corrected
                else:
                    unbiased = self._world_corrected(surrogate, space, cutoffs, main, world,
                                                     designs, key, measured)
        noise = None
        if self.estimator in NEEDS_CORRECTED:
            noise = fitted_noise(trees, x, y)
            bootstrap = bool(fitted.settings.get("bootstrap", True))
            alternatives["per-tree-corrected"] = corrected_fractions(
                parts, noise.variance, noise_share(trees, x, bootstrap))
        if "forest-mean" in alternatives and "per-tree-corrected" in alternatives:
            alternatives["blend"] = blend(alternatives["forest-mean"],
                                          alternatives["per-tree-corrected"])
            if self.estimator == "blend-corrected":
                main, pair = alternatives["blend"]
                shifted = (main if unbiased is None  # a constant forest: nothing to correct
                           else bias_shifted(main, alternatives["forest-mean"][0], unbiased))
                alternatives["blend-corrected"] = (shifted, pair)
                if intervals is not None and intervals.resampled_main is not None:
                    # the mains' intervals reach the reported centre too
                    lower, upper = spanning_interval(
                        shifted, alternatives["forest-mean"][0], intervals.main_corrected,
                        intervals.resampled_main, float(self.conf_level))
                    intervals = replace(intervals, main_lower=lower, main_upper=upper,
                                        main_corrected=shifted)
        signal = None
        if self.signal_permutations:
            signal = signal_test(surrogate, x, y, [seed, fit_stream(group, response)],
                                 permutations=int(self.signal_permutations))
        if intervals is not None and signal is not None and not signal.detected:
            # Without detectable signal no effect is distinguishable from zero.
            intervals = replace(intervals, main_lower=np.zeros_like(intervals.main_lower),
                                pair_lower=np.where(np.isnan(intervals.pair_lower), np.nan,
                                                    0.0))
        if self.estimator in alternatives:
            main, pair = alternatives[self.estimator]
            estimate = ForestMeanEstimate(main, pair, mean, variance, m, exact, intervals,
                                          estimator=self.estimator,
                                          alternatives=alternatives, noise=noise)
        kept = [t.without_index() for t in trees] if self.keep_trees else None
        result = _result(parts, space, kept, fitted.oob_r2,
                         fitted.settings, n_trials=len(y), group=group, response=response,
                         cutoffs=cutoffs, pairs=self.pairs, rows_excluded=rows_excluded,
                         estimate=estimate, x=x, signal=signal)
        if self.curves:  # the guidelines' tolerance reads the noise beside the curves
            result.noise = measured if measured is not None else _measured_noise(x, y, space)
        return result

    def _bootstrap(self, surrogate: Surrogate, x: np.ndarray, y: np.ndarray,
                   space: SearchSpace,
                   cutoffs: tuple[float, float] | None, main: np.ndarray, pair: np.ndarray,
                   world: np.ndarray, designs: np.ndarray, key: list[int],
                   noise: NoiseEstimate) -> FractionIntervals:
        """Calibrated intervals from refits in the fitted world and on resampled trials.

        ``key`` seeds every draw: the forest's seed and the fit's own stream
        (:func:`fit_stream`), so groups do not share their simulated sweeps; ``noise``
        (:func:`_measured_noise`) is the noise of the simulated sweeps.
        """
        seed = key[0]
        d = x.shape[1]
        n = len(y)
        points = variance_points(space, REPLICATE_POINTS, seed)
        iu = np.triu_indices(d, 1) if self.pairs else (np.array([], int), np.array([], int))
        replicate = getattr(surrogate, "replicate", None)
        if replicate is None:
            raise TypeError(f"{type(surrogate).__name__} has no replicate(); the bootstrap "
                            "refits the surrogate")

        b_sim = int(self.n_bootstrap)

        def problem(i: int) -> tuple[tuple[np.ndarray, np.ndarray], int]:
            # The simulated sweeps first, then the resampled trials; each its own stream.
            if i < b_sim:
                return _simulated_sweep(i, key, designs, world, noise)
            rng = np.random.default_rng([*key, 3, i - b_sim])
            rows = rng.integers(0, n, n)
            return (x[rows], y[rows]), int(rng.integers(2 ** 31))

        flat = [np.concatenate([m, p[iu]]) for m, p in self._refit_fractions(
            surrogate, space, cutoffs, points, problem, 2 * b_sim, n, self.pairs)]
        sim = _finite_rows(np.array(flat[:b_sim]))
        res = _finite_rows(np.array(flat[b_sim:]))
        estimate = np.concatenate([main, pair[iu]])
        ci = calibrated_interval(estimate, sim, res, float(self.conf_level))

        def unflat(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            square = np.full((d, d), np.nan)
            if self.pairs:
                square[iu] = v[d:]
                square.T[iu] = v[d:]
            return v[:d], square

        (lo, plo), (hi, phi), (mid, pmid) = unflat(ci.lower), unflat(ci.upper), unflat(
            ci.corrected)
        kept = [unflat(row) for row in res]
        return FractionIntervals(float(self.conf_level), int(self.n_bootstrap),
                                 REPLICATE_TREES, noise.variance, noise.source, lo, hi, mid,
                                 plo, phi, pmid,
                                 resampled_main=np.array([m for m, _ in kept]).reshape(-1, d),
                                 resampled_pair=np.array([q for _, q in kept]).reshape(-1, d, d))

    def _world_corrected(self, surrogate: Surrogate, space: SearchSpace,
                         cutoffs: tuple[float, float] | None, main: np.ndarray,
                         world: np.ndarray, designs: np.ndarray, key: list[int],
                         noise: NoiseEstimate) -> np.ndarray:
        """The forest-mean main fractions less their bias in the fitted world.

        The world's sweeps (``designs``, responses ``world`` plus noise of the measured
        variance, drawn from the bootstrap's streams) are refitted with
        :data:`REPLICATE_TREES` trees each, and the estimate is corrected by how their
        forest-mean fractions miss the world's own (:func:`ratio_corrected`).
        """
        points = variance_points(space, REPLICATE_POINTS, key[0])
        fractions = self._refit_fractions(
            surrogate, space, cutoffs, points,
            lambda i: _simulated_sweep(i, key, designs, world, noise),
            len(designs), world.shape[1], pairs=False)  # mains only
        sim = _finite_rows(np.array([m for m, _ in fractions]))
        return ratio_corrected(main, sim, main) if len(sim) else main

    @staticmethod
    def _refit_fractions(surrogate: Surrogate, space: SearchSpace,
                         cutoffs: tuple[float, float] | None, points: MeasurePoints,
                         problem: Callable[[int], tuple[tuple[np.ndarray, np.ndarray], int]],
                         count: int, n: int, pairs: bool
                         ) -> list[tuple[np.ndarray, np.ndarray]]:
        """The forest-mean main and pair fractions of ``count`` refits of
        :data:`REPLICATE_TREES` trees, refit ``i`` fitted to ``problem(i)``'s data with
        its seed.

        The refits are built and fitted a chunk at a time (:func:`refits_per_call`), so
        the trees and resampled trials held at once stay bounded on large sweeps; each
        refit's numbers do not depend on the chunks.
        """
        fit_many = getattr(surrogate, "fit_many", None)
        per_call = refits_per_call(n)
        out = []
        for start in range(0, count, per_call):
            built = [problem(i) for i in range(start, min(start + per_call, count))]
            data, seeds = [b[0] for b in built], [b[1] for b in built]
            if fit_many is not None:  # a chunk of refits in one call
                fits = fit_many(data, seeds, n_trees=REPLICATE_TREES,
                                evaluate_at=points.points, clip=cutoffs)
            else:
                fits = [surrogate.replicate(n_trees=REPLICATE_TREES, seed=seed).fit(
                    xb, yb, evaluate_at=points.points, clip=cutoffs)
                    for (xb, yb), seed in zip(data, seeds)]
            for fitted in fits:
                trees = [snap_to_levels(t.clipped(cutoffs), space) for t in fitted.trees]
                m, p, _, _ = _forest_mean_fractions(trees, fitted.evaluated, points, pairs)
                out.append((m, p))
        return out

    def _decompose(self, trees: list, space: SearchSpace) -> ForestDecomposition:
        hps = list(space)
        grids = ({j: grid_for(hp, self.grid_points) for j, hp in enumerate(hps)}
                 if self.curves else {})
        pair_grids = ({j: grid_for(hp, self.pair_grid_points) for j, hp in enumerate(hps)}
                      if self.curves and self.pairs else {})
        return decompose_trees(trees, pairs=self.pairs, grids=grids, pair_grids=pair_grids,
                               n_threads=current_fit_threads())


def _simulated_sweep(i: int, key: list[int], designs: np.ndarray, world: np.ndarray,
                     noise: NoiseEstimate) -> tuple[tuple[np.ndarray, np.ndarray], int]:
    """Simulated sweep ``i`` of the fitted world and its refit's seed: the design
    ``designs[i]``, the world's responses ``world[i]`` plus noise of ``noise``'s variance,
    drawn from stream ``[*key, 2, i]`` (the same for the bootstrap and for
    ``blend-corrected`` without one)."""
    rng = np.random.default_rng([*key, 2, i])
    sd = float(np.sqrt(max(noise.variance, 0.0)))
    return (designs[i], world[i] + sd * rng.standard_normal(world.shape[1])), int(
        rng.integers(2 ** 31))


def _measured_noise(x: np.ndarray, y: np.ndarray, space: SearchSpace) -> NoiseEstimate:
    """The trials' noise variance (:func:`~odyssey_analysis.noise.noise_variance`), with
    levels and constants as the dimensions whose repeats count as the same setting."""
    levels = np.array([hp.is_discrete or hp.is_constant for hp in space])
    return noise_variance(x, y, levels)


def _told_levels(surrogate: Surrogate, space: SearchSpace) -> Surrogate:
    """The surrogate told each hyperparameter's cells, where it takes them."""
    with_levels = getattr(surrogate, "with_levels", None)
    if with_levels is None:
        return surrogate
    from ..forest import cells_of

    return with_levels(cells_of(space))


def fit_stream(group: Mapping[str, Any] | None, response: str) -> int:
    """A 32-bit number that names one fit (its group values and response).

    It enters the seeds of the bootstrap's draws, so every group and response gets
    sweeps of its own (one seed per study would give every group of the same size the
    same simulated designs and resampled rows) and the same fit gets the same draws in
    any process.
    """
    import json
    import zlib

    label = json.dumps([[str(k), str(v)] for k, v in sorted((group or {}).items(),
                                                               key=lambda kv: str(kv[0]))]
                       + [str(response)], ensure_ascii=True)
    return zlib.crc32(label.encode("ascii"))


def _forest_mean_fractions(trees: list[LeafBoxes], values: np.ndarray,
                           points: MeasurePoints, pairs: bool,
                           means: np.ndarray | None = None
                           ) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Main and pure pair fractions of the forest's mean function.

    The effects' variances are exact (:func:`~odyssey_analysis.fanova.
    forest_mean_effects`); the function's variance is integrated from its ``values`` at
    ``points``. Fractions are NaN when the function is constant.
    """
    main_v, pair_v = forest_mean_effects(trees, pairs=pairs, means=means)
    mean, variance = points.mean_and_variance(values)
    d = len(main_v)
    if d == 1 or (d == 2 and pairs):  # nothing above pairs: the variance is their sum
        variance = float(main_v.sum() + np.triu(pair_v, 1).sum())
    if zero_variance(np.array([variance]), np.array([mean]))[0]:
        return np.full(d, np.nan), np.full((d, d), np.nan), mean, variance
    return (np.clip(main_v / variance, 0.0, None), np.clip(pair_v / variance, 0.0, None),
            mean, variance)


def _finite_rows(replicates: np.ndarray) -> np.ndarray:
    """Replicates without NaN (a refit that came out constant has no fractions)."""
    return replicates[np.isfinite(replicates).all(axis=1)]


def _result(parts: ForestDecomposition, space: SearchSpace, trees: list | None, oob_r2: float,
            settings: dict[str, Any], *, n_trials: int, group: Mapping[str, Any] | None,
            response: str, cutoffs: tuple[float, float] | None, pairs: bool,
            rows_excluded: Mapping[str, int] | None,
            estimate: ForestMeanEstimate | None = None,
            x: np.ndarray | None = None,
            signal: SignalTest | None = None) -> FanovaResult:
    """The per-tree decomposition as a :class:`FanovaResult` with curves in original units
    (and, given the encoded design ``x``, the trials' values for the rugs)."""
    hps = list(space)
    marginals = {}
    for j, grid in parts.grids.items():
        hp = hps[j]
        per_tree = parts.curves[j]
        observed = None if x is None else hp.decode(x[:, j])
        marginals[hp.name] = Marginal(hp.name, hp.kind, hp.scale, grid, hp.decode(grid),
                                      per_tree.mean(axis=0), per_tree.std(axis=0),
                                      per_tree, observed)
    pair_grids = {}
    for (j, k), pc in parts.pair_curves.items():
        ha, hb = hps[j], hps[k]
        pair_grids[(ha.name, hb.name)] = PairGrid(
            (ha.name, hb.name), ha.decode(pc.grid_a), hb.decode(pc.grid_b), ha.scale,
            hb.scale, ha.kind, hb.kind, pc.joint.mean(axis=0), pc.joint.std(axis=0),
            pc.interaction.mean(axis=0), pc.interaction.std(axis=0),
            pc.joint.astype(np.float32))  # per tree, for the guidelines: half the bytes
    warnings = []
    note = signal_note(oob_r2, signal)
    if note is not None:
        warnings.append(f"{note}: the shares are not reported")
    elif low_oob_r2(oob_r2):
        warnings.append(f"out-of-bag R² is {oob_r2:.2f}: the forest predicts unseen "
                        "trials poorly, so its decomposition is uncertain")
    n_zero = int(zero_variance(parts.variance, parts.mean).sum())
    if n_zero == parts.n_trees:
        warnings.append(f"{CONSTANT_WARNING} (the response does not vary): "
                        "fractions are undefined")
    elif n_zero:
        warnings.append(f"{n_zero} constant tree(s) skipped for the fractions")
    constant = [hp.name for hp in hps if hp.is_constant]
    if constant:
        warnings.append(f"constant hyperparameter(s) {', '.join(constant)}: effect 0")
    ci = None if estimate is None else estimate.intervals
    if ci is not None and ci.noise_source == "none":
        warnings.append("no noise estimate (no repeated configurations and no numeric "
                        "hyperparameter): the intervals assume noiseless responses")
    fit_info = FitInfo(forest=dict(settings), cutoffs=cutoffs, n_zero_variance_trees=n_zero,
                       pairs_computed=pairs, rows_used=n_trials,
                       rows_excluded=dict(rows_excluded or {}))
    return FanovaResult(
        group=dict(group or {}), response=response, hyperparameters=space.names,
        tree_mean=parts.mean, tree_variance=parts.variance, main_variance=parts.main,
        pair_variance=parts.pair, n_trials=n_trials, oob_r2=oob_r2, marginals=marginals,
        pairs=pair_grids, measures=space.measures(), fit=fit_info, warnings=warnings,
        trees=trees, estimate=estimate, signal=signal)


def decompose_forest(
    forest: Any,
    space: SearchSpace,
    *,
    cutoffs: tuple[float, float] | None = None,
    **options: Any,
) -> ForestDecomposition:
    """Exact functional ANOVA of every tree of a fitted scikit-learn forest.

    Parameters
    ----------
    forest
        A fitted ``RandomForestRegressor`` (anything with ``estimators_`` whose members
        have ``tree_``) on inputs encoded by ``space``.
    space
        The search space; its encoding defines the measure and the curves' grids.
    cutoffs
        Clamp leaf values into ``(low, high)`` first.
    **options
        ``pairs``, ``grid_points`` and ``pair_grid_points`` of :class:`FanovaMethod`
        (pairwise effects, points per hyperparameter of the curves and pair grids).

    Returns
    -------
    ForestDecomposition
    """
    allowed = {"pairs", "grid_points", "pair_grid_points"}
    if set(options) - allowed:
        raise TypeError(f"decompose_forest() got an unexpected keyword argument "
                        f"{sorted(set(options) - allowed)[0]!r}")
    d = len(space)
    trees = forest_leaf_boxes([e.tree_ for e in forest.estimators_], d, cutoffs)
    return FanovaMethod(**options)._decompose(trees, space)


def fit_and_decompose(
    x: np.ndarray,
    y: np.ndarray,
    space: SearchSpace,
    *,
    group: dict[str, Any] | None = None,
    response: str = "response",
    settings: ForestSettings | None = None,
    rows_excluded: dict[str, int] | None = None,
    surrogate: str | None = None,
    **options: Any,
) -> FanovaResult:
    """Fit a random forest to one group's trials and decompose it exactly.

    A shortcut for ``FanovaMethod(make_surrogate(surrogate, settings), **options).fit(x,
    y, space, group=group, response=response, rows_excluded=rows_excluded)``:
    ``surrogate`` names the forest (:data:`~odyssey_analysis.surrogate.SURROGATES`),
    ``settings`` are its :class:`~odyssey_analysis.surrogate.ForestSettings`, ``options``
    the method's (``pairs``, ``n_bootstrap``, ...; see :class:`FanovaMethod`), and the
    method chooses the leaf size where ``settings`` leave it, as :func:`~odyssey_analysis.
    study.analyze` does.
    """
    method = FanovaMethod(make_surrogate(surrogate, settings), **options)
    return method.fit(x, y, space, group=group, response=response,
                      rows_excluded=rows_excluded)
