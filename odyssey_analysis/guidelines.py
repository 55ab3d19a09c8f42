"""From importance to action: what to tune, where, and whether an optimum stays put.

The guidelines read only the results of a fit (fractions, their intervals, marginal
curves and pair grids, each with its trees); they never refit and never draw. Per group,
response and hyperparameter they give

* a **verdict**: ``tune`` (its effect, main plus its pairs, is at least
  :data:`TUNE_SHARE` of the variance and its interval's lower end at least
  :data:`IGNORE_SHARE`), ``ignore`` (the interval's upper end is below
  :data:`IGNORE_SHARE`: no effect to speak of), else ``fix`` (it matters little: any
  value of its good region will do). The interval is the calibrated one where the fit ran
  a bootstrap (main effect plus each pair, lower ends summed and upper ends summed),
  else the estimate ± one standard deviation of the trees' own shares;
* its **good region**: the values whose marginal is within the tolerance ``τ`` of the
  best, the connected stretch around the best value (or the good levels), with each
  end's uncertainty: the 5–95 % range of that end over the forest's trees resampled
  with replacement (:data:`TREE_RESAMPLES`; how firmly the trees agree, not a calibrated
  interval over sweeps). ``τ = max(σ_noise, REL_TOLERANCE · σ_f)``: one run-to-run
  noise standard deviation (values closer than that cannot be told apart by one run),
  and at least :data:`REL_TOLERANCE` of the response's spread over the space
  (``σ_f``: the standard deviation of the forest's mean function);
* its **shape**: ``flat`` (the marginal varies by less than ``τ``), ``interior
  optimum`` (worse by more than ``τ`` at both ends), or ``monotone`` with the better end
  and the **knee**, the inner end of the good region, beyond which returns diminish
  below ``τ``.

For each pair of a ``tune`` hyperparameter ``A`` with another that is not ``ignore``
(``B``), :func:`pair_stability` reads ``A``'s best value in each slice of ``B`` from the
pair's joint marginal, and how far it moves across ``B``'s range (the slope of a
weighted least-squares line through the slice optima, times ``B``'s range; each slice
weighted by how much ``A`` matters in it), with a tree-resampled interval. The optimum
is ``stable`` when it moves by at most :data:`STABLE_FRACTION` of the width of ``A``'s
good region. Where ``B`` is a budget (epochs, steps, ...), the rank agreement of ``A``'s
values at the lowest and the highest budget says whether a small budget ranks them like
the full one. Across groups, :func:`consensus` counts on how many groups each verdict
and each stability holds.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .fanova import single_threaded_blas
from .result import FanovaResult, Marginal, PairGrid, StudyResult
from .roles import MAXIMIZE, MINIMIZE
from .space import SearchSpace

#: A hyperparameter whose share (main effect plus its pairs) is at least this is tuned.
TUNE_SHARE = 0.05
#: A hyperparameter whose share's interval lies wholly below this has no effect.
IGNORE_SHARE = 0.01
#: The good region's tolerance is at least this fraction of the response's spread.
REL_TOLERANCE = 0.1
#: An optimum is stable when it moves by at most this fraction of its good region's width.
STABLE_FRACTION = 0.5
#: Rank agreement (Spearman) from which a low budget "ranks like the full one".
RANK_AGREEMENT = 0.8
#: Tree resamples for the uncertainty of region ends and optimum shifts.
TREE_RESAMPLES = 200
#: Quantiles of the tree-resampled ends and shifts.
END_QUANTILES = (0.05, 0.95)
#: Seed of the tree resampling (the same input gives the same guidelines).
RESAMPLE_SEED = 0
#: Hyperparameter names read as a training budget (fidelity).
BUDGET_NAMES = frozenset({"budget", "epochs", "n_epochs", "num_epochs", "max_epochs",
                          "fidelity", "iterations", "n_iterations", "steps", "train_steps",
                          "max_steps", "n_steps"})

VERDICTS = ("tune", "fix", "ignore")


@dataclass(frozen=True)
class Share:
    """A hyperparameter's share of the variance (main effect plus its pairs).

    Attributes
    ----------
    value
        The estimate.
    low, high
        Its interval.
    interval
        What the interval is (``calibrated 90 %`` or ``± 1 sd over trees``).
    """

    value: float
    low: float
    high: float
    interval: str


@dataclass(frozen=True)
class ParamGuideline:
    """The guideline for one hyperparameter in one group and response.

    Attributes
    ----------
    name, kind, scale
        The hyperparameter.
    verdict
        ``tune``, ``fix`` or ``ignore`` (see the module docstring).
    share
        The share the verdict rests on.
    best
        The value with the best marginal (a level for categorical and ordinal).
    good_region
        ``(low, high)`` in original units (numeric), else ``None``.
    good_levels
        The levels within the tolerance of the best (levels), else ``None``.
    low_end, high_end
        ``(q05, q95)`` of each end of the good region over the resampled trees.
    shape
        ``flat``, ``interior optimum``, ``monotone``, or ``levels``.
    better_end
        For ``monotone``: ``higher`` or ``lower`` values are better.
    knee
        For ``monotone``: where returns diminish below the tolerance.
    suggested
        A good value to fix it at: the middle of the good region in the sampling
        measure (the best level for levels).
    region_fraction
        The good region's share of the sampling measure (1: the whole range).
    """

    name: str
    kind: str
    scale: str
    verdict: str
    share: Share
    best: Any
    good_region: tuple[float, float] | None
    good_levels: list[Any] | None
    low_end: tuple[float, float] | None
    high_end: tuple[float, float] | None
    shape: str
    better_end: str | None
    knee: float | None
    suggested: Any
    region_fraction: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return _clean({
            "verdict": self.verdict,
            "share": self.share.value, "share_interval": [self.share.low, self.share.high],
            "share_interval_kind": self.share.interval,
            "good_region": (list(self.good_region) if self.good_region is not None
                            else list(self.good_levels or [])),
            "good_region_low_end": None if self.low_end is None else list(self.low_end),
            "good_region_high_end": None if self.high_end is None else list(self.high_end),
            "region_fraction": self.region_fraction,
            "best": self.best, "shape": self.shape, "better_end": self.better_end,
            "knee": self.knee, "suggested": self.suggested,
        })


@dataclass(frozen=True)
class PairStability:
    """Where ``a``'s best value lies across ``b``'s range.

    Attributes
    ----------
    a, b
        The tuned hyperparameter and the one it is sliced by.
    optimum_shift
        How far ``a``'s optimum moves across ``b``'s range, in ``unit`` (``None`` for
        a hyperparameter with levels).
    shift_interval
        ``(q05, q95)`` of the shift over the resampled trees.
    unit
        ``decades`` (log scales) or the hyperparameter's own units.
    shift_fraction
        The shift as a fraction of ``a``'s good region's width (sampling measure).
    stable
        Whether the optimum stays within :data:`STABLE_FRACTION` of the good region.
    slice_values, slice_optima
        ``b``'s slices and ``a``'s best value in each.
    reading
        The plain-language reading.
    slice_good
        ``a``'s good values in each slice of ``b`` (the same tolerance as its own good
        region): ``(low, high)`` for a numeric ``a``, the list of good levels for one
        with levels. The next sweep reads them where the two are tuned together.
    """

    a: str
    b: str
    optimum_shift: float | None
    shift_interval: tuple[float, float] | None
    unit: str
    shift_fraction: float | None
    stable: bool
    slice_values: list[Any]
    slice_optima: list[Any]
    reading: str
    slice_good: list[Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return _clean({"a": self.a, "b": self.b, "optimum_shift": self.optimum_shift,
                       "shift_interval": (None if self.shift_interval is None
                                          else list(self.shift_interval)),
                       "unit": self.unit, "shift_fraction": self.shift_fraction,
                       "stable": self.stable, "slice_values": self.slice_values,
                       "slice_optima": self.slice_optima, "reading": self.reading,
                       "slice_good": self.slice_good})


@dataclass(frozen=True)
class BudgetAgreement:
    """Whether a low budget ranks ``param``'s values like the full budget.

    Attributes
    ----------
    budget, param
        The budget hyperparameter and the one ranked.
    low, high
        The lowest and highest budget of the grid.
    rank_agreement
        Spearman correlation of ``param``'s joint marginal at the two budgets.
    agrees
        ``rank_agreement`` at least :data:`RANK_AGREEMENT`.
    """

    budget: str
    param: str
    low: float
    high: float
    rank_agreement: float
    agrees: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return _clean({"budget": self.budget, "param": self.param, "low": self.low,
                       "high": self.high, "rank_agreement": self.rank_agreement,
                       "agrees": self.agrees})


@dataclass(frozen=True)
class GroupGuidelines:
    """The guidelines of one group and response.

    Attributes
    ----------
    group, response, direction
        Where they hold and which way is better.
    tolerance
        ``τ`` in response units, and ``tolerance_rule`` how it was set.
    noise_sd, spread
        The noise standard deviation and the response's spread ``σ_f`` it rests on.
    best_response
        The best value of the response's marginals (the forest's mean there).
    hyperparameters
        One :class:`ParamGuideline` per hyperparameter, in search-space order.
    pairs
        :class:`PairStability` of each important pair.
    budget
        :class:`BudgetAgreement` where a hyperparameter is a budget.
    n_trials, oob_r2
        How much the guidelines rest on.
    signal_note
        ``None``, or why the fit gives no guideline at all: without detectable signal
        (:attr:`~odyssey_analysis.result.FanovaResult.has_signal` false) its shares and
        curves are noise, so ``hyperparameters``, ``pairs`` and ``budget`` are empty
        and nothing is tuned, fixed, ignored or narrowed from it.
    """

    group: dict[str, Any]
    response: str
    direction: str
    tolerance: float
    tolerance_rule: str
    noise_sd: float
    spread: float
    hyperparameters: dict[str, ParamGuideline]
    pairs: list[PairStability]
    budget: list[BudgetAgreement]
    n_trials: int
    oob_r2: float
    signal_note: str | None = None

    @property
    def has_signal(self) -> bool:
        """Whether the fit had detectable signal (else: no guideline)."""
        return self.signal_note is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the ``guidelines.json`` entry of one group and response)."""
        return _clean({
            "group": self.group, "response": self.response, "direction": self.direction,
            "tolerance": self.tolerance, "tolerance_rule": self.tolerance_rule,
            "noise_sd": self.noise_sd, "spread": self.spread,
            "n_trials": self.n_trials, "oob_r2": self.oob_r2,
            "signal_note": self.signal_note,
            "hyperparameters": {k: g.to_dict() for k, g in self.hyperparameters.items()},
            "pairs": [p.to_dict() for p in self.pairs],
            "budget": [b.to_dict() for b in self.budget],
        })


