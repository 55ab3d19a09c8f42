"""Importance methods behind one seam (:mod:`.base`), one module each.

* :class:`FanovaMethod` (``"fanova"``, the default): the exact functional ANOVA of a
  forest surrogate's trees.
"""

from .base import ImportanceMethod, ImportanceResult
from .fanova import FanovaMethod

#: Methods by the name ``analyze(method=...)`` and ``--method`` accept.
METHODS: dict[str, type] = {"fanova": FanovaMethod}

__all__ = ["METHODS", "FanovaMethod", "ImportanceMethod", "ImportanceResult"]
