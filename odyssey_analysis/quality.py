"""How good a surrogate fit is, and when to warn about it (one rule for every output)."""

from __future__ import annotations

import math

#: Out-of-bag R² below this earns a warning: the surrogate predicts unseen trials poorly,
#: so its decomposition says little about the real response.
LOW_OOB_R2 = 0.5


def low_oob_r2(r2: float | None) -> bool:
    """Whether an out-of-bag R² is known and below :data:`LOW_OOB_R2`."""
    return r2 is not None and math.isfinite(r2) and r2 < LOW_OOB_R2


def format_r2(r2: float | None) -> str:
    """An R² with two decimals, or ``–`` when it is unknown."""
    return "–" if r2 is None or not math.isfinite(r2) else f"{r2:.2f}"
