"""Inferring a search space from observed values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from .model import Hyperparameter, SearchSpace
from .validate import first_bad

#: Ratio of largest to smallest value from which inference tries a log scale.
MIN_LOG_SPAN = 10.0
#: Most distinct values a numeric column may have to be read as a grid of levels.
MAX_GRID_LEVELS = 16
#: Times each value of a grid off any ladder must be seen.
GRID_REPEATS = 3
#: Relative tolerance on the steps of a ladder (values are often rounded when saved).
LADDER_RTOL = 1e-3


def infer_space(frame: pd.DataFrame, columns: Sequence[str], *,
                source: str | None = None) -> SearchSpace:
    """Guess the space from observed values (print it so the user can confirm).

    Rules: text or booleans are categorical; a few distinct numbers (at most
    :data:`MAX_GRID_LEVELS`, each seen twice on average) on a regular or log-regular
    ladder (0.5, 0.6, ... 1.0; 1, 4, 16, ...), or each seen three times or more, are a
    grid: ordinal levels, integrated uniformly over the levels; other numbers that are
    all whole are integers;
    positive numbers spanning at least a decade are log-scaled when they are more
    likely under a log-uniform law than under a uniform one on their range (likewise
    ``1 - x`` for a momentum-like hyperparameter in [0, 1)); the bounds are the
    observed minimum and maximum.
    """
    hps = []
    notes = []
    for name in columns:
        if name not in frame.columns:
            raise InputError("hyperparameter column is missing", file=source, column=name,
                             hint=f"columns present: {', '.join(map(str, frame.columns))}")
        col = frame[name]
        hp = _infer_one(name, col, source)
        hps.append(hp)
        if hp.is_constant:
            notes.append(f"{name} is constant ({hp.levels[0]!r}); its effect is 0")
        elif hp.kind == "ordinal":
            ladder = grid_ladder(np.asarray(hp.levels, dtype=float))
            where = f"on a {ladder} ladder" if ladder else "each repeated"
            repeats = len(col) / len(hp.levels)
            notes.append(f"{name}: {len(hp.levels)} distinct values {where} "
                         f"({_levels_text(hp.levels)}), each seen {repeats:.3g} times on "
                         "average: read as a grid of ordinal levels, integrated uniformly "
                         "over the levels (declare a space to read it otherwise)")
        elif hp.is_discrete and _beyond_float(col.dropna(), pd.to_numeric(col.dropna(),
                                                                          errors="coerce")):
            notes.append(f"{name} holds whole numbers beyond 2**53 that floating point "
                         f"cannot tell apart: read as {len(hp.levels)} categorical levels "
                         "(an id or a seed? leave it out with --param)")
    return SearchSpace(tuple(hps), origin="inferred from the data", notes=tuple(notes))



def _infer_one(name: str, col: pd.Series, source: str | None) -> Hyperparameter:
    present = col.dropna()
    if present.empty:
        raise InputError("the hyperparameter column has no values", file=source, column=name)
    if col.isna().any():
        raise InputError("missing value for a hyperparameter", file=source,
                         row=first_bad(col.isna().to_numpy(), col.index), column=name,
                         hint="fill it in, or declare the space with the hyperparameter "
                              "marked conditional")
    if pd.api.types.is_bool_dtype(present) or present.map(type).eq(bool).all():
        levels = tuple(sorted(present.unique().tolist()))
        return _categorical_or_constant(name, levels)
    numeric = pd.to_numeric(present, errors="coerce")
    if numeric.notna().all() and _beyond_float(present, numeric):
        # Whole numbers past 2**53 that floating point cannot tell apart (ids, hashes,
        # seeds): their levels, as text, never one constant.
        levels = tuple(sorted(present.astype(str).unique().tolist(), key=lambda v: int(v)))
        return _categorical_or_constant(name, levels)
    if numeric.notna().all():
        x = numeric.to_numpy(dtype=float)
        if not np.all(np.isfinite(x)):
            bad = ~np.isfinite(x)
            raise InputError(f"value {x[bad][0]} is not finite", file=source,
                             row=first_bad(bad, present.index), column=name)
        lo, hi = float(x.min()), float(x.max())
        if lo == hi:
            value = int(lo) if float(lo).is_integer() else lo
            return Hyperparameter(name, "constant", choices=(value,), default=value)
        distinct = np.unique(x)
        if _is_grid(x, distinct):
            values = present.drop_duplicates()
            order = np.argsort(values.to_numpy(dtype=float))
            return Hyperparameter(name, "ordinal",
                                  choices=tuple(values.iloc[order].tolist()))
        whole = bool(np.all(np.abs(x - np.round(x)) == 0))
        return Hyperparameter(name, "int" if whole else "float", lo, hi,
                              _infer_scale(x, whole))
    if numeric.notna().any():
        # Mostly numbers with some text: a typo, not a categorical.
        share = numeric.notna().mean()
        if share >= 0.5:
            bad = numeric.isna().to_numpy()
            value = present.iloc[int(np.flatnonzero(bad)[0])]
            raise InputError(f"expected a number, found {value!r} (mixed types)", file=source,
                             row=first_bad(bad, present.index), column=name)
    levels = tuple(sorted(present.astype(str).unique().tolist()))
    return _categorical_or_constant(name, levels)


def _is_grid(x: np.ndarray, levels: np.ndarray) -> bool:
    """A grid: at most :data:`MAX_GRID_LEVELS` distinct values, seen twice each on
    average, on a regular or log-regular ladder; or values that are not on a ladder
    (``grid_search([0.1, 0.5, 0.6])``) each seen at least :data:`GRID_REPEATS` times,
    which draws from a continuous range never are."""
    if levels.size > MAX_GRID_LEVELS or x.size < 2 * levels.size:
        return False
    if grid_ladder(levels) is not None:
        return True
    counts = np.unique(x, return_counts=True)[1]
    return bool(counts.min() >= GRID_REPEATS)


def grid_ladder(levels: np.ndarray) -> str | None:
    """``"regular"`` or ``"log-regular"`` when sorted distinct values are equally spaced
    in raw or in log units (within :data:`LADDER_RTOL` of the mean step), else ``None``."""
    levels = np.sort(np.asarray(levels, dtype=float))
    if levels.size < 2:
        return None

    def even(t: np.ndarray) -> bool:
        steps = np.diff(t)
        mean = steps.mean()
        return bool(mean > 0 and np.all(np.abs(steps - mean) <= LADDER_RTOL * mean))

    if even(levels):
        return "regular"
    if levels[0] > 0 and even(np.log(levels)):
        return "log-regular"
    return None


def _levels_text(levels: tuple) -> str:
    shown = [f"{v:g}" for v in levels]
    return ", ".join(shown) if len(shown) <= 6 else ", ".join([*shown[:3], "...",
                                                                *shown[-2:]])


#: Integers above this are not all representable as floats.
FLOAT_EXACT = 2 ** 53


def _beyond_float(present: pd.Series, numeric: pd.Series) -> bool:
    """Whole numbers beyond 2**53 whose distinct values floating point merges."""
    text = present.astype(str).str.strip().str.lstrip("+")
    if not text.str.fullmatch(r"-?\d+").all():
        return False
    if not (text.str.lstrip("-").str.len() >= 16).any():  # none reaches 2**53
        return False
    return text.map(int).nunique() > numeric.astype(float).nunique()


def _log_likelihood(x: np.ndarray, scale: str, whole: bool) -> float:
    """Mean log-density of ``x`` under the uniform law on its observed range in the
    coordinate of ``scale`` (integers own the unit interval around them)."""
    lo, hi = float(x.min()), float(x.max())
    if whole and scale != "one_minus_log":
        lo, hi = lo - 0.5, hi + 0.5
    if scale == "log":
        if lo <= 0:
            return -np.inf
        return float(-np.mean(np.log(x)) - np.log(np.log(hi / lo)))
    if scale == "one_minus_log":
        return float(-np.mean(np.log1p(-x)) - np.log(np.log((1 - lo) / (1 - hi))))
    return float(-np.log(hi - lo))


def _infer_scale(x: np.ndarray, whole: bool) -> str:
    """Pick the scale under which the observed values are most likely.

    A positive range of at least a decade is a candidate for log scale, and values in
    [0, 1) whose distance from 1 spans a decade for the paper's 1 − log-uniform
    momentum; each candidate is the uniform law on the observed range in its own
    coordinate, and the one under which the values are most likely wins. With two
    parameters each (the bounds) this is the likelihood-ratio choice, which reads the
    spacing of a handful of values better than a distance between distributions: 20
    integers drawn log-uniformly on [4, 256] are read as log-scaled 99 times in 100.
    """
    lo, hi = float(x.min()), float(x.max())
    candidates = {"linear": _log_likelihood(x, "linear", whole)}
    if lo > 0 and hi / lo >= MIN_LOG_SPAN:
        candidates["log"] = _log_likelihood(x, "log", whole)
    if not whole and lo >= 0 and hi < 1 and (1 - lo) / (1 - hi) >= MIN_LOG_SPAN:
        candidates["one_minus_log"] = _log_likelihood(x, "one_minus_log", whole)
    return max(candidates, key=candidates.__getitem__)


def _categorical_or_constant(name: str, levels: tuple[Any, ...]) -> Hyperparameter:
    if len(levels) == 1:
        return Hyperparameter(name, "constant", choices=levels, default=levels[0])
    return Hyperparameter(name, "categorical", choices=levels)

