"""How good a surrogate fit is, and when to warn about it (one rule for every output)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import Any

from .errors import FitQualityWarning

__all__ = ["FitQualityWarning", "LOW_OOB_R2", "format_r2", "low_oob_r2", "quality_words",
           "warn_fit_quality"]

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


#: Fits named in one warning before "and N more".
NAMED_FITS = 5


def warn_fit_quality(results: Iterable[Any], stacklevel: int = 3) -> None:
    """At most two Python warnings for a whole study: the fits without detectable signal
    (their shares are not reported), and the fits with a low out-of-bag R².

    ``results`` are :class:`~odyssey_analysis.result.FanovaResult` objects (anything
    with ``group``, ``response``, ``oob_r2`` and optionally ``signal_note``); each result
    also says so in its own ``warnings``.
    """
    results = list(results)
    silent = [r for r in results if getattr(r, "signal_note", None) is not None]
    low = [r for r in results if getattr(r, "signal_note", None) is None
           and low_oob_r2(getattr(r, "oob_r2", None))]
    if silent:
        warnings.warn(f"{len(silent)} of {len(results)} fit(s) show no detectable signal, "
                      f"so their shares are not reported: "
                      f"{_named(silent, lambda r: r.signal_note)}",
                      FitQualityWarning, stacklevel=stacklevel)
    if low:
        warnings.warn(f"{len(low)} of {len(results)} fit(s) predict unseen trials poorly "
                      f"(out-of-bag R² below {LOW_OOB_R2:g}: "
                      f"{_named(low, lambda r: format_r2(r.oob_r2))}); their shares are "
                      "uncertain", FitQualityWarning, stacklevel=stacklevel)


def _named(results: list[Any], detail: Any) -> str:
    """``response (group): detail; ...`` for the first :data:`NAMED_FITS` fits."""
    labels = []
    for r in results[:NAMED_FITS]:
        where = ", ".join(f"{k}={v}" for k, v in getattr(r, "group", {}).items())
        labels.append(f"{r.response}" + (f" ({where})" if where else "") + f": {detail(r)}")
    more = f" and {len(results) - NAMED_FITS} more" if len(results) > NAMED_FITS else ""
    return "; ".join(labels) + more
