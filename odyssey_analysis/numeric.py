"""Reading numbers from data: one table of non-finite words and one parser.

Every column of metrics or numeric hyperparameters that arrives as text (a CSV cell, an
MLflow metric, a JSON value) is read here, so ``inf``, ``-Infinity`` or an empty cell
mean the same thing wherever they appear.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .errors import InputError, row_number

#: Text that stands for a non-finite number (compared after stripping and lowercasing).
NONFINITE_WORDS: dict[str, float] = {
    "": math.nan, "nan": math.nan,
    "inf": math.inf, "+inf": math.inf, "infinity": math.inf, "+infinity": math.inf,
    "-inf": -math.inf, "-infinity": -math.inf,
}


def parse_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Read a column as floats.

    Parameters
    ----------
    values
        Numbers, or text holding numbers and the words of :data:`NONFINITE_WORDS`.

    Returns
    -------
    numbers, bad
        ``numbers`` as float (NaN where missing, unreadable or NaN); ``bad`` marks the
        entries that hold text which is no number.
    """
    if pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=float), np.zeros(len(values), dtype=bool)
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=float), np.zeros(len(values), dtype=bool)
    present = values.notna().to_numpy()
    text = values.astype(str).str.strip()
    lowered = text.str.lower()
    word = lowered.isin(list(NONFINITE_WORDS)).to_numpy()
    converted = np.array(pd.to_numeric(text.where(~word), errors="coerce"), dtype=float)
    converted[word] = lowered[word].map(NONFINITE_WORDS).to_numpy(dtype=float)
    converted[~present] = math.nan
    bad = present & ~word & np.isnan(converted)
    return converted, bad


def read_numbers(values: pd.Series, *, source: str | None, column: str,
                 check: np.ndarray | None = None, what: str = "a number") -> np.ndarray:
    """:func:`parse_numbers`, raising :class:`InputError` at the first unreadable entry.

    Parameters
    ----------
    values
        The column.
    source, column
        Where it comes from, for the message.
    check
        Only these entries (a boolean mask) must be readable; others may hold any text.
    what
        What was expected, for the message.

    Raises
    ------
    InputError
        Booleans, or text that is no number, naming the file, row and column.
    """
    if pd.api.types.is_bool_dtype(values):
        raise InputError("must be numeric, found true/false values", file=source,
                         column=column)
    numbers, bad = parse_numbers(values)
    if check is not None:
        bad = bad & check
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise InputError(f"expected {what}, found {values.iloc[pos]!r}", file=source,
                         row=row_number(values.index, pos), column=column)
    return numbers


def mostly_numeric(values: pd.Series, share: float = 0.5) -> bool:
    """Whether at least ``share`` of a column reads as numbers other than NaN.

    Booleans never do; a numeric dtype always does.
    """
    if pd.api.types.is_bool_dtype(values):
        return False
    if pd.api.types.is_numeric_dtype(values):
        return True
    numbers, _ = parse_numbers(values)
    return bool(len(values)) and float((~np.isnan(numbers)).mean()) >= share


def is_nan(value: object) -> bool:
    """True for a float NaN (None and text are not NaN)."""
    return isinstance(value, (float, np.floating)) and math.isnan(value)
