"""Search spaces and the encoding in which the variance decomposition integrates.

* :mod:`.model`: :class:`Hyperparameter` and :class:`SearchSpace`, each hyperparameter's
  sampling distribution and the encoding (its CDF) that makes it uniform on [0, 1];
* :mod:`.readers`: our YAML/JSON spec, ConfigSpace objects and JSON files;
* :mod:`.validate`: checking a table's values against a space;
* :mod:`.infer`: guessing a space from the data (printed so the user can confirm it).
"""

from .model import DISCRETE_KINDS, KINDS, SCALES, Hyperparameter, SearchSpace

__all__ = ["DISCRETE_KINDS", "KINDS", "SCALES", "Hyperparameter", "SearchSpace"]
