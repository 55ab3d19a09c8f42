"""The next sweep: the search space narrowed by the guidelines, in three forms.

:func:`next_space` turns the guidelines of one response (over the chosen groups) into
one narrowing per hyperparameter:

* ``tune`` in at least one group: its range becomes the hull of the groups' good
  regions, each end taken at the outer end of its tree-resampled range (the 5 % point of
  the low end, the 95 % point of the high end), so the good region of every group is
  kept; a categorical or ordinal one keeps the levels good in any group. Floats and
  integers get a beta prior peaked at the median of the groups' best values (relative
  to the new range, in the coordinate of its scale) with concentration
  :data:`PRIOR_CONCENTRATION`; levels get weights, the best levels
  :data:`BEST_LEVEL_WEIGHT` times the others;
* tuned together with a partner (its optimum moves with the partner's value, an
  unstable pair of :mod:`~odyssey_analysis.guidelines`): also every value good in a
  slice of the partner that the next sweep keeps (the learning rates good for each kept
  optimizer, not only the ones good on average over all optimizers), repeated until
  neither partner widens any more;
* ``fix`` or ``ignore`` in every group: a constant at a good value, the middle (in the
  sampling measure) of the groups' common good region, else of their hull; for levels,
  the level good in most groups.

A group without detectable signal has no guideline and counts for nothing: when no
group has signal every hyperparameter keeps its range.

Each narrowing records the numbers it rests on (:class:`Narrowing`), and the result is
written as ConfigSpace JSON (:func:`configspace_json`, with the priors), as our YAML
space (:func:`space_yaml`, with the same priors, read back by
:mod:`odyssey_analysis.space.readers` as the measure ConfigSpace draws from) and as an
Optuna distributions snippet (:func:`optuna_snippet`; Optuna's distributions have no
priors).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .guidelines import GroupGuidelines, Guidelines, ParamGuideline
from .space import Hyperparameter, SearchSpace
from .space.priors import Prior

#: alpha + beta of the beta priors (6: mode at the best value, a gentle peak).
PRIOR_CONCENTRATION = 6.0
#: Weight of the best levels of a narrowed categorical, relative to the other good ones.
BEST_LEVEL_WEIGHT = 2.0
#: Most rounds of widening hyperparameters tuned together by each other's kept slices.
MAX_JOINT_ROUNDS = 8


@dataclass(frozen=True)
class Narrowing:
    """What the next sweep does with one hyperparameter, and why.

    Attributes
    ----------
    name
        The hyperparameter.
    action
        ``narrowed`` (range or levels), ``kept`` (nothing to narrow) or ``fixed``.
    hyperparameter
        The new dimension (a constant when fixed), with its prior when it has one.
    prior_mode
        The beta prior's mode relative to the new range (floats and integers), else
        ``None``.
    level_weights
        The levels' weights (narrowed levels), else ``None``.
    because
        The sentence that justifies it, with the numbers.
    evidence
        The numbers themselves: per group, the verdict, good region, its ends' ranges
        and the best value.
    """

    name: str
    action: str
    hyperparameter: Hyperparameter
    prior_mode: float | None
    level_weights: list[float] | None
    because: str
    evidence: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the ``next_space`` entries of ``guidelines.json``)."""
        from .result import _clean

        return _clean({"name": self.name, "action": self.action,
                       "space": self.hyperparameter.to_dict(), "prior_mode": self.prior_mode,
                       "level_weights": self.level_weights, "because": self.because,
                       "evidence": self.evidence})


@dataclass(frozen=True)
class NextSpace:
    """The narrowed space of the next sweep.

    Attributes
    ----------
    response
        The response the narrowing serves.
    groups
        The groups whose guidelines it combines.
    narrowings
        One per hyperparameter, in search-space order.
    """

    response: str
    groups: list[dict[str, Any]]
    narrowings: list[Narrowing]

    @property
    def space(self) -> SearchSpace:
        """The narrowed space as ours, with the priors and weights the next sweep draws
        from (constants fixed)."""
        return SearchSpace(tuple(n.hyperparameter for n in self.narrowings),
                           origin="narrowed by the guidelines")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        from .result import _clean

        return _clean({"response": self.response, "groups": self.groups,
                       "hyperparameters": [n.to_dict() for n in self.narrowings]})


