"""Surrogates: models fitted to the trials whose trees the decomposition reads.

A surrogate is anything that follows :class:`Surrogate`: it is fitted on the encoded
design matrix and hands back its trees as leaf boxes
(:class:`~odyssey_analysis.fanova.LeafBoxes`) and an out-of-bag score. Two are built in
(:data:`SURROGATES`, :func:`make_surrogate`): the compiled forest
(:class:`~odyssey_analysis.forest.CompiledForestSurrogate`, the default) and
:class:`RandomForestSurrogate`, scikit-learn's ``RandomForestRegressor``. This is the
only module that touches scikit-learn's internals (``estimators_``, ``tree_`` and the
bootstrap helper), and it imports scikit-learn only when that forest is fitted.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from ._threads import current_fit_threads
from .errors import InputError
from .params import Constraint, Interval, OneOf, validate

Integral, Real = numbers.Integral, numbers.Real

if TYPE_CHECKING:
    from .fanova import LeafBoxes

#: The built-in surrogates by name (``--surrogate``); the first is the default.
SURROGATES = ("compiled", "sklearn")


@dataclass(frozen=True)
class ForestSettings:
    """Settings of the surrogate forest (scikit-learn names), checked on creation.

    Attributes
    ----------
    n_trees
        Number of trees (``n_estimators``), at least 1.
    max_depth
        Maximum depth (at least 1); ``None`` grows trees fully.
    min_samples_split
        Fewest trials a node needs to be split (at least 2).
    min_samples_leaf
        Fewest trials per leaf (at least 1). ``None`` (default) leaves the choice to the
        method: :class:`~odyssey_analysis.methods.FanovaMethod` takes 2 with a bootstrap
        (the setting its intervals were calibrated with), else 1; a surrogate fitted on
        its own takes 1.
    max_features
        Features considered per split: a fraction in (0, 1], a whole number of at
        least 1, ``"sqrt"`` or ``"log2"``.
    bootstrap
        Whether each tree sees a bootstrap sample (needed for out-of-bag R²).
    seed
        ``random_state`` (0 to 2³² − 1): the same seed gives the same forest, bit for
        bit.

    Raises
    ------
    ~odyssey_analysis.params.ParameterError
        For any setting outside its range (an :class:`~odyssey_analysis.errors.InputError`:
        the command line exits with status 2).
    """

    n_trees: int = 64
    max_depth: int | None = None
    min_samples_split: int = 2
    min_samples_leaf: int | None = None
    max_features: float | int | str = 1.0
    bootstrap: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        validate(self, FOREST_CONSTRAINTS)

    def to_dict(self) -> dict:
        """JSON-ready settings."""
        return asdict(self)

    def with_leaf(self, min_samples_leaf: int) -> ForestSettings:
        """These settings, with ``min_samples_leaf`` where it was left to the method."""
        if self.min_samples_leaf is not None:
            return self
        return replace(self, min_samples_leaf=min_samples_leaf)


#: What each forest setting accepts (see :mod:`odyssey_analysis.params`).
FOREST_CONSTRAINTS: dict[str, list[Constraint]] = {
    "n_trees": [Interval(Integral, 1, None)],
    "max_depth": [Interval(Integral, 1, None), None],
    "min_samples_split": [Interval(Integral, 2, None)],
    "min_samples_leaf": [Interval(Integral, 1, None), None],
    "max_features": [Interval(Integral, 1, None), Interval(Real, 0, 1, closed="right"),
                     OneOf(("sqrt", "log2"))],
    "bootstrap": [OneOf((True, False))],
    "seed": [Interval(Integral, 0, 2 ** 32 - 1)],
}


@dataclass(frozen=True)
class FittedSurrogate:
    """What the decomposition needs from a fitted surrogate.

    Attributes
    ----------
    trees
        Each tree as leaf boxes over the unit cube (raw leaf values, no cutoffs).
    oob_r2
        Out-of-bag R² (NaN where the surrogate has no out-of-bag predictions).
    settings
        JSON-ready settings of the surrogate (recorded in ``analysis.json``).
    evaluated
        The forest's mean prediction (each tree's leaf values clipped first, as the
        boxes are) at the points ``fit`` was asked to evaluate, or ``None``.
    """

    trees: list[LeafBoxes]
    oob_r2: float
    settings: dict[str, Any]
    evaluated: np.ndarray | None = None


@runtime_checkable
class Surrogate(Protocol):
    """A model made of axis-aligned trees, fitted on encoded inputs.

    Any class with these methods plugs into :class:`~odyssey_analysis.methods.FanovaMethod`;
    :func:`odyssey_analysis.testing.check_surrogate` checks one against the contract.
    """

    def fit(self, x: np.ndarray, y: np.ndarray, *, evaluate_at: np.ndarray | None = None,
            clip: tuple[float, float] | None = None) -> FittedSurrogate:
        """Fit on ``(n, d)`` inputs in [0, 1] and ``(n,)`` finite responses.

        With ``evaluate_at`` (``(m, d)`` points), also return the mean over trees of
        the predictions there, each tree's values clipped into ``clip`` first.
        """
        ...

    def replicate(self, *, n_trees: int, seed: int) -> Surrogate:
        """The same kind of surrogate with ``n_trees`` trees and another seed (for the
        bootstrap's refits)."""
        ...


class RandomForestSurrogate:
    """scikit-learn's ``RandomForestRegressor`` as a surrogate.

    Parameters
    ----------
    settings
        Forest settings (default: 64 fully grown trees, seed 0).
    n_jobs
        Threads for building the trees and reading them; ``None`` (default): as many as
        the running study gives each fit (:func:`~odyssey_analysis.study.analyze`
        decides), else one. The result does not depend on it.
    """

    def __init__(self, settings: ForestSettings | None = None, n_jobs: int | None = None
                 ) -> None:
        self.settings = settings or ForestSettings()
        self.n_jobs = n_jobs

    def __repr__(self) -> str:
        return f"RandomForestSurrogate({self.settings!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RandomForestSurrogate):
            return NotImplemented
        return (self.settings, self.n_jobs) == (other.settings, other.n_jobs)

    def __hash__(self) -> int:
        return hash((self.settings, self.n_jobs))

    def fit(self, x: np.ndarray, y: np.ndarray, *, evaluate_at: np.ndarray | None = None,
            clip: tuple[float, float] | None = None) -> FittedSurrogate:
        """Fit the forest and read its trees as leaf boxes (see :meth:`Surrogate.fit`)."""
        from .fanova import forest_leaf_boxes

        n_jobs = current_fit_threads() if self.n_jobs is None else self.n_jobs
        settings = self.settings.with_leaf(1)
        fitted = fit_forest(x, y, settings, n_jobs=n_jobs)
        evaluated = (None if evaluate_at is None else
                     forest_mean_prediction(fitted.forest, evaluate_at, clip, n_jobs))
        trees = forest_leaf_boxes(_hand_over(fitted.forest), x.shape[1])
        return FittedSurrogate(trees, fitted.oob_r2,
                               {**settings.to_dict(), "surrogate": "sklearn"}, evaluated)

    def replicate(self, *, n_trees: int, seed: int) -> RandomForestSurrogate:
        """The same settings with ``n_trees`` trees and ``seed``."""
        return RandomForestSurrogate(replace(self.settings, n_trees=n_trees, seed=seed),
                                     n_jobs=self.n_jobs)

    def with_levels(self, cells: Any) -> RandomForestSurrogate:
        """This forest unchanged: scikit-learn splits every dimension as a range."""
        return self


def make_surrogate(name: str | None = None, settings: ForestSettings | None = None
                   ) -> Surrogate:
    """The built-in surrogate called ``name`` (:data:`SURROGATES`; ``None``: the default).

    ``"compiled"`` is :class:`~odyssey_analysis.forest.CompiledForestSurrogate`;
    ``"sklearn"`` is :class:`RandomForestSurrogate`. Without Numba (or with
    ``ODYSSEY_NO_NUMBA`` set) the default falls back to scikit-learn's forest.

    Raises
    ------
    InputError
        For an unknown name, or ``"compiled"`` where Numba is unavailable.
    """
    if name is None:
        name = SURROGATES[0] if compiled_forest_available() else "sklearn"
    if name == "sklearn":
        return RandomForestSurrogate(settings)
    if name == "compiled":
        if not compiled_forest_available():
            raise InputError("the compiled forest needs Numba",
                             hint="install numba, unset ODYSSEY_NO_NUMBA, or use "
                                  "{surrogate:'sklearn'}", parameters=("surrogate",))
        from .forest import CompiledForestSurrogate

        return CompiledForestSurrogate(settings)
    raise InputError(f"unknown surrogate {name!r}", hint=f"use one of {', '.join(SURROGATES)}")


def compiled_forest_available() -> bool:
    """Whether the compiled forest can run here (Numba importable, not switched off)."""
    import importlib.util
    import os

    if os.environ.get("ODYSSEY_NO_NUMBA"):
        return False
    return importlib.util.find_spec("numba") is not None


def surrogate_name(surrogate: Any) -> str:
    """The name a surrogate goes by in ``analysis.json`` (its ``name``, else its class)."""
    if isinstance(surrogate, RandomForestSurrogate):
        return "sklearn"
    return str(getattr(surrogate, "name", type(surrogate).__name__))


def forest_mean_prediction(forest: Any, points: np.ndarray,
                           clip: tuple[float, float] | None = None, n_jobs: int = 1
                           ) -> np.ndarray:
    """Mean over a fitted forest's trees of their predictions at ``points``.

    Each tree's values are clipped into ``clip`` before averaging (as the decomposition
    clips leaf values). Trees are read on ``n_jobs`` threads; the sum runs in tree order,
    so the result does not depend on ``n_jobs``.
    """
    x32 = np.ascontiguousarray(points, dtype=np.float32)  # as scikit-learn predicts

    def one(est: Any) -> np.ndarray:
        values = est.tree_.value[est.tree_.apply(x32), 0, 0]
        return values if clip is None else np.clip(values, clip[0], clip[1])

    estimators = forest.estimators_
    total = np.zeros(len(x32))
    if n_jobs > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(n_jobs) as pool:
            for values in pool.map(one, estimators):
                total += values
    else:
        for est in estimators:
            total += one(est)
    return total / len(estimators)


def _hand_over(forest: Any) -> Iterator[Any]:
    """The forest's trees one by one, each dropped from the forest as it is handed over
    (the boxes replace them, so both never sit in memory whole)."""
    estimators = forest.estimators_
    for i in range(len(estimators)):
        tree = estimators[i].tree_
        estimators[i] = None
        yield tree


@dataclass(frozen=True)
class FittedForest:
    """A fitted scikit-learn forest and how well it predicts unseen trials.

    Attributes
    ----------
    forest
        The scikit-learn estimator.
    oob_r2
        Out-of-bag R² (NaN without bootstrap or with too few trials).
    settings
        The settings it was fitted with.
    """

    forest: Any
    oob_r2: float
    settings: ForestSettings


def fit_forest(x: np.ndarray, y: np.ndarray, settings: ForestSettings | None = None,
               n_jobs: int = 1) -> FittedForest:
    """Fit scikit-learn's forest on the encoded design matrix.

    Parameters
    ----------
    x
        ``(n, d)`` encoded hyperparameters in [0, 1].
    y
        ``(n,)`` finite responses.
    settings
        Forest settings (defaults: 64 fully grown trees, seed 0).
    n_jobs
        Threads for fitting (always threads of this process, whatever joblib backend is
        active); the result does not depend on it.

    Returns
    -------
    FittedForest
    """
    from joblib import parallel_config

    settings = (settings or ForestSettings()).with_leaf(1)
    forest = _lean_forest_class()(
        n_estimators=settings.n_trees,
        max_depth=settings.max_depth,
        min_samples_split=settings.min_samples_split,
        min_samples_leaf=settings.min_samples_leaf,
        max_features=settings.max_features,
        bootstrap=settings.bootstrap,
        random_state=settings.seed,
        n_jobs=n_jobs,
    )
    # Threads in this process, whatever joblib backend the caller set: under Dask's, the
    # forest's own parallel loop would otherwise send every tree to the cluster.
    with parallel_config(backend="threading"):
        forest.fit(x, y)
        r2 = out_of_bag_r2(forest, x, y) if settings.bootstrap else float("nan")
    return FittedForest(forest, r2, settings)


_LEAN_FOREST: type | None = None


def _lean_forest_class() -> type:
    """scikit-learn's ``RandomForestRegressor``, its trees copied from one template.

    The forest makes every tree by cloning its template tree and setting its
    parameters again, through ``get_params``' signature inspection: about 1.3 ms per
    tree, more than fitting a tree on 200 trials. Here the template is configured once
    and each tree is a shallow copy of it with its own ``random_state`` drawn exactly
    as scikit-learn draws it, so the forest is the same, bit for bit (a test compares
    it with scikit-learn's own forest).
    """
    global _LEAN_FOREST
    if _LEAN_FOREST is not None:
        return _LEAN_FOREST
    import copy

    from sklearn.base import clone
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.utils import check_random_state

    class _LeanForest(RandomForestRegressor):
        def _make_estimator(self, append: bool = True, random_state: Any = None) -> Any:
            template = self.__dict__.get("_tree_template")
            if template is None:
                template = clone(self.estimator_)
                template.set_params(**{p: getattr(self, p) for p in self.estimator_params})
                if "random_state" not in template.get_params():  # pragma: no cover
                    raise RuntimeError("scikit-learn's trees have no random_state")
                self.__dict__["_tree_template"] = template
            tree = copy.copy(template)
            if random_state is not None:  # as sklearn.ensemble._base._set_random_states
                tree.random_state = check_random_state(random_state).randint(
                    np.iinfo(np.int32).max)
            if append:
                self.estimators_.append(tree)
            return tree

    _LeanForest.__module__ = __name__
    _LeanForest.__qualname__ = "_LeanForest"
    _LEAN_FOREST = _LeanForest
    return _LeanForest


def __getattr__(name: str) -> Any:
    """``_LeanForest`` on demand (so a pickled forest loads in a fresh process)."""
    if name == "_LeanForest":
        return _lean_forest_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def out_of_bag_r2(forest: Any, x: np.ndarray, y: np.ndarray) -> float:
    """R² of out-of-bag predictions, over the trials that some tree left out.

    scikit-learn's own ``oob_score_`` counts a trial that every tree saw as predicted
    0, which with few trees drives R² far below zero; here such trials are left out.
    Returns NaN when fewer than two trials have out-of-bag predictions.
    """
    try:  # the bootstrap draw is scikit-learn's own (private) helper
        from sklearn.ensemble._forest import _generate_unsampled_indices
    except ImportError:  # pragma: no cover - private helpers moved
        return float("nan")
    n = len(y)
    n_boot = getattr(forest, "_n_samples_bootstrap", n) or n
    total = np.zeros(n)
    count = np.zeros(n)
    # The trees read float32 inputs (scikit-learn converts the same way to predict).
    x32 = np.asarray(x, dtype=np.float32)
    redraw = _BootstrapRedraw(n, n_boot)
    for i, tree in enumerate(forest.estimators_):
        if i == 0 or not redraw.same_as_sklearn:
            try:
                left_out = _generate_unsampled_indices(tree.random_state, n, n_boot, None)
            except TypeError:  # older scikit-learn takes no sample weights here
                left_out = _generate_unsampled_indices(tree.random_state, n, n_boot)
            if i == 0:
                redraw.check(tree.random_state, left_out)
        else:
            left_out = redraw.left_out(tree.random_state)
        if left_out.size:
            # The value of the leaf a trial falls in is the tree's prediction, bit for bit.
            leaves = tree.tree_.apply(np.ascontiguousarray(x32[left_out]))
            total[left_out] += tree.tree_.value[leaves, 0, 0]
            count[left_out] += 1
    seen = count > 0
    if seen.sum() < 2 or np.var(y[seen]) == 0:
        return float("nan")
    pred = total[seen] / count[seen]
    return float(1.0 - np.mean((y[seen] - pred) ** 2) / np.var(y[seen]))


class _BootstrapRedraw:
    """The trials a tree's bootstrap left out, drawn again without a new generator.

    scikit-learn draws each tree's bootstrap from ``RandomState(seed)``, and creating a
    ``RandomState`` gathers fresh entropy first (about as slow as the draw itself);
    reseeding one generator gives the same stream. :meth:`check` compares the redraw
    with scikit-learn's own helper on the first tree, and the helper is used for every
    tree unless they agree.
    """

    def __init__(self, n: int, n_boot: int) -> None:
        self.n, self.n_boot = n, n_boot
        self.state = np.random.RandomState(0)
        self.same_as_sklearn = False

    def left_out(self, seed: int) -> np.ndarray:
        self.state.seed(seed)
        drawn = self.state.randint(0, self.n, self.n_boot, dtype=np.int32)
        return np.flatnonzero(np.bincount(drawn, minlength=self.n) == 0)

    def check(self, seed: Any, expected: np.ndarray) -> None:
        self.same_as_sklearn = (isinstance(seed, numbers.Integral)
                                and np.array_equal(self.left_out(int(seed)), expected))
