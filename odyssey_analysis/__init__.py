"""odyssey_analysis: the analysis of "LSTM: A Search Space Odyssey" for any sweep.

Functional ANOVA on random-forest surrogates (exact for the fitted forest, integrated
under the measure the trials were sampled from), variant comparison, and the paper's
figures and tables.
"""

from . import presets
from .errors import InputError
from .loaders import load_trials
from .methods import FanovaMethod, ImportanceMethod
from .result import FanovaResult, Marginal, PairGrid, StudyResult
from .space import Hyperparameter, SearchSpace
from .study import analyze, decompose_forest, fit_and_decompose
from .surrogate import ForestSettings, RandomForestSurrogate, Surrogate
from .trials import TrialTable

__version__ = "0.1.0"

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