def next_space(guidelines: Guidelines, space: SearchSpace, response: str,
               groups: Sequence[GroupGuidelines] | None = None) -> NextSpace:
    """Narrow ``space`` for ``response`` by the guidelines of ``groups`` (default: all).

    Raises
    ------
    ValueError
        No guidelines for ``response``.
    """
    chosen = [g for g in (groups if groups is not None else guidelines.groups)
              if g.response == response]
    if not chosen:
        raise ValueError(f"no guidelines for response {response!r}")
    silent = sum(not g.has_signal for g in chosen)
    guides = {hp.name: [(g.group, g.hyperparameters[hp.name]) for g in chosen
                        if hp.name in g.hyperparameters] for hp in space}
    current = {hp.name: _narrow(hp, guides[hp.name], silent) for hp in space}
    # Widening one partner can keep more slices of the other: repeat until nothing moves
    # (each round only adds values, so this ends; a few rounds in practice).
    for _ in range(MAX_JOINT_ROUNDS):
        joint = {hp.name: _joint_slices(hp.name, chosen, current, space) for hp in space}
        updated = {hp.name: (_narrow(hp, guides[hp.name], silent, joint[hp.name])
                             if joint[hp.name] else current[hp.name]) for hp in space}
        if all(updated[k].hyperparameter == current[k].hyperparameter for k in current):
            break
        current = updated
    return NextSpace(response, [dict(g.group) for g in chosen],
                     [current[hp.name] for hp in space])


@dataclass(frozen=True)
class JointSlices:
    """A tuned hyperparameter's good values where the next sweep keeps a partner it is
    tuned together with (its optimum moves with that partner).

    Attributes
    ----------
    partner
        The other hyperparameter.
    kept
        The partner's slices the next sweep keeps.
    good
        The tuned one's good values in each kept slice: ``(low, high)`` or levels.
    """

    partner: str
    kept: list[Any]
    good: list[Any]


def _joint_slices(name: str, groups: Sequence[GroupGuidelines],
                  first: dict[str, Narrowing], space: SearchSpace) -> list[JointSlices]:
    """For ``name``: the good values in each slice that the next sweep keeps of every
    partner it must be tuned together with (an unstable pair), over ``groups``.

    Where the partner is narrowed (to levels good for it, say), the marginal good region
    of ``name`` is an average over slices the next sweep will not draw, and can miss the
    optimum of the slices it will (the learning rate good for the average optimizer is
    not the one good for Adam).
    """
    out = []
    for g in groups:
        for pair in g.pairs:
            if pair.a != name or pair.stable or not pair.slice_good:
                continue
            kept = _kept_slices(pair.slice_values, first[pair.b], space[pair.b])
            if kept:
                out.append(JointSlices(pair.b, [pair.slice_values[k] for k in kept],
                                       [pair.slice_good[k] for k in kept]))
    return out


def _kept_slices(values: Sequence[Any], narrowing: Narrowing, hp: Hyperparameter
                 ) -> list[int]:
    """Indices of the slices ``values`` of ``hp`` that its next-sweep dimension keeps."""
    new = narrowing.hyperparameter
    if hp.is_discrete or hp.is_constant:
        kept = {str(c) for c in new.levels}
        return [k for k, v in enumerate(values) if str(v) in kept]
    u = np.asarray(hp.encode(np.asarray(values, dtype=float)), dtype=float)
    if new.is_constant:
        target = float(hp.encode(np.array([float(new.levels[0])]))[0])
        return [int(np.argmin(np.abs(u - target)))]
    lo, hi = (float(x) for x in hp.encode(np.array(new.bounds, dtype=float)))
    inside = [k for k in range(len(u)) if lo - 1e-12 <= u[k] <= hi + 1e-12]
    return inside or [int(np.argmin(np.abs(u - 0.5 * (lo + hi))))]


