"""Optuna integration: an importance evaluator backed by the exact decomposition.

:class:`FanovaImportanceEvaluator` takes the place of Optuna's evaluator of the same
name in Optuna's own functions::

    import optuna
    from odyssey_analysis.integrations.optuna import FanovaImportanceEvaluator

    evaluator = FanovaImportanceEvaluator(seed=0)
    optuna.importance.get_param_importances(study, evaluator=evaluator)
    optuna.visualization.plot_param_importances(study, evaluator=evaluator)

It keeps the contract of Optuna's evaluators (which trials and parameters count, the
errors, the order of the result) and differs where the numbers come from:

* each parameter is integrated under the distribution it was sampled from (a
  ``log=True`` parameter uniformly in log units, a stepped one over its grid values),
  where Optuna's fANOVA integrates the raw values uniformly;
* the forest's decomposition is exact (no grid walk), and much faster;
* an importance is the main effect's share of the surrogate's variance (by default
  the package's default estimator, ``blend-corrected``), not rescaled: the shares sum
  to at most one, the rest being interactions.
  ``get_param_importances`` normalises them to sum to one unless ``normalize=False``.

:func:`load_study` (from :mod:`odyssey_analysis.loaders.optuna`, exported here too)
reads a study into a :class:`~odyssey_analysis.trials.TrialTable` for the full analysis
(pairs, marginal curves, figures) with :func:`odyssey_analysis.analyze`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError, MissingExtraError
from ..estimators import DEFAULT_ESTIMATOR
from ..loaders.optuna import load_study
from ..methods import FanovaMethod
from ..methods.fanova import ESTIMATORS, NEEDS_FOREST_MEAN
from ..quality import low_oob_r2
from ..result import FanovaResult
from ..study import MIN_TRIALS
from ..surrogate import SURROGATES, ForestSettings, make_surrogate

try:
    import optuna
    from optuna.importance import BaseImportanceEvaluator
except ImportError:  # the class needs Optuna's base class at import
    raise MissingExtraError("optuna", "optuna", "The Optuna importance evaluator") from None

__all__ = ["FanovaImportanceEvaluator", "ImportanceWarning", "load_study"]

_COMPLETE = optuna.trial.TrialState.COMPLETE


class ImportanceWarning(UserWarning):
    """The importances rest on little: few trials, a poor surrogate, or no variation."""


@dataclass
class _Selection:
    """What one evaluation works on, chosen as Optuna's evaluators choose it."""

    names: list[str]  # the parameters reported, in Optuna's order
    distributions: dict[str, Any]  # their distributions, sorted by name
    trials: list[Any]  # the completed trials to fit, each with a finite target
    values: list[float]  # the target of each

    @property
    def varying(self) -> list[str]:
        return [n for n, d in self.distributions.items() if not d.single()]

    @property
    def single(self) -> list[str]:
        return [n for n, d in self.distributions.items() if d.single()]


