"""odyssey_analysis: the analysis of "LSTM: A Search Space Odyssey" for any sweep.

Functional ANOVA on random-forest surrogates (exact for the fitted forest, integrated
under the measure the trials were sampled from), variant comparison, and the paper's
figures and tables.

The public names below are imported on first use (PEP 562), so ``import
odyssey_analysis`` is quick and loading trials never imports scikit-learn, Numba or
matplotlib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS = {
    "FanovaMethod": ".methods",
    "FanovaResult": ".result",
    "ForestSettings": ".surrogate",
    "ImportanceMethod": ".methods",
    "Hyperparameter": ".space",
    "InputError": ".errors",
    "Marginal": ".result",
    "PairGrid": ".result",
    "RandomForestSurrogate": ".surrogate",
    "SearchSpace": ".space",
    "StudyResult": ".result",
    "Surrogate": ".surrogate",
    "TrialTable": ".trials",
    "analyze": ".study",
    "decompose_forest": ".study",
    "fit_and_decompose": ".study",
    "load_trials": ".loaders",
}
_SUBMODULES = {"presets"}

__all__ = [
    "FanovaMethod",
    "FanovaResult",
    "ForestSettings",
    "ImportanceMethod",
    "Hyperparameter",
    "InputError",
    "Marginal",
    "PairGrid",
    "RandomForestSurrogate",
    "SearchSpace",
    "StudyResult",
    "Surrogate",
    "TrialTable",
    "analyze",
    "decompose_forest",
    "fit_and_decompose",
    "load_trials",
    "presets",
]

if TYPE_CHECKING:
    from . import presets
    from .errors import InputError
    from .loaders import load_trials
    from .methods import FanovaMethod, ImportanceMethod
    from .result import FanovaResult, Marginal, PairGrid, StudyResult
    from .space import Hyperparameter, SearchSpace
    from .study import analyze, decompose_forest, fit_and_decompose
    from .surrogate import ForestSettings, RandomForestSurrogate, Surrogate
    from .trials import TrialTable


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
