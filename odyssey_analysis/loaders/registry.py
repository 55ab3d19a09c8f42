"""The source formats other than plain tables, each in a module of its own.

Each module listed in :data:`FORMAT_MODULES` defines ``FORMAT``, a
:class:`~odyssey_analysis.loaders.base.SourceFormat`. They are imported the first time a
source's format is detected (their optional libraries only when a reader runs).
"""

from __future__ import annotations

import functools
import importlib

from .base import SourceFormat

#: Modules of ``odyssey_analysis.loaders`` that hold a source format. Their detectors do
#: not overlap, so the order of detection does not matter.
FORMAT_MODULES = ("amltk", "bohb", "deepcave", "deepcave_dataframe", "mlflow", "optuna",
                  "optuna_frame", "raytune", "smac", "wandb")


@functools.cache
def source_formats() -> dict[str, SourceFormat]:
    """Every source format by name."""
    formats = {}
    for module in FORMAT_MODULES:
        fmt = importlib.import_module(f"{__package__}.{module}").FORMAT
        formats[fmt.name] = fmt
    return formats
