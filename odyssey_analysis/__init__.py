"""odyssey_analysis: the analysis of "LSTM: A Search Space Odyssey" for any sweep.

Functional ANOVA on random-forest surrogates (exact for the fitted forest, integrated
under the measure the trials were sampled from), variant comparison, and the paper's
figures and tables.
"""

from .errors import InputError
from .loaders import load_trials
from .space import Hyperparameter, SearchSpace
from .trials import TrialTable

__version__ = "0.1.0"

__all__ = [
    "Hyperparameter",
    "InputError",
    "SearchSpace",
    "TrialTable",
    "load_trials",
]
