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


def infer_space(frame: pd.DataFrame, columns: Sequence[str], *,
                source: str | None = None) -> SearchSpace:
    """Guess the space from observed values (print it so the user can confirm).

    Rules: text or booleans are categorical; numbers that are all whole are
    integers; positive numbers spanning at least a decade are log-scaled when
    they are spread more evenly in log than in raw units (likewise ``1 - x`` for a
    momentum-like hyperparameter in [0, 1)); the bounds are the observed minimum and
    maximum.
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


def _uniformity_gap(t: np.ndarray) -> float:
    """Kolmogorov–Smirnov distance of ``t`` from the uniform law on its range."""
    t = np.sort(t)
    u = (t - t[0]) / (t[-1] - t[0])
    n = u.size
    ranks = np.arange(1, n + 1) / n
    return float(max(np.max(ranks - u), np.max(u - (ranks - 1 / n))))


def _infer_scale(x: np.ndarray, whole: bool) -> str:
    """Pick the scale under which the observed values look most uniformly spread.

    A positive range of at least a decade is a candidate for log scale, and values in
    [0, 1) whose distance from 1 spans a decade for the paper's 1 − log-uniform
    momentum; the candidate wins only when the values are closer to uniform in its
    coordinate than in raw units (uniform samples on [0, 1] span several decades too).
    """
    lo, hi = float(x.min()), float(x.max())
    candidates = {"linear": _uniformity_gap(x)}
    if lo > 0 and hi / lo >= MIN_LOG_SPAN:
        candidates["log"] = _uniformity_gap(np.log(x))
    if not whole and lo >= 0 and hi < 1 and (1 - lo) / (1 - hi) >= MIN_LOG_SPAN:
        candidates["one_minus_log"] = _uniformity_gap(-np.log1p(-x))
    return min(candidates, key=candidates.__getitem__)


def _categorical_or_constant(name: str, levels: tuple[Any, ...]) -> Hyperparameter:
    if len(levels) == 1:
        return Hyperparameter(name, "constant", choices=levels, default=levels[0])
    return Hyperparameter(name, "categorical", choices=levels)

