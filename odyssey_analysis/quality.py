"""How good a surrogate fit is, and when to warn about it (one rule for every output)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import Any

#: Out-of-bag R² below this earns a warning: the surrogate predicts unseen trials poorly,
#: so its decomposition says little about the real response.
LOW_OOB_R2 = 0.5


def low_oob_r2(r2: float | None) -> bool:
    """Whether an out-of-bag R² is known and below :data:`LOW_OOB_R2`."""
    return r2 is not None and math.isfinite(r2) and r2 < LOW_OOB_R2


def format_r2(r2: float | None) -> str:
    """An R² with two decimals, or ``–`` when it is unknown."""
    return "–" if r2 is None or not math.isfinite(r2) else f"{r2:.2f}"


def quality_words(r2: float | None) -> str:
    """An R² for plain text: ``0.32 (low)`` below :data:`LOW_OOB_R2`, so it is marked
    without colour (in a pipe, a log, a file)."""
    return f"{format_r2(r2)} (low)" if low_oob_r2(r2) else format_r2(r2)


class FitQualityWarning(UserWarning):
    """A fit's shares mean little: no detectable signal, or a low out-of-bag R²."""


def warn_fit_quality(results: Iterable[Any]) -> None:
    """One Python warning per fit without detectable signal or with a low R².

    ``results`` are :class:`~odyssey_analysis.result.FanovaResult` objects (anything
    with ``group``, ``response``, ``oob_r2`` and ``signal_note``).
    """
    for r in results:
        where = ", ".join(f"{k}={v}" for k, v in r.group.items())
        label = f"{r.response}" + (f" ({where})" if where else "")
        note = getattr(r, "signal_note", None)
        if note is not None:
            warnings.warn(f"{label}: {note}; its shares are not reported",
                          FitQualityWarning, stacklevel=3)
        elif low_oob_r2(r.oob_r2):
            warnings.warn(f"{label}: out-of-bag R² is {r.oob_r2:.2f}: the forest predicts "
                          "unseen trials poorly, so its shares are uncertain",
                          FitQualityWarning, stacklevel=3)