def _narrow(hp: Hyperparameter, guides: list[tuple[dict, ParamGuideline]],
            silent: int = 0, joint: Sequence[JointSlices] = ()) -> Narrowing:
    """One hyperparameter's narrowing by the guidelines of the groups with signal
    (``silent`` more groups had none and are left out); a tuned one keeps its good
    values in the ``joint`` slices too."""
    if guides and silent:
        n = _narrow(hp, guides, 0, joint)
        return Narrowing(n.name, n.action, n.hyperparameter, n.prior_mode, n.level_weights,
                         f"{n.because} ({silent} group(s) without detectable signal left "
                         "out)", n.evidence)
    evidence = [{"group": group, "verdict": p.verdict, "share": p.share.value,
                 "share_interval": [p.share.low, p.share.high],
                 "good_region": (list(p.good_region) if p.good_region is not None
                                 else p.good_levels),
                 "good_region_low_end": None if p.low_end is None else list(p.low_end),
                 "good_region_high_end": None if p.high_end is None else list(p.high_end),
                 "best": p.best} for group, p in guides]
    where = _where(len(guides))
    if hp.is_constant:
        return Narrowing(hp.name, "kept", hp, None, None, "constant already", evidence)
    if not guides:
        why = ("no group has detectable signal: no guideline, the range is kept" if silent
               else "no guideline reads it: the range is kept")
        return Narrowing(hp.name, "kept", hp, None, None, why, evidence)
    tuned = [p for _, p in guides if p.verdict == "tune"]
    if not tuned:
        value, how = _fixed_value(hp, [p for _, p in guides])
        top = max(p.share.high for _, p in guides)
        calls = sorted({p.verdict for _, p in guides})
        return Narrowing(hp.name, "fixed",
                         Hyperparameter(hp.name, "constant", choices=(value,), default=value),
                         None, None,
                         f"{' or '.join(calls)} {where} (largest upper end of its share "
                         f"{100 * top:.1f} %; none reached the tune threshold): fixed at "
                         f"{value!r}, {how}", evidence)
    together = _together(hp, joint)
    if hp.is_discrete:
        joint_good = {str(v) for j in joint for levels in j.good for v in levels}
        good = [c for c in hp.levels if str(c) in joint_good or any(
            str(c) in {str(v) for v in (p.good_levels or [])} for p in tuned)]
        best = {str(p.best) for p in tuned}
        weights = [BEST_LEVEL_WEIGHT if str(c) in best else 1.0 for c in good]
        new = Hyperparameter(hp.name, hp.kind, choices=tuple(good),
                             weights=tuple(weights) if len(set(weights)) > 1 else None)
        action = "narrowed" if len(good) < len(hp.levels) else "kept"
        return Narrowing(hp.name, action, new, None, weights,
                         f"tuned in {len(tuned)} of {len(guides)} group(s); levels good in "
                         f"any of them{together}: {', '.join(map(str, good))} (best: "
                         f"{', '.join(sorted(best))})", evidence)
    assert hp.lower is not None and hp.upper is not None  # a range: checked on creation
    lows = [p.low_end[0] if p.low_end is not None else _region(p)[0] for p in tuned]
    highs = [p.high_end[1] if p.high_end is not None else _region(p)[1] for p in tuned]
    lows += [lo for j in joint for lo, _ in j.good]
    highs += [hi for j in joint for _, hi in j.good]
    lo = max(_round_out(min(lows), down=True), hp.lower)
    hi = min(_round_out(max(highs), down=False), hp.upper)
    if hp.kind == "int":
        lo, hi = float(np.floor(lo)), float(np.ceil(hi))
    if hi <= lo:
        hi = min(lo + (1.0 if hp.kind == "int" else (hp.upper - hp.lower) * 1e-3), hp.upper)
        lo = hi - (1.0 if hp.kind == "int" else (hp.upper - hp.lower) * 1e-3)
    uniform = Hyperparameter(hp.name, hp.kind, lo, hi, hp.scale)
    best_value = float(np.median([p.best for p in tuned]))
    mode = prior_position(uniform, best_value)
    alpha, beta = beta_parameters(mode)
    # The prior is on the coordinate ConfigSpace puts it on (see prior_position).
    new = Hyperparameter(hp.name, hp.kind, lo, hi,
                         "log" if hp.scale == "log" else "linear",
                         prior=Prior("beta", alpha=alpha, beta=beta))
    action = "narrowed" if (lo > hp.lower or hi < hp.upper) else "kept"
    because = (f"tuned in {len(tuned)} of {len(guides)} group(s); range = hull of their good "
               f"regions at the outer 5–95 % ends{together}: [{lo:.4g}, {hi:.4g}] of "
               f"[{hp.lower:.4g}, {hp.upper:.4g}]; prior peaked at the median best "
               f"{best_value:.4g}")
    return Narrowing(hp.name, action, new, mode, None, because, evidence)


