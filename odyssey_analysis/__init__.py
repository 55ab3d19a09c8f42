"""odyssey_analysis: the analysis of "LSTM: A Search Space Odyssey" for any sweep.

Functional ANOVA on random-forest surrogates (exact for the fitted forest, integrated
under the measure the trials were sampled from), variant comparison, and the paper's
figures and tables.

The public names below are imported on first use (PEP 562), so ``import
odyssey_analysis`` is quick and loading trials never imports scikit-learn, Numba or
matplotlib.
"""

from __future__ import annotations

import importlib as _importlib
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS = {
    "FanovaMethod": ".methods",
    "FanovaResult": ".result",
    "FitInfo": ".result",
    "ForestSettings": ".surrogate",
    "Hyperparameter": ".space",
    "ImportanceMethod": ".methods",
    "InputError": ".errors",
    "LocalFanovaMethod": ".methods",
    "Marginal": ".result",
    "PairGrid": ".result",
    "ParameterError": ".params",
    "RandomForestSurrogate": ".surrogate",
    "SearchSpace": ".space",
    "Share": ".result",
    "StudyResult": ".result",
    "Surrogate": ".surrogate",
    "TrialTable": ".trials",
    "analyze": ".study",
    "build_report": ".report",
    "compare_variants": ".compare",
    "decompose_forest": ".study",
    "fit_and_decompose": ".study",
    "load_trials": ".loaders",
    "method_from_options": ".methods",
}
_SUBMODULES = {"presets", "testing"}

__all__ = [
    "FanovaMethod",
    "FanovaResult",
    "FitInfo",
    "ForestSettings",
    "Hyperparameter",
    "ImportanceMethod",
    "InputError",
    "LocalFanovaMethod",
    "Marginal",
    "PairGrid",
    "ParameterError",
    "RandomForestSurrogate",
    "SearchSpace",
    "Share",
    "StudyResult",
    "Surrogate",
    "TrialTable",
    "analyze",
    "build_report",
    "compare_variants",
    "decompose_forest",
    "fit_and_decompose",
    "load_trials",
    "method_from_options",
    "presets",
    "testing",
]

if _TYPE_CHECKING:
    from . import presets, testing
    from .compare import compare_variants
    from .errors import InputError
    from .loaders import load_trials
    from .methods import FanovaMethod, ImportanceMethod, LocalFanovaMethod, method_from_options
    from .params import ParameterError
    from .report import build_report
    from .result import FanovaResult, FitInfo, Marginal, PairGrid, Share, StudyResult
    from .space import Hyperparameter, SearchSpace
    from .study import analyze, decompose_forest, fit_and_decompose
    from .surrogate import ForestSettings, RandomForestSurrogate, Surrogate
    from .trials import TrialTable


def __getattr__(name: str) -> _Any:
    if name in _EXPORTS:
        value = getattr(_importlib.import_module(_EXPORTS[name], __name__), name)
    elif name in _SUBMODULES:
        value = _importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return [*__all__, "__version__"]
