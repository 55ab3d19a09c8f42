"""Conformance checks for plug-ins: surrogates and importance methods.

A surrogate (:class:`~odyssey_analysis.surrogate.Surrogate`) or an importance method
(:class:`~odyssey_analysis.methods.ImportanceMethod`) of your own plugs into
:func:`~odyssey_analysis.study.analyze` when it keeps the contract these functions
check, in the manner of scikit-learn's ``check_estimator``::

    from odyssey_analysis.testing import check_importance_method, check_surrogate

    def test_my_surrogate():
        check_surrogate(MySurrogate())

Each check fits small known problems and raises :class:`AssertionError` naming the
broken promise; it returns nothing when every promise holds. The checks run in this
package's own test suite on every surrogate and method it ships.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["check_importance_method", "check_surrogate"]

#: The columns every importance table has (those of ``importance.csv`` after the group
#: keys, less the interval columns, which only a bootstrap fills).
REQUIRED_COLUMNS = ("response", "effect", "order", "param_a", "param_b", "fraction",
                    "fraction_std", "n_trials", "n_trees")


def _fail(what: str, subject: Any) -> None:
    raise AssertionError(f"{type(subject).__name__}: {what}")


def _known_problem(n: int = 160, d: int = 3, seed: int = 0
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``(n, d)`` points in the unit cube (exact in float32) and a response that is a
    step in the first coordinate plus a smaller slope in the second."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, (n, d)).astype(np.float32).astype(np.float64)
    y = 2.0 * (x[:, 0] > 0.5) + 0.5 * x[:, 1]
    return x, y


def _predict_from_boxes(tree: Any, points: np.ndarray) -> np.ndarray:
    """Each point's leaf value, and a check that exactly one box holds each point.

    A box holds ``x`` when ``lower < x <= upper`` in every coordinate (a tree sends
    ``x <= threshold`` left), or ``lower <= x`` on the cube's lower face.
    """
    lower, upper, value = tree.lower, tree.upper, tree.value
    above = (points[:, None, :] > lower[None]) | (lower[None] <= 0.0)
    inside = (above & (points[:, None, :] <= upper[None])).all(axis=2)
    counts = inside.sum(axis=1)
    if not (counts == 1).all():
        bad = int(np.flatnonzero(counts != 1)[0])
        raise AssertionError(f"the leaf boxes do not partition the unit cube: point "
                             f"{points[bad].tolist()} lies in {int(counts[bad])} boxes")
    return value[inside.argmax(axis=1)]


def _same_trees(a: list, b: list) -> bool:
    return len(a) == len(b) and all(
        np.array_equal(s.lower, t.lower) and np.array_equal(s.upper, t.upper)
        and np.array_equal(s.value, t.value) for s, t in zip(a, b))


def check_surrogate(surrogate: Any) -> None:
    """Check that ``surrogate`` keeps the contract of
    :class:`~odyssey_analysis.surrogate.Surrogate`.

    The checks: it is a ``Surrogate``; it pickles (worker processes receive it that
    way); ``fit`` leaves its inputs alone and returns a
    :class:`~odyssey_analysis.surrogate.FittedSurrogate` with JSON-ready settings, a float
    out-of-bag R² and at least one tree; every tree's leaf boxes lie in the unit cube
    and partition it (their volumes sum to 1, each point lies in exactly one box); the
    trees fit a step function (R² of their mean at the trials above 0.9); with
    ``evaluate_at`` it returns the mean over trees of the leaf values at those points,
    each clipped into ``clip`` first, and without it ``None``; the same surrogate fitted
    twice gives the same trees; ``replicate(n_trees=..., seed=...)`` gives a surrogate
    of that many trees.

    Raises
    ------
    AssertionError
        Naming the first broken promise.
    """
    from .fanova import LeafBoxes
    from .surrogate import FittedSurrogate, Surrogate

    if not isinstance(surrogate, Surrogate):
        _fail("is not a Surrogate (needs fit(x, y, *, evaluate_at, clip) and "
              "replicate(*, n_trees, seed))", surrogate)
    restored = pickle.loads(pickle.dumps(surrogate))
    x, y = _known_problem()
    x_before, y_before = x.copy(), y.copy()
    rng = np.random.default_rng(1)
    at = rng.uniform(0.0, 1.0, (50, x.shape[1])).astype(np.float32).astype(np.float64)
    clip = (0.25, 1.75)
    fitted = surrogate.fit(x, y, evaluate_at=at, clip=clip)
    if not (np.array_equal(x, x_before) and np.array_equal(y, y_before)):
        _fail("fit changed its inputs", surrogate)
    if not isinstance(fitted, FittedSurrogate):
        _fail(f"fit returned {type(fitted).__name__}, not a FittedSurrogate", surrogate)
    try:
        json.dumps(fitted.settings)
    except (TypeError, ValueError) as exc:
        _fail(f"its settings are not JSON-ready ({exc})", surrogate)
    if not isinstance(fitted.oob_r2, float):
        _fail(f"oob_r2 is {type(fitted.oob_r2).__name__}, not a float (NaN when unknown)",
              surrogate)
    trees = list(fitted.trees)
    if not trees:
        _fail("fit returned no trees", surrogate)
    for i, tree in enumerate(trees):
        if not isinstance(tree, LeafBoxes):
            _fail(f"tree {i} is {type(tree).__name__}, not LeafBoxes", surrogate)
        if tree.dim != x.shape[1] or tree.value.shape != (tree.n_leaves,):
            _fail(f"tree {i} has boxes of dimension {tree.dim} or values of shape "
                  f"{tree.value.shape} for {x.shape[1]} inputs", surrogate)
        if (tree.lower < 0).any() or (tree.upper > 1).any() or (tree.lower >= tree.upper).any():
            _fail(f"tree {i} has a box outside the unit cube or an empty one", surrogate)
        volume = float(np.prod(tree.widths, axis=1).sum())
        if abs(volume - 1.0) > 1e-9:
            _fail(f"the boxes of tree {i} have a total volume of {volume:.12g}, not 1",
                  surrogate)
    on_trials = np.mean([_predict_from_boxes(t, x) for t in trees], axis=0)
    r2 = 1.0 - np.mean((y - on_trials) ** 2) / np.var(y)
    if not r2 > 0.9:
        _fail(f"the trees fit a step function poorly (R² {r2:.3f} at the trials)", surrogate)
    expected = np.mean([np.clip(_predict_from_boxes(t, at), *clip) for t in trees], axis=0)
    if fitted.evaluated is None or np.shape(fitted.evaluated) != (len(at),):
        _fail("fit(evaluate_at=points) did not return one value per point", surrogate)
    if not np.allclose(fitted.evaluated, expected, rtol=1e-9, atol=1e-12):
        worst = float(np.max(np.abs(np.asarray(fitted.evaluated) - expected)))
        _fail(f"the values at evaluate_at are not the trees' mean clipped leaf values "
              f"(off by up to {worst:.3g})", surrogate)
    plain = restored.fit(x, y)
    if plain.evaluated is not None:
        _fail("fit without evaluate_at returned evaluated values", surrogate)
    if not _same_trees(trees, list(plain.trees)):
        _fail("two fits of the same surrogate (one through pickle) gave different trees",
              surrogate)
    small = surrogate.replicate(n_trees=3, seed=7)
    if not isinstance(small, Surrogate):
        _fail("replicate() did not return a Surrogate", surrogate)
    n = len(list(small.fit(x, y).trees))
    if n != 3:
        _fail(f"replicate(n_trees=3, ...) fitted {n} trees", surrogate)


def _known_study(n: int = 200) -> tuple[np.ndarray, np.ndarray, Any]:
    """Three hyperparameters on [0, 1]; the response depends on the first only."""
    from .space import Hyperparameter, SearchSpace

    rng = np.random.default_rng(3)
    space = SearchSpace(tuple(Hyperparameter(name, "float", 0.0, 1.0)
                              for name in ("strong", "weak", "none")))
    x = rng.uniform(0.0, 1.0, (n, 3))
    y = np.sin(3.0 * x[:, 0]) + 0.05 * x[:, 1]
    return x, y, space


def check_importance_method(method: Any, *,
                            fit: Callable[..., Any] | None = None) -> None:
    """Check that ``method`` keeps the contract of
    :class:`~odyssey_analysis.methods.ImportanceMethod`.

    The checks: it is an ``ImportanceMethod`` with a name; it pickles (worker processes
    receive it that way); its ``to_dict()`` is JSON-ready; ``fit`` leaves its inputs
    alone and returns an :class:`~odyssey_analysis.methods.ImportanceResult` labelled
    with the group and response it was given and the number of trials; its
    ``importance_table()`` has the columns of ``importance.csv`` (the interval columns
    are optional) with one row per hyperparameter of order 1, fractions in [0, 1]
    where defined; its ``to_dict(curves=False)`` is JSON-ready; on a response that
    depends on one of three hyperparameters, that one gets the largest main fraction,
    above 0.5, and the one without any effect less than 0.1; the same fit twice gives
    the same table; and :func:`~odyssey_analysis.study.analyze` runs it over a table of
    two groups.

    Parameters
    ----------
    method
        The method to check.
    fit
        How to call ``method.fit`` (default: ``method.fit``); for a method that needs a
        ``direction``, e.g. ``functools.partial(method.fit, direction="maximize")``.

    Raises
    ------
    AssertionError
        Naming the first broken promise.
    """
    import pandas as pd

    from .methods import ImportanceMethod, ImportanceResult

    if not isinstance(method, ImportanceMethod):
        _fail("is not an ImportanceMethod (needs name, fit(x, y, space, *, group, "
              "response, rows_excluded, direction) and to_dict())", method)
    if not isinstance(method.name, str) or not method.name:
        _fail("has no name", method)
    pickle.loads(pickle.dumps(method))
    try:
        json.dumps(method.to_dict())
    except (TypeError, ValueError) as exc:
        _fail(f"to_dict() is not JSON-ready ({exc})", method)
    call = fit if fit is not None else method.fit
    x, y, space = _known_study()
    x_before, y_before = x.copy(), y.copy()
    group = {"task": "known"}
    result = call(x, y, space, group=group, response="loss", rows_excluded={},
                  direction="minimize")
    if not (np.array_equal(x, x_before) and np.array_equal(y, y_before)):
        _fail("fit changed its inputs", method)
    if not isinstance(result, ImportanceResult):
        _fail(f"fit returned {type(result).__name__}, not an ImportanceResult (needs "
              "group, response, n_trials, importance_table() and to_dict())", method)
    if dict(result.group) != group or result.response != "loss" or result.n_trials != len(y):
        _fail(f"the result is labelled group={result.group!r}, response="
              f"{result.response!r}, n_trials={result.n_trials!r}; fit was given "
              f"{group!r}, 'loss' and {len(y)} trials", method)
    table = result.importance_table()
    if not isinstance(table, pd.DataFrame):
        _fail("importance_table() is not a DataFrame", method)
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        _fail(f"importance_table() lacks the column(s) {', '.join(missing)}", method)
    mains = table[table["order"] == 1]
    if sorted(mains["effect"]) != sorted(space.names):
        _fail(f"importance_table() has main effects {list(mains['effect'])}, not one per "
              f"hyperparameter {space.names}", method)
    fractions = pd.to_numeric(table["fraction"], errors="coerce").to_numpy(dtype=float)
    defined = fractions[np.isfinite(fractions)]
    if ((defined < -1e-12) | (defined > 1 + 1e-12)).any():
        _fail("importance_table() has fractions outside [0, 1]", method)
    share = dict(zip(mains["effect"], mains["fraction"].astype(float)))
    top = max(share, key=share.__getitem__)
    if top != "strong" or not share["strong"] > 0.5 or not share["none"] < 0.1:
        _fail(f"on a response of one hyperparameter ('strong') the main fractions are "
              f"{ {k: round(v, 3) for k, v in share.items()} }", method)
    try:
        json.dumps(result.to_dict(curves=False))
    except (TypeError, ValueError) as exc:
        _fail(f"the result's to_dict(curves=False) is not JSON-ready ({exc})", method)
    again = call(x, y, space, group=group, response="loss", rows_excluded={},
                 direction="minimize").importance_table()
    if not table.equals(again):
        _fail("two fits of the same trials gave different tables", method)
    _check_in_a_study(method, x, y, space)


def _check_in_a_study(method: Any, x: np.ndarray, y: np.ndarray, space: Any) -> None:
    """``analyze`` runs the method over two groups and labels the rows with them."""
    import pandas as pd

    from .study import analyze
    from .trials import TrialTable

    frame = pd.DataFrame({hp.name: hp.decode(x[:, j]) for j, hp in enumerate(space)})
    frame["loss"] = y
    frame["task"] = np.where(np.arange(len(y)) % 2 == 0, "even", "odd")
    table = TrialTable.from_frame(frame, responses=["loss"], group_by=["task"], space=space,
                                  directions={"loss": "minimize"})
    study = analyze(table, method, n_jobs=1)
    imp = study.importance_table()
    if set(imp["task"]) != {"even", "odd"} or len(study) != 2:
        _fail("analyze() over two groups did not give one fit per group", method)
    try:
        json.dumps(study.to_dict())
    except (TypeError, ValueError) as exc:
        _fail(f"analyze()'s result is not JSON-ready ({exc})", method)