@dataclass
class Guidelines:
    """Guidelines of a whole study: one :class:`GroupGuidelines` per group and response,
    and the counts across groups (:func:`consensus`).

    Attributes
    ----------
    group_keys
        The group columns.
    groups
        Per group and response.
    thresholds
        The named constants the verdicts and readings use.
    """

    group_keys: list[str]
    groups: list[GroupGuidelines]
    thresholds: dict[str, Any] = field(default_factory=lambda: thresholds())

    def __iter__(self) -> Iterator[GroupGuidelines]:
        return iter(self.groups)

    def __len__(self) -> int:
        return len(self.groups)

    def get(self, response: str, **group: Any) -> GroupGuidelines:
        """The guidelines of ``response`` in the group given by keyword values."""
        hits = [g for g in self.groups if g.response == response and all(
            str(g.group.get(k)) == str(v) for k, v in group.items())]
        if len(hits) != 1:
            raise KeyError(f"{len(hits)} guideline sets match response={response!r} {group}")
        return hits[0]

    def consensus(self) -> dict[str, Any]:
        """Which guidelines hold on how many groups (see :func:`consensus`)."""
        return consensus(self.groups)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the thresholds, every group and the counts across groups."""
        return _clean({"thresholds": self.thresholds, "group_keys": self.group_keys,
                       "groups": [g.to_dict() for g in self.groups],
                       "across_groups": self.consensus()})

    def to_frame(self) -> pd.DataFrame:
        """One row per group × response × hyperparameter: verdict, share, region, shape
        (a group without detectable signal has no guideline, so no rows)."""
        rows = []
        for g in self.groups:
            for name, p in g.hyperparameters.items():
                low, high = p.good_region if p.good_region is not None else (None, None)
                rows.append({**g.group, "response": g.response, "hyperparameter": name,
                             "verdict": p.verdict, "share": p.share.value,
                             "share_low": p.share.low, "share_high": p.share.high,
                             "good_low": low, "good_high": high,
                             "good_levels": (None if p.good_levels is None
                                             else ", ".join(map(str, p.good_levels))),
                             "shape": p.shape, "knee": p.knee, "best": p.best,
                             "suggested": p.suggested})
        return pd.DataFrame(rows)


def thresholds() -> dict[str, Any]:
    """The named constants, for the record in ``guidelines.json``."""
    return {"tune_share": TUNE_SHARE, "ignore_share": IGNORE_SHARE,
            "rel_tolerance": REL_TOLERANCE, "stable_fraction": STABLE_FRACTION,
            "rank_agreement": RANK_AGREEMENT, "tree_resamples": TREE_RESAMPLES,
            "end_quantiles": list(END_QUANTILES)}


# -- the engine ---------------------------------------------------------------------------

def study_guidelines(study: StudyResult, *, directions: Mapping[str, str] | None = None,
                     tolerance: float | Mapping[str, float] | None = None,
                     responses: Sequence[str] | None = None) -> Guidelines:
    """The guidelines of every group and response of ``study``.

    Parameters
    ----------
    study
        An analysis with curves (``analyze(..., curves=True)``, the default).
    directions
        ``response -> minimize|maximize``; default: the directions the study recorded.
    tolerance
        ``τ`` in response units (one number, or per response) instead of the rule.
    responses
        Only these responses (default: all).

    Raises
    ------
    ValueError
        A response whose direction is unknown, or a fit without curves.
    """
    recorded = {r: d.get("better") for r, d in study.table_info.get("directions", {}).items()}
    chosen = {**recorded, **dict(directions or {})}
    out = []
    for fit in study:
        if responses is not None and fit.response not in responses:
            continue
        direction = chosen.get(fit.response)
        if direction not in (MINIMIZE, MAXIMIZE):
            raise ValueError(f"which way is better for {fit.response!r} is unknown: declare "
                             "it (--maximize/--minimize, or directions=)")
        tau = (tolerance.get(fit.response) if isinstance(tolerance, Mapping)
               else tolerance)
        out.append(group_guidelines(fit, study.space, direction, tolerance=tau))
    return Guidelines(list(study.group_keys), out)


def group_guidelines(fit: FanovaResult, space: SearchSpace, direction: str, *,
                     tolerance: float | None = None) -> GroupGuidelines:
    """The guidelines of one fit (see the module docstring).

    Parameters
    ----------
    fit
        One group and response, with its marginal curves and (for pairs) pair grids.
    space
        The search space of the fit (decodes the region's ends).
    direction
        ``minimize`` or ``maximize``.
    tolerance
        ``τ`` in response units; default: the rule of the module docstring.
    """
    if not fit.marginals:
        raise ValueError("the guidelines read the marginal curves: analyse with curves=True")
    sign = 1.0 if direction == MINIMIZE else -1.0
    spread = float(np.sqrt(max(_forest_variance(fit), 0.0)))
    noise_sd = float(np.sqrt(fit.noise.variance)) if fit.noise is not None else 0.0
    if tolerance is None:
        tau = max(noise_sd, REL_TOLERANCE * spread)
        rule = (f"max(noise sd {noise_sd:.4g}, {REL_TOLERANCE:g} × spread {spread:.4g}) "
                f"= {tau:.4g}")
    else:
        tau = float(tolerance)
        rule = f"given: {tau:.4g}"
    if not fit.has_signal:
        # Shares and curves of a forest that predicts nothing are noise: no guideline.
        return GroupGuidelines(dict(fit.group), fit.response, direction, tau, rule,
                               noise_sd, spread, {}, [], [], fit.n_trials, fit.oob_r2,
                               signal_note=fit.signal_note or "no detectable signal")
    shares = _shares(fit)
    rng = np.random.default_rng(RESAMPLE_SEED)
    params = {}
    for name in fit.hyperparameters:
        params[name] = _param_guideline(fit.marginals[name], space[name], shares[name],
                                        sign, tau, rng)
    pairs, budget = [], []
    for a, pa in params.items():
        if pa.verdict != "tune":
            continue
        for b, pb in params.items():
            if b == a or pb.verdict == "ignore" or (a, b) not in fit.pairs:
                continue
            grid = fit.pairs[(a, b)]
            pairs.append(pair_stability(grid, space, pa, sign, tau, rng))
    for b in params:
        if b.lower() not in BUDGET_NAMES or not space[b].is_numeric:
            continue
        for a, pa in params.items():
            if a != b and pa.verdict != "ignore" and (a, b) in fit.pairs:
                budget.append(budget_agreement(fit.pairs[(a, b)], sign))
    return GroupGuidelines(dict(fit.group), fit.response, direction, tau, rule, noise_sd,
                           spread, params, pairs, budget, fit.n_trials, fit.oob_r2)


def _forest_variance(fit: FanovaResult) -> float:
    if fit.estimate is not None:
        return float(fit.estimate.variance)
    ok = fit.valid_trees
    return float(np.mean(fit.tree_variance[ok])) if ok.any() else 0.0


def _shares(fit: FanovaResult) -> dict[str, Share]:
    """Each hyperparameter's main effect plus its pairs, with the interval it rests on."""
    names = fit.hyperparameters
    main, _ = fit.main_fraction()
    pair, _ = fit.pair_fraction()
    m, p = main.to_numpy(), np.nan_to_num(pair.to_numpy())
    value = m + p.sum(axis=1)
    ci = fit.intervals
    if ci is not None:
        plo = np.nan_to_num(ci.pair_lower)
        phi = np.nan_to_num(ci.pair_upper)
        np.fill_diagonal(plo, 0.0)
        np.fill_diagonal(phi, 0.0)
        low = ci.main_lower + plo.sum(axis=1)
        high = ci.main_upper + phi.sum(axis=1)
        kind = f"calibrated {100 * ci.conf_level:g} %"
    else:
        ok = fit.valid_trees
        var = fit.tree_variance[ok]
        if var.size:
            per_tree = (fit.main_variance[ok] + fit.pair_variance[ok].sum(axis=2)) / var[:, None]
            sd = per_tree.std(axis=0)
        else:
            sd = np.full(len(names), np.nan)
        low, high = value - sd, value + sd
        kind = "± 1 sd over trees"
    # A share lies in [0, 1]: summed interval ends are clipped there.
    return {n: Share(float(value[j]), float(max(low[j], 0.0)), float(min(high[j], 1.0)), kind)
            for j, n in enumerate(names)}


def verdict(share: Share) -> str:
    """``tune``, ``fix`` or ``ignore`` for a share (the rule of the module docstring)."""
    if not np.isfinite(share.high) or share.high < IGNORE_SHARE:
        return "ignore" if np.isfinite(share.high) else "fix"
    if share.value >= TUNE_SHARE and share.low >= IGNORE_SHARE:
        return "tune"
    return "fix"


def _param_guideline(marginal: Marginal, hp: Any, share: Share, sign: float, tau: float,
                     rng: np.random.Generator) -> ParamGuideline:
    loss = sign * marginal.mean
    call = verdict(share)
    if marginal.drawn_as_levels:
        best_i = int(np.argmin(loss))
        good = [v for v, x in zip(_py(marginal.values), loss) if x <= loss[best_i] + tau]
        flat = float(loss.max() - loss.min()) <= tau
        best = _py(marginal.values)[best_i]
        frac = _level_share(hp, good)
        return ParamGuideline(marginal.name, marginal.kind, marginal.scale, call, share,
                              best, None, good, None, None, "flat" if flat else "levels",
                              None, None, best, frac)
    u = np.asarray(marginal.grid, dtype=float)
    lo_u, hi_u, best_i = good_interval(u, loss, tau)
    ends = None
    if marginal.per_tree is not None and marginal.per_tree.shape[0] > 1:
        ends = _resampled_ends(u, sign * marginal.per_tree, tau, rng)
    flat = float(loss.max() - loss.min()) <= tau
    touches_low, touches_high = lo_u <= u[0], hi_u >= u[-1]
    better_end = knee_u = None
    if flat:
        shape = "flat"
    elif touches_low and not touches_high:
        shape, better_end, knee_u = "monotone", "lower", hi_u
    elif touches_high and not touches_low:
        shape, better_end, knee_u = "monotone", "higher", lo_u
    else:
        shape = "interior optimum"

    def dec(x: float) -> float:
        return _decode(hp, x)

    region = (dec(lo_u), dec(hi_u))
    low_end = high_end = None
    if ends is not None:
        low_end = (dec(ends[0][0]), dec(ends[0][1]))
        high_end = (dec(ends[1][0]), dec(ends[1][1]))
    return ParamGuideline(
        marginal.name, marginal.kind, marginal.scale, call, share, dec(u[best_i]), region,
        None, low_end, high_end, shape, better_end,
        None if knee_u is None else dec(knee_u), dec(0.5 * (lo_u + hi_u)),
        float(hi_u - lo_u) / float(u[-1] - u[0]))


def good_interval(u: np.ndarray, loss: np.ndarray, tau: float) -> tuple[float, float, int]:
    """The stretch of ``u`` around the best point where ``loss`` is within ``tau`` of it.

    Ends are interpolated linearly between grid points where the curve crosses the
    threshold.

    Returns
    -------
    low, high, best
        The ends (in ``u``'s coordinates) and the index of the best point.
    """
    low, high, best = good_intervals(u, np.asarray(loss, dtype=float)[None, :], tau)
    return float(low[0]), float(high[0]), int(best[0])


def good_intervals(u: np.ndarray, loss: np.ndarray, tau: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`good_interval` of each row of ``loss`` (``(curves, points)``)."""
    n = len(u)
    rows = np.arange(loss.shape[0])
    best = np.argmin(loss, axis=1)
    thr = loss[rows, best] + tau
    idx = np.arange(n)[None, :]
    bad = loss > thr[:, None]
    i = np.where(bad & (idx < best[:, None]), idx, -1).max(axis=1) + 1
    j = np.where(bad & (idx > best[:, None]), idx, n).min(axis=1) - 1
    im, jp = np.maximum(i - 1, 0), np.minimum(j + 1, n - 1)
    low = np.where(i == 0, u[0], _cross(u[im], u[i], loss[rows, im], loss[rows, i], thr))
    high = np.where(j == n - 1, u[-1],
                    _cross(u[j], u[jp], loss[rows, j], loss[rows, jp], thr))
    return low, high, best


def _cross(u0: np.ndarray, u1: np.ndarray, l0: np.ndarray, l1: np.ndarray,
           thr: np.ndarray) -> np.ndarray:
    """Where the line through ``(u0, l0)`` and ``(u1, l1)`` reaches ``thr``."""
    same = l0 == l1
    t = (thr - l0) / np.where(same, 1.0, l1 - l0)
    return np.where(same, 0.5 * (u0 + u1), u0 + t * (u1 - u0))


def _resample(per_tree: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``TREE_RESAMPLES`` forest means of the trees drawn with replacement."""
    t = per_tree.shape[0]
    idx = rng.integers(0, t, size=(TREE_RESAMPLES, t))
    counts = np.bincount((np.arange(TREE_RESAMPLES)[:, None] * t + idx).ravel(),
                         minlength=TREE_RESAMPLES * t).reshape(TREE_RESAMPLES, t)
    with single_threaded_blas():  # the same numbers on every machine, and no thrashing
        flat = (counts / t) @ per_tree.reshape(t, -1)
    return flat.reshape(TREE_RESAMPLES, *per_tree.shape[1:])


def _resampled_ends(u: np.ndarray, per_tree_loss: np.ndarray, tau: float,
                    rng: np.random.Generator) -> tuple[tuple[float, float], tuple[float, float]]:
    low, high, _ = good_intervals(u, _resample(per_tree_loss, rng), tau)
    q = np.quantile(np.column_stack([low, high]), END_QUANTILES, axis=0)
    return (float(q[0, 0]), float(q[1, 0])), (float(q[0, 1]), float(q[1, 1]))


def pair_stability(grid: PairGrid, space: SearchSpace, a_guide: ParamGuideline, sign: float,
                   tau: float, rng: np.random.Generator | None = None) -> PairStability:
    """Where ``grid.names[0]``'s best value lies across ``grid.names[1]`` (module docstring).

    Parameters
    ----------
    grid
        The pair's grid with the tuned hyperparameter first (``pairs[(a, b)]``).
    space
        The search space (encodes and decodes the grid's values).
    a_guide
        The tuned hyperparameter's own guideline (its good region's width).
    sign, tau
        ``+1`` to minimise, ``-1`` to maximise; the tolerance.
    rng
        Draws the tree resamples (default: seeded with :data:`RESAMPLE_SEED`).
    """
    rng = rng if rng is not None else np.random.default_rng(RESAMPLE_SEED)
    a, b = grid.names
    ha, hb = space[a], space[b]
    loss = sign * grid.total_mean
    b_vals = _py(grid.values_b)
    if hb.is_numeric:
        b_vals = [_decode(hb, float(x)) for x in hb.encode(np.asarray(b_vals, dtype=float))]
    if ha.is_discrete or ha.is_constant:
        levels = _py(grid.values_a)
        best_overall = a_guide.best
        k = levels.index(best_overall) if best_overall in levels else int(np.argmin(
            loss.mean(axis=1)))
        optima = [levels[int(i)] for i in np.argmin(loss, axis=0)]
        stable = bool(np.all(loss[k] <= loss.min(axis=0) + tau))
        reading = (f"the best {a} ({levels[k]}) stays within the tolerance of the best in "
                   f"every slice of {b}: choose {a} once" if stable else
                   f"the best {a} changes with {b} (best per slice: "
                   f"{', '.join(map(str, dict.fromkeys(optima)))}): choose them together")
        good = [[levels[i] for i in np.flatnonzero(loss[:, k] <= loss[:, k].min() + tau)]
                for k in range(loss.shape[1])]
        return PairStability(a, b, None, None, "levels", None, stable, b_vals, optima,
                             reading, good)
    u_a = np.asarray(ha.encode(np.asarray(grid.values_a, dtype=float)), dtype=float)
    u_b = (np.asarray(hb.encode(np.asarray(grid.values_b, dtype=float)), dtype=float)
           if hb.is_numeric else None)
    opt_u, shift_of_u = _optimum_shift(u_a, u_b, loss)
    shift_u = float(shift_of_u)
    shifts = None
    if grid.total_per_tree is not None and grid.total_per_tree.shape[0] > 1:
        shifts = _optimum_shift(u_a, u_b, _resample(sign * grid.total_per_tree, rng))[1]
    scale, unit = _unit(ha)
    width = max(a_guide.region_fraction, 1e-12)
    fraction = abs(shift_u) / width
    stable = fraction <= STABLE_FRACTION
    interval: tuple[float, float] | None = None
    if shifts is not None:
        q_low, q_high = np.quantile(shifts, END_QUANTILES)
        interval = (float(scale * q_low), float(scale * q_high))
    optima = [_decode(ha, x) for x in opt_u]
    shift = scale * shift_u
    b_range = (f"{_fmt(b_vals[0])}–{_fmt(b_vals[-1])}" if hb.is_numeric
               else ", ".join(map(str, b_vals)))
    moved = f"{a}'s optimum moves by {_fmt(abs(shift))} {unit} across {b} {b_range}"
    if stable:
        cheap = " (a cheap one, where it sets the cost)" if hb.is_numeric else ""
        reading = (f"{moved}, within its good region: tune {a} with {b} held at any "
                   f"value{cheap} first, then {b}")
    else:
        reading = f"{moved}, more than half its good region: tune {a} and {b} together"
    low, high, _ = good_intervals(u_a, loss.T, tau)
    good_ranges = [(_decode(ha, float(lo)), _decode(ha, float(hi))) for lo, hi in zip(low, high)]
    return PairStability(a, b, float(shift), interval, unit, float(fraction), bool(stable),
                         b_vals, optima, reading, good_ranges)


def _optimum_shift(u_a: np.ndarray, u_b: np.ndarray | None, loss: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Per slice of b, a's best position; and how far it moves across b (encoded units).

    ``loss`` is ``(..., na, nb)``; the leading axes (tree resamples) are kept. Numeric b:
    the weighted least-squares slope times b's encoded range (each slice weighted by the
    range of a's curve in it). Levels: max − min of the optima over the slices where a
    matters at all.
    """
    opt = _refined_argmin(u_a, loss)  # (..., nb)
    w = loss.max(axis=-2) - loss.min(axis=-2)
    total = w.sum(axis=-1)
    safe = np.where(total > 0, total, 1.0)
    if u_b is None:
        hi = np.where(w > 0, opt, -np.inf).max(axis=-1)
        lo = np.where(w > 0, opt, np.inf).min(axis=-1)
        return opt, np.where(total > 0, hi - lo, 0.0)
    mean_b = (w * u_b).sum(axis=-1) / safe
    mean_o = (w * opt).sum(axis=-1) / safe
    x = u_b - mean_b[..., None]
    denom = (w * x * x).sum(axis=-1)
    slope = (w * x * (opt - mean_o[..., None])).sum(axis=-1) / np.where(denom > 0, denom, 1.0)
    return opt, np.where((total > 0) & (denom > 0), slope * float(u_b[-1] - u_b[0]), 0.0)


def _refined_argmin(u: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """The minimum's position along axis -2 of ``loss``, refined by a parabola through
    its neighbours."""
    n = len(u)
    i = np.argmin(loss, axis=-2)  # (..., nb)
    inner = np.clip(i, 1, n - 2) if n >= 3 else i
    take = lambda k: np.take_along_axis(loss, k[..., None, :], axis=-2)[..., 0, :]  # noqa: E731
    pos = u[i]
    if n < 3:
        return pos
    l0, l1, l2 = take(inner - 1), take(inner), take(inner + 1)
    curv = l0 - 2 * l1 + l2
    ok = (i > 0) & (i < n - 1) & (curv > 0)
    step = 0.5 * (u[inner + 1] - u[inner - 1])
    offset = np.clip(0.5 * (l0 - l2) / np.where(curv > 0, curv, 1.0), -0.5, 0.5)
    return np.where(ok, u[inner] + offset * step, pos)


def budget_agreement(grid: PairGrid, sign: float) -> BudgetAgreement:
    """Rank agreement of ``grid.names[0]``'s joint marginal at the lowest and the highest
    value of the budget ``grid.names[1]`` (Spearman)."""
    from scipy.stats import spearmanr

    loss = sign * grid.total_mean
    rho = float(spearmanr(loss[:, 0], loss[:, -1]).statistic)
    b = _py(grid.values_b)
    return BudgetAgreement(grid.names[1], grid.names[0], b[0], b[-1], rho,
                           bool(np.isfinite(rho) and rho >= RANK_AGREEMENT))


def consensus(groups: Sequence[GroupGuidelines]) -> dict[str, Any]:
    """Which guidelines hold on how many groups, per response.

    Returns
    -------
    dict
        ``{"hyperparameters": [{response, hyperparameter, n_groups, tune, fix,
        ignore, no_signal, verdict, holds_on}], "pairs": [{response, a, b, n_groups,
        stable, holds_on}]}``; ``verdict`` is the most frequent one and ``holds_on``
        the number of groups that give it (for pairs: the number where the optimum is
        stable); ``no_signal`` counts the groups without detectable signal, which give
        no verdict (``n_groups`` counts them too).
    """
    params: dict[tuple[str, str], dict[str, int]] = {}
    pairs: dict[tuple[str, str, str], list[bool]] = {}
    n_groups: dict[str, int] = {}
    silent: dict[str, int] = {}
    for g in groups:
        n_groups[g.response] = n_groups.get(g.response, 0) + 1
        silent[g.response] = silent.get(g.response, 0) + (not g.has_signal)
        for name, p in g.hyperparameters.items():
            counts = params.setdefault((g.response, name), dict.fromkeys(VERDICTS, 0))
            counts[p.verdict] += 1
        for s in g.pairs:
            pairs.setdefault((g.response, s.a, s.b), []).append(s.stable)
    rows = []
    for (response, name), counts in params.items():
        top = max(VERDICTS, key=lambda v: counts[v])
        rows.append({"response": response, "hyperparameter": name,
                     "n_groups": n_groups[response], **counts,
                     "no_signal": silent[response], "verdict": top,
                     "holds_on": counts[top]})
    pair_rows = [{"response": r, "a": a, "b": b, "n_groups": n_groups[r],
                  "n_read": len(flags), "stable": int(sum(flags)), "holds_on": int(sum(flags))}
                 for (r, a, b), flags in pairs.items()]
    return {"hyperparameters": rows, "pairs": pair_rows}


# -- small helpers ------------------------------------------------------------------------

def _decode(hp: Any, u: float) -> float:
    """An encoded coordinate in original units (clipped to the bounds; whole for ints)."""
    x = float(np.asarray(hp.decode(np.array([u])), dtype=float)[0])
    x = min(max(x, float(hp.lower)), float(hp.upper))
    return float(round(x)) if hp.kind == "int" else x


def _unit(hp: Any) -> tuple[float, str]:
    """Encoded units to the units a shift is told in: decades on log scales."""
    x0, x1 = (float(v) for v in np.asarray(hp.decode(np.array([0.0, 1.0])), dtype=float))
    if hp.scale == "log":
        return float(np.log10(x1 / x0)), "decades"
    if hp.scale == "one_minus_log":
        return float(np.log10((1 - x0) / (1 - x1))), "decades of 1 − value"
    return x1 - x0, "units"


def _level_share(hp: Any, good: list[Any]) -> float:
    if not hp.is_discrete:
        return 1.0
    w = (np.ones(len(hp.choices)) if hp.weights is None else np.asarray(hp.weights, float))
    keep = [str(c) in {str(g) for g in good} for c in hp.choices]
    return float(w[keep].sum() / w.sum())


def _py(values: Any) -> list[Any]:
    return [v.item() if isinstance(v, np.generic) else v for v in np.asarray(values).tolist()]


def _fmt(x: Any) -> str:
    if isinstance(x, (float, np.floating)):
        return f"{float(x):.3g}"
    return str(x)


def _clean(obj: Any) -> Any:
    from .result import _clean as clean

    return clean(obj)


__all__ = ["BUDGET_NAMES", "END_QUANTILES", "IGNORE_SHARE", "RANK_AGREEMENT",
           "REL_TOLERANCE", "STABLE_FRACTION", "TREE_RESAMPLES", "TUNE_SHARE",
           "BudgetAgreement", "GroupGuidelines", "Guidelines", "PairStability",
           "ParamGuideline", "Share", "budget_agreement", "consensus",
           "good_interval", "group_guidelines", "pair_stability", "study_guidelines",
           "thresholds", "verdict"]
