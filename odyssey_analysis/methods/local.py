"""Local importance: which hyperparameters matter among the good runs.

The global fANOVA asks how much of the whole variation of a response each
hyperparameter explains, and a hyperparameter that separates the terrible runs from
the rest can dominate it while it hardly matters once a run is reasonable. The paper's
"reasonable tuning effort" question is the local one: within the best runs, what still
matters? :class:`LocalFanovaMethod` answers it as Hutter, Hoos and Leyton-Brown (2014,
§4.3) do: the surrogate's predictions are capped at the response's value at the
``top_quantile`` of the trials (values worse than the cap count as the cap), so only the
differences inside the good region are shared out. (PED-ANOVA, Optuna's default, asks a
related question with Parzen estimates of the top quantile; this method keeps the exact
decomposition, its pairs and its curves.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np

from ..errors import InputError
from ..params import Interval, ParameterError, check
from ..result import FanovaResult
from ..space import SearchSpace
from ..trials import DIRECTION_SETTINGS, declare_direction
from .fanova import CONSTANT_WARNING, FanovaMethod


@dataclass(frozen=True)
class LocalFanovaMethod(FanovaMethod):
    """Exact fANOVA of the response capped at the value of its best ``top_quantile``.

    Takes the settings of :class:`~odyssey_analysis.methods.FanovaMethod` (surrogate,
    pairs, curves, ...) and one more; its cutoffs are this method's own.

    Parameters
    ----------
    top_quantile
        The share of trials that counts as good, in (0, 1): 0.25 asks what matters
        within the best quarter of the runs.
    """

    top_quantile: float = 0.25

    name = "local"
    needs_direction = True

    def __post_init__(self) -> None:
        super().__post_init__()
        check("top_quantile", self.top_quantile, [Interval(Real, 0, 1, closed="neither")])
        if self.cutoffs is not None or self.cutoff_quantiles is not None:
            given = "cutoffs" if self.cutoffs is not None else "cutoff_quantiles"
            raise ParameterError(f"the local method sets its own cutoff; give no {{{given}}}",
                                 parameters=(given,))

    def to_dict(self) -> dict[str, Any]:
        """The method's settings, JSON-ready."""
        return {**super().to_dict(), "name": self.name, "top_quantile": self.top_quantile}

    def _cutoffs(self, y: np.ndarray, direction: str | None) -> tuple[float, float]:
        """Clamp at the good runs' threshold: values worse than it count as it."""
        if direction == "minimize":
            cutoffs = (float(y.min()), float(np.quantile(y, self.top_quantile)))
        else:
            cutoffs = (float(np.quantile(y, 1.0 - self.top_quantile)), float(y.max()))
        # Where the best runs all reach the same value the two are equal: the capped
        # response is constant, and its fractions are undefined (said in fit()).
        return cutoffs

    def fit(self, x: np.ndarray, y: np.ndarray, space: SearchSpace, *,
            group: Mapping[str, Any] | None = None, response: str = "response",
            rows_excluded: Mapping[str, int] | None = None,
            direction: str | None = None) -> FanovaResult:
        """Fit and decompose with predictions capped at the good runs' threshold.

        Parameters
        ----------
        direction
            ``"minimize"`` or ``"maximize"``: which runs are the good ones.

        Raises
        ------
        InputError
            When the direction is not known.
        """
        if direction not in ("minimize", "maximize"):
            raise InputError("local importance needs to know whether larger or smaller "
                             "values are better", column=response,
                             hint=declare_direction(response),
                             parameters=DIRECTION_SETTINGS)
        result = super().fit(x, y, space, group=group, response=response,
                             rows_excluded=rows_excluded, direction=direction)
        lo, hi = result.fit.cutoffs or (np.nan, np.nan)
        cap = hi if direction == "minimize" else lo
        result.fit.method = {"name": self.name, "top_quantile": self.top_quantile,
                                "cap": cap, "better": direction}
        constant = [w for w in result.warnings if w.startswith(CONSTANT_WARNING)]
        if constant:  # the response varies; only the good runs are all alike
            result.warnings[result.warnings.index(constant[0])] = (
                f"the best {100 * self.top_quantile:g} % of the runs all reach {cap:g}: "
                "nothing varies among the good runs, so local fractions are undefined "
                "(try a larger --top-quantile)")
        return result
