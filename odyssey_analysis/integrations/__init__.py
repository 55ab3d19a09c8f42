"""Integrations with other tools, one module each, imported only when asked for.

* :mod:`odyssey_analysis.integrations.optuna`: an Optuna importance evaluator backed
  by the exact decomposition, and the in-memory study loader (needs
  ``pip install 'odyssey-analysis[optuna]'``).
"""