class FanovaImportanceEvaluator(BaseImportanceEvaluator):
    """fANOVA importances from a random-forest surrogate, decomposed exactly.

    A drop-in replacement for ``optuna.importance.FanovaImportanceEvaluator``: the same
    constructor and the same contract. Only COMPLETE trials with a finite target count;
    with ``params=None`` the parameters are those every completed trial has (the
    intersection search space); a parameter whose distribution changes between trials
    is refused with ``ValueError`` when asked for (and left out, with a warning, when
    not); multi-objective studies need a ``target``. A parameter with a single possible
    value gets 0.0, and so does every parameter of a study with at most one usable trial.

    Each parameter is integrated under the distribution it was sampled from (log-uniform
    for ``log=True``, equally likely grid values for a ``step``, equally likely choices),
    and an importance is that parameter's main-effect share of the forest's variance
    (estimated as ``estimator`` says), not rescaled. The forest is by default the
    package's compiled one (``surrogate="sklearn"``: scikit-learn's).

    Parameters
    ----------
    n_trees
        Trees in the forest.
    max_depth
        Maximum depth of each tree (``None``: grown until the leaves are pure).
    seed
        The forest's random state: the same seed gives bit-identical importances. With
        ``None`` a seed is drawn once, when the evaluator is created (see :attr:`seed`),
        so one evaluator gives the same result for the same trials.
    conditional
        Assess parameters that only some trials have (conditional parameters), as
        Optuna's shared evaluator tests expect of an evaluator: ``params=None`` takes
        every parameter of the completed trials, each asked-for parameter needs only to
        appear in some completed trial, and every completed trial is used, a trial
        without a parameter counting at that parameter's default (the middle of its
        range, in its own scale, or its first choice or grid value). On by default;
        ``conditional=False`` assesses only the parameters every completed trial has
        (the intersection search space of Optuna's own fANOVA).
    estimator
        How the shares are estimated from the forest, as in
        :class:`~odyssey_analysis.methods.FanovaMethod`: ``"blend-corrected"``
        (default, the package's default), ``"blend"``, ``"forest-mean"`` (the shares of
        the forest's mean function), ``"per-tree-corrected"``, or ``"per-tree"`` (the
        mean of each tree's own shares, the number Optuna's fANOVA computes); see
        ``docs/accuracy.md``.
    surrogate
        The forest: ``None`` (default) the package's default surrogate
        (:func:`~odyssey_analysis.surrogate.make_surrogate`: the compiled forest where
        Numba is available, else scikit-learn's), ``"compiled"`` or ``"sklearn"``
        (scikit-learn's ``RandomForestRegressor``).
    """

    def __init__(self, *, n_trees: int = 64, max_depth: int | None = 64,
                 seed: int | None = None, conditional: bool = True,
                 estimator: str = DEFAULT_ESTIMATOR, surrogate: str | None = None) -> None:
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        elif not _is_int(seed) or not 0 <= seed < 2 ** 32:
            raise ValueError(f"seed must be None or an integer in [0, 2**32), got {seed!r}")
        if not _is_int(n_trees) or n_trees < 1:
            raise ValueError(f"n_trees must be an integer of at least 1, got {n_trees!r}")
        if max_depth is not None and (not _is_int(max_depth) or max_depth < 1):
            raise ValueError(f"max_depth must be None or an integer of at least 1, "
                             f"got {max_depth!r}")
        self._settings = ForestSettings(n_trees=int(n_trees),
                                        max_depth=None if max_depth is None else int(max_depth),
                                        seed=int(seed))
        self._conditional = bool(conditional)
        if estimator not in ESTIMATORS:
            raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}, "
                             f"got {estimator!r}")
        self._estimator = estimator
        if surrogate is not None and surrogate not in SURROGATES:
            raise ValueError(f"surrogate must be None or one of {', '.join(SURROGATES)}, "
                             f"got {surrogate!r}")
        self._surrogate = surrogate

    @property
    def seed(self) -> int:
        """The forest's random state (drawn at creation when ``seed=None`` was given)."""
        return self._settings.seed

    @property
    def settings(self) -> ForestSettings:
        """The settings of the surrogate forest."""
        return self._settings

    def __repr__(self) -> str:
        s = self._settings
        return (f"{type(self).__name__}(n_trees={s.n_trees}, max_depth={s.max_depth}, "
                f"seed={s.seed}, conditional={self._conditional}, "
                f"estimator={self._estimator!r}, surrogate={self._surrogate!r})")

    # -- Optuna's contract -------------------------------------------------------------
    def evaluate(
        self,
        study: optuna.Study,
        params: list[str] | None = None,
        *,
        target: Callable[[optuna.trial.FrozenTrial], float] | None = None,
    ) -> dict[str, float]:
        """Main-effect importance of each parameter, largest first.

        Parameters
        ----------
        study
            An optimised study.
        params
            The parameters to assess; default: every parameter of the completed trials
            (only those every completed trial has with ``conditional=False``).
        target
            The value to explain, from a ``FrozenTrial``; default: the objective value.
            Required for multi-objective studies, e.g. ``lambda t: t.values[0]``.

        Returns
        -------
        dict[str, float]
            ``{parameter: share of the variance}``, ordered as Optuna orders it (by
            importance, largest first).

        Raises
        ------
        ValueError
            A multi-objective study without ``target``; an asked-for parameter that no
            (suitable) completed trial has, or whose distribution changes between trials.
        TypeError
            ``params`` that is not a list of names.
        """
        sel = self._select(study, params, target)
        varying, single = sel.varying, sel.single
        if not varying:
            return dict.fromkeys(single, 0.0)
        if len(sel.trials) <= 1:
            return dict.fromkeys(sel.names, 0.0)
        result = self._decompose(study, sel, pairs=False)
        main = (result.main_fraction().mean.to_numpy() if result.n_trees
                else np.zeros(len(varying)))
        importances = {name: float(v) for name, v in zip(varying, main)}
        importances.update(dict.fromkeys(single, 0.0))
        return _by_importance(importances)

    # -- extras --------------------------------------------------------------------------
    def evaluate_pairs(
        self,
        study: optuna.Study,
        params: list[str] | None = None,
        *,
        target: Callable[[optuna.trial.FrozenTrial], float] | None = None,
    ) -> dict[tuple[str, str], float]:
        """Pure pairwise interaction importance of each pair of parameters, largest first.

        The share of the forest's variance in each pair's joint effect beyond its two
        main effects (by the evaluator's estimator), for the parameters :meth:`evaluate`
        assesses with the same arguments, from the same forest (the same seed gives the
        same trees).
        Together with :meth:`evaluate`'s shares it sums to at most one; the rest is
        interactions of three or more parameters.

        Parameters
        ----------
        study, params, target
            As for :meth:`evaluate`.

        Returns
        -------
        dict[tuple[str, str], float]
            ``{(a, b): share}`` with ``a`` before ``b`` by name, largest first.
        """
        sel = self._select(study, params, target)
        names = list(sel.distributions)
        pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
        varying = sel.varying
        if len(varying) < 2 or len(sel.trials) <= 1:
            return dict.fromkeys(pairs, 0.0)
        result = self._decompose(study, sel, pairs=True)
        pair = result.pair_fraction().mean if result.n_trees else None
        out = {}
        for a, b in pairs:
            if pair is None or a not in varying or b not in varying:
                out[(a, b)] = 0.0
            else:
                out[(a, b)] = float(pair.loc[a, b])
        return _by_importance(out)

    def evaluate_intervals(
        self,
        study: optuna.Study,
        params: list[str] | None = None,
        *,
        target: Callable[[optuna.trial.FrozenTrial], float] | None = None,
        n_bootstrap: int = 100,
        conf_level: float = 0.9,
    ) -> dict[str, tuple[float, float, float]]:
        """Each parameter's importance with its calibrated interval, largest first.

        The share by the evaluator's estimator (``blend-corrected``, ``blend`` or
        ``forest-mean``, which compute the forest-mean shares the intervals are
        calibrated on), and the
        interval of ``docs/accuracy.md`` from
        ``n_bootstrap`` replicates (the forest grown with ``min_samples_leaf=2``, as the
        intervals were calibrated, so the share can differ slightly from
        :meth:`evaluate`'s). Costs about ``2 · n_bootstrap`` refits of 16 trees.

        Parameters
        ----------
        study, params, target
            As for :meth:`evaluate`.
        n_bootstrap, conf_level
            Replicates (at least 10) and nominal coverage.

        Returns
        -------
        dict[str, tuple[float, float, float]]
            ``{parameter: (share, lower, upper)}``; a parameter with one value, or a study
            with at most one usable trial, gets ``(0.0, 0.0, 0.0)``.
        """
        sel = self._select(study, params, target)
        varying = sel.varying
        zero = (0.0, 0.0, 0.0)
        if not varying or len(sel.trials) <= 1:
            return dict.fromkeys(sel.names if varying else sel.single, zero)
        result = self._decompose(study, sel, pairs=True, n_bootstrap=n_bootstrap,
                                 conf_level=conf_level)
        ci = result.intervals
        out: dict[str, tuple[float, float, float]] = dict.fromkeys(sel.single, zero)
        main = result.main_fraction().mean
        for j, name in enumerate(varying):
            if ci is None:  # the target does not vary: nothing to share out
                out[name] = zero
            else:
                out[name] = (float(main[name]), float(ci.main_lower[j]),
                             float(ci.main_upper[j]))
        return dict(sorted(out.items(), key=lambda kv: -kv[1][0]))

    # -- internals -----------------------------------------------------------------------
    def _select(self, study: optuna.Study, params: list[str] | None,
                target: Callable[[Any], float] | None) -> _Selection:
        if target is None and len(study.directions) > 1:
            raise ValueError(
                "a multi-objective study needs a target: pass e.g. "
                "target=lambda t: t.values[0] for the first objective")
        completed = study.get_trials(deepcopy=False, states=(_COMPLETE,))
        distributions = _search_space(completed, params, conditional=self._conditional)
        names = list(distributions) if params is None else list(dict.fromkeys(params))
        required = () if self._conditional else list(distributions)
        trials, values = [], []
        for trial in completed:
            if not all(p in trial.params for p in required):
                continue
            raw = target(trial) if target is not None else trial.value
            value = float("nan") if raw is None else float(raw)
            if math.isfinite(value):
                trials.append(trial)
                values.append(value)
        return _Selection(names, distributions, trials, values)

    def _decompose(self, study: optuna.Study, sel: _Selection, *, pairs: bool,
                   n_bootstrap: int = 0, conf_level: float = 0.9) -> FanovaResult:
        n = len(sel.trials)
        if n < MIN_TRIALS:
            warnings.warn(f"{n} usable trials, fewer than the {MIN_TRIALS} a forest needs to "
                          "say much: the importances are fitted anyway but are uncertain",
                          ImportanceWarning, stacklevel=3)
        varying = sel.varying
        response = "target"
        while response in varying:
            response = "_" + response
        by_number = dict(zip((t.number for t in sel.trials), sel.values))
        table = load_study(study, target=lambda t: by_number[t.number], target_name=response,
                           params=varying, trials=sel.trials)
        space = table.resolve_space().subset(varying)
        x = space.encode(table.frame)
        y = table.frame[response].to_numpy(dtype=float)
        settings = self._settings  # its leaf size is the method's choice (2 with a bootstrap)
        if n_bootstrap and self._estimator not in NEEDS_FOREST_MEAN:
            raise ValueError("intervals are calibrated on the forest-mean shares: use the "
                             "blend or forest-mean estimator")
        try:
            method = FanovaMethod(make_surrogate(self._surrogate, settings), pairs=pairs,
                                  curves=False,
                                  estimator=self._estimator, n_bootstrap=n_bootstrap,
                                  conf_level=conf_level)
        except InputError as exc:
            raise ValueError(str(exc)) from None
        result = method.fit(x, y, space, response=response)
        if result.n_trees == 0:
            warnings.warn("the target does not vary over the trials: every importance is 0",
                          ImportanceWarning, stacklevel=3)
        elif result.signal_note is not None:
            warnings.warn(f"{result.signal_note}: the importances divide noise among the "
                          "parameters", ImportanceWarning, stacklevel=3)
        elif n >= MIN_TRIALS and low_oob_r2(result.oob_r2):
            warnings.warn(f"out-of-bag R² is {result.oob_r2:.2f}: the forest predicts unseen "
                          "trials poorly, so its importances are uncertain",
                          ImportanceWarning, stacklevel=3)
        return result


