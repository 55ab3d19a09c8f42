"""Importance methods behind one seam (:mod:`.base`), one module each.

* :class:`FanovaMethod` (``"fanova"``, the default): the exact functional ANOVA of a
  forest surrogate.
* :class:`LocalFanovaMethod` (``"local"``): the same, among the good runs only (the
  response capped at the value of its best ``top_quantile``).
"""

from .base import ImportanceMethod, ImportanceResult
from .fanova import FanovaMethod
from .local import LocalFanovaMethod
from .options import METHODS, method_from_options

__all__ = ["METHODS", "FanovaMethod", "ImportanceMethod", "ImportanceResult",
           "LocalFanovaMethod", "method_from_options"]