def _together(hp: Hyperparameter, joint: Sequence[JointSlices]) -> str:
    """The clause naming the partners whose kept slices widened ``hp``'s good values."""
    if not joint:
        return ""
    partners: dict[str, list[Any]] = {}
    for j in joint:
        shown = partners.setdefault(j.partner, [])
        shown += [v for v in j.kept if v not in shown]

    def values(kept: list[Any]) -> str:
        if all(isinstance(v, float) for v in kept) and len(kept) > 2:
            return f"{min(kept):.4g}–{max(kept):.4g}"
        return ", ".join(_slice_text(v) for v in kept)

    listed = "; ".join(f"{b} {values(v)}" for b, v in partners.items())
    return (f" and its good values at the kept values of the hyperparameters it is tuned "
            f"together with ({listed})")


def _slice_text(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def prior_position(hp: Hyperparameter, value: float) -> float:
    """Where ``value`` lies in ``hp``'s range, in the coordinate ConfigSpace puts a beta
    prior on: log values on a log scale, else the values themselves (ConfigSpace has no
    1 − log-uniform)."""
    lo, hi = hp.bounds
    if hp.scale == "log":
        pos = np.log(value / lo) / np.log(hi / lo)
    else:
        pos = (value - lo) / (hi - lo)
    return float(np.clip(pos, 0.0, 1.0))


def _round_out(x: float, *, down: bool) -> float:
    """``x`` to 4 significant digits, rounded outwards (down for a lower end)."""
    if x == 0 or not np.isfinite(x):
        return float(x)
    step = 10.0 ** (np.floor(np.log10(abs(x))) - 3)
    return float(f"{(np.floor if down else np.ceil)(x / step) * step:.4g}")


def _fixed_value(hp: Hyperparameter, guides: list[ParamGuideline]) -> tuple[Any, str]:
    """A good value for every group, and how it was chosen."""
    if hp.is_discrete:
        counts = {str(c): sum(str(c) in {str(v) for v in (p.good_levels or [])}
                              for p in guides) for c in hp.levels}
        bests = {str(c): sum(str(p.best) == str(c) for p in guides) for c in hp.levels}
        level = max(hp.levels, key=lambda c: (counts[str(c)], bests[str(c)]))
        return level, f"a good level in {counts[str(level)]} of {len(guides)} group(s)"
    assert hp.lower is not None and hp.upper is not None  # a range: checked on creation
    regions = [hp.encode(np.array(_region(p), dtype=float)) for p in guides]
    lo, hi = max(r[0] for r in regions), min(r[1] for r in regions)
    how = "the middle (in the sampling measure) of the good region all groups share"
    if hi < lo:
        lo, hi = min(r[0] for r in regions), max(r[1] for r in regions)
        how = ("the middle (in the sampling measure) of the hull of the groups' good "
               "regions, which have no part in common")
    value = float(hp.decode(np.array([0.5 * (lo + hi)]))[0])
    value = min(max(value, hp.lower), hp.upper)
    return (int(round(value)) if hp.kind == "int" else float(f"{value:.4g}")), how


def _region(p: ParamGuideline) -> tuple[float, float]:
    """The good region of a numeric hyperparameter's guideline (always present)."""
    assert p.good_region is not None, f"{p.name} has no good region"
    return p.good_region


def _where(n: int) -> str:
    return "in the one group" if n == 1 else f"in all {n} groups"


# -- the three forms ------------------------------------------------------------------------

def configspace(nxt: NextSpace, seed: int | None = None) -> Any:
    """The narrowed space as a ``ConfigSpace.ConfigurationSpace`` with priors."""
    import ConfigSpace as CS

    cs = CS.ConfigurationSpace(seed=seed)
    for n in nxt.narrowings:
        hp = n.hyperparameter
        if hp.kind == "constant":
            cs.add(CS.Constant(hp.name, _cs_value(hp.levels[0])))
        elif hp.is_discrete:
            levels = [_cs_value(c) for c in hp.levels]
            if hp.kind == "ordinal":
                cs.add(CS.OrdinalHyperparameter(hp.name, levels))
            else:
                cs.add(CS.CategoricalHyperparameter(hp.name, levels,
                                                    weights=n.level_weights))
        else:
            assert hp.lower is not None and hp.upper is not None  # a range
            log = hp.scale == "log"
            if hp.prior is None:
                cls = (CS.UniformIntegerHyperparameter if hp.kind == "int"
                       else CS.UniformFloatHyperparameter)
                cs.add(cls(hp.name, hp.lower, hp.upper, log=log))
                continue
            alpha, beta = hp.prior.alpha, hp.prior.beta
            assert alpha is not None and beta is not None  # a beta prior (written by _narrow)
            if hp.kind == "int":
                cs.add(CS.BetaIntegerHyperparameter(hp.name, alpha, beta, int(hp.lower),
                                                    int(hp.upper), log=log))
            else:
                cs.add(CS.BetaFloatHyperparameter(hp.name, alpha, beta, hp.lower,
                                                  hp.upper, log=log))
    return cs


def beta_parameters(mode: float) -> tuple[float, float]:
    """``(alpha, beta)`` of the beta prior with ``mode`` in [0, 1] and concentration
    :data:`PRIOR_CONCENTRATION`."""
    m = float(np.clip(mode, 0.0, 1.0))
    k = PRIOR_CONCENTRATION - 2.0
    return round(1.0 + m * k, 4), round(1.0 + (1.0 - m) * k, 4)


def configspace_json(nxt: NextSpace) -> str:
    """The ConfigSpace JSON text of the narrowed space (with priors).

    A hyperparameter sampled ``1 − log-uniform`` (the paper's momentum) has no
    ConfigSpace counterpart: its prior is a beta on its own (linear) values.
    """
    buf = io.StringIO()
    configspace(nxt).to_json(buf, indent=2)
    return buf.getvalue().rstrip("\n") + "\n"


def space_yaml(nxt: NextSpace) -> str:
    """Our YAML space of the narrowed space (the priors and weights of
    :func:`configspace_json`)."""
    import yaml

    body: dict[str, Any] = {}
    for n in nxt.narrowings:
        hp = n.hyperparameter
        entry = {k: v for k, v in hp.to_dict().items() if k != "measure"}
        body[hp.name] = entry
    head = ("# The next sweep's space, narrowed by the guidelines for "
            f"{_comment(nxt.response)} (see guidelines.json for why).\n")
    return head + yaml.safe_dump({"hyperparameters": body}, sort_keys=False)


def optuna_snippet(nxt: NextSpace) -> str:
    """Python text: the narrowed space as Optuna distributions (no priors in Optuna)."""
    lines = ["# The next sweep's space for Optuna, narrowed by the guidelines for "
             f"{_comment(nxt.response)}.",
             "# Optuna's distributions have no priors: ranges only; fixed ones are one-level",
             "# categoricals. A 1 - log-uniform hyperparameter is written on its own scale.",
             "from optuna.distributions import (CategoricalDistribution, "
             "FloatDistribution,", "                                  IntDistribution)",
             "", "DISTRIBUTIONS = {"]
    for n in nxt.narrowings:
        hp = n.hyperparameter
        if hp.kind == "constant":
            dist = f"CategoricalDistribution([{hp.levels[0]!r}])"
        elif hp.is_discrete:
            dist = f"CategoricalDistribution({list(hp.levels)!r})"
        elif hp.lower is None or hp.upper is None:
            raise TypeError(f"{hp.name} is {hp.kind}: it has no range")
        elif hp.kind == "int":
            dist = (f"IntDistribution({int(hp.lower)}, {int(hp.upper)}, "
                    f"log={hp.scale == 'log'})")
        else:
            dist = (f"FloatDistribution({hp.lower!r}, {hp.upper!r}, "
                    f"log={hp.scale == 'log'})")
        lines.append(f"    {hp.name!r}: {dist},")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _comment(text: str) -> str:
    return " ".join(str(text).split())


def _cs_value(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