def _search_space(completed: Sequence[Any], params: Sequence[str] | None, *,
                  conditional: bool) -> dict[str, Any]:
    """The distributions to assess, sorted by name, chosen as Optuna's evaluators do.

    ``params=None``: the parameters every completed trial has (any completed trial with
    ``conditional``), leaving out those whose distribution changes between trials.
    Asked-for parameters must be in some completed trial (with all of them, unless
    ``conditional``), with one distribution throughout.
    """
    if params is not None:
        if not isinstance(params, (list, tuple)):
            raise TypeError(f"Parameters must be specified as a list. Actual parameters: "
                            f"{params}.")
        if any(not isinstance(p, str) for p in params):
            raise TypeError("Parameters must be specified by their names with strings. "
                            f"Actual parameters: {params}.")
    if params is None:
        if not completed:
            return {}
        present = [set(t.distributions) for t in completed]
        names = set.union(*present) if conditional else set.intersection(*present)
        out, dynamic = {}, []
        for name in sorted(names):
            dists = [t.distributions[name] for t in completed if name in t.distributions]
            if any(d != dists[0] for d in dists[1:]):
                dynamic.append(name)
            else:
                out[name] = dists[0]
        if dynamic:
            warnings.warn(f"left out {', '.join(dynamic)}: the distribution changes between "
                          "trials (a dynamic search space)", ImportanceWarning, stacklevel=4)
        return out
    wanted = list(dict.fromkeys(params))
    if not wanted:
        return {}
    if conditional:
        missing = [p for p in wanted if not any(p in t.distributions for t in completed)]
        if missing:
            raise ValueError("Study must contain at least one completed trial for each "
                             f"specified parameter. Missing parameters: {missing}.")
        pools = {p: [t for t in completed if p in t.distributions] for p in wanted}
    else:
        having = [t for t in completed if all(p in t.distributions for p in wanted)]
        if not having:
            raise ValueError("Study must contain completed trials with all specified "
                             f"parameters. Specified parameters: {wanted}.")
        pools = dict.fromkeys(wanted, having)
    out = {}
    for name in sorted(wanted):
        dists = [t.distributions[name] for t in pools[name]]
        if any(d != dists[0] for d in dists[1:]):
            raise ValueError(f"the distribution of {name!r} changes between trials: "
                             "importances cannot be assessed with a dynamic search space")
        out[name] = dists[0]
    return out


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _by_importance(importances: dict[Any, float]) -> dict[Any, float]:
    """Largest first, ties in reverse insertion order: the order Optuna's evaluators give."""
    return dict(reversed(sorted(importances.items(), key=lambda item: item[1])))
