"""The seam between a study and the ways of measuring importance.

An importance method takes one group's encoded trials and returns a result that can
describe itself as the long importance table and as JSON; :func:`~odyssey_analysis.
study.analyze` runs one per group and response, in parallel, and never looks inside.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ..space import SearchSpace


@runtime_checkable
class ImportanceResult(Protocol):
    """What every method's result offers (see :class:`~odyssey_analysis.result.FanovaResult`).

    Attributes
    ----------
    group, response, n_trials
        Which fit this is and how many trials it used.
    """

    group: dict[str, Any]
    response: str
    n_trials: int

    def importance_table(self) -> pd.DataFrame:
        """One row per effect, in the columns of ``importance.csv`` after the group keys."""
        ...

    def to_dict(self, *, curves: bool = False) -> dict[str, Any]:
        """A JSON-ready summary (one entry of ``analysis.json``'s ``fits``); ``curves``
        asks for the curves too, where the method has any."""
        ...


@runtime_checkable
class ImportanceMethod(Protocol):
    """A way to measure how much each hyperparameter matters in one group's trials.

    A method may also set ``needs_direction = True`` (the study then insists that every
    response's direction is known) and ``trees_per_fit`` (the work a fit costs, for
    deciding where fits run). :func:`odyssey_analysis.testing.check_importance_method`
    checks a method against this contract.

    Attributes
    ----------
    name
        A short name recorded in ``analysis.json`` (e.g. ``"fanova"``).
    """

    name: str

    def fit(self, x: np.ndarray, y: np.ndarray, space: SearchSpace, *,
            group: Mapping[str, Any] | None = None, response: str = "response",
            rows_excluded: Mapping[str, int] | None = None,
            direction: str | None = None) -> ImportanceResult:
        """Measure importance from ``(n, d)`` inputs encoded by ``space`` and ``(n,)``
        finite responses; ``direction`` (``"minimize"``, ``"maximize"`` or ``None``
        when unknown) says which values are better."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """The method's settings, JSON-ready."""
        ...
