"""Checking a table's values against a search space."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import InputError, row_number
from ..numeric import parse_numbers

if TYPE_CHECKING:
    from .model import Hyperparameter

# Relative slack for values that sit on a bound but were rounded on the way to disk.
_BOUND_SLACK = 1e-9


def first_bad(mask: np.ndarray, index: pd.Index) -> int:
    """The source row of the first entry that ``mask`` marks."""
    return row_number(index, int(np.flatnonzero(mask)[0]))


def validate_column(hp: Hyperparameter, col: pd.Series, source: str | None) -> None:
    """Check one column against its hyperparameter.

    Raises
    ------
    InputError
        Naming the first offending row: a missing value (unless conditional), an
        unknown level, text in a numeric column, a non-finite value, a non-positive
        value on a log scale, a non-integer for an integer, or a value out of bounds.
    """
    missing = col.isna().to_numpy()
    if missing.any() and not hp.conditional:
        raise InputError("missing value for a hyperparameter", file=source,
                         row=first_bad(missing, col.index), column=hp.name,
                         hint="fill it in, or declare the hyperparameter conditional")
    present = col[~missing]
    if hp.kind == "constant":
        return
    if hp.is_discrete:
        idx = hp.level_index(present.tolist())
        bad = idx < 0
        if bad.any():
            value = present.iloc[int(np.flatnonzero(bad)[0])]
            raise InputError(
                f"unknown level {value!r} (declared: {', '.join(map(str, hp.levels))})",
                file=source, row=first_bad(bad, present.index), column=hp.name)
        return
    x, not_number = parse_numbers(present)
    if not_number.any():
        value = present.iloc[int(np.flatnonzero(not_number)[0])]
        raise InputError(f"expected a number, found {value!r}", file=source,
                         row=first_bad(not_number, present.index), column=hp.name)
    nonfinite = ~np.isfinite(x)
    if nonfinite.any():
        raise InputError(f"value {x[nonfinite][0]} is not finite", file=source,
                         row=first_bad(nonfinite, present.index), column=hp.name)
    if hp.scale == "log":
        nonpos = x <= 0
        if nonpos.any():
            raise InputError(
                f"value {x[nonpos][0]:g} is not positive but the scale is logarithmic",
                file=source, row=first_bad(nonpos, present.index), column=hp.name)
    if hp.kind == "int":
        frac = np.abs(x - np.round(x)) > 1e-9 * np.maximum(1.0, np.abs(x))
        if frac.any():
            raise InputError(f"value {x[frac][0]:g} is not a whole number", file=source,
                             row=first_bad(frac, present.index), column=hp.name)
    lower, upper = hp.bounds
    span = upper - lower
    slack = _BOUND_SLACK * max(span, abs(lower), abs(upper))
    out = (x < lower - slack) | (x > upper + slack)
    if out.any():
        raise InputError(
            f"value {x[out][0]:g} is outside the declared range [{hp.lower:g}, {hp.upper:g}]",
            file=source, row=first_bad(out, present.index), column=hp.name,
            hint="fix the value or widen the search space")

