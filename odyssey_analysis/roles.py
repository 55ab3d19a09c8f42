"""Which column plays which role, when the user has not said: the naming rules.

A trial table's columns are group keys, hyperparameters, responses, a status, a trial
id, or bookkeeping. Where neither the user nor the source names them, these rules
decide, and every reader and the table itself use the same ones.
"""

from __future__ import annotations

import re

import pandas as pd

from .numeric import mostly_numeric

#: Status values that mean "the run finished and its metrics count".
FINISHED_STATUSES = frozenset({
    "ok", "complete", "completed", "finished", "success", "succeeded", "done", "sat",
    "trialstate.complete", "terminated",
})
#: Status values that mean "the run diverged" (handled by the diverged policy).
DIVERGED_STATUSES = frozenset({"diverged", "nan", "inf"})

#: Columns kept when a loader reads only the columns that play a role: the variant
#: comparison and its figure use them where they exist.
AUXILIARY_COLUMNS = ("n_params", "num_params", "metric", "seed", "epochs", "diverged")
#: Column names treated as group keys when none are given (the paper's).
DEFAULT_GROUP_KEYS = ("task", "variant")
#: Column names taken as the status, in this order of preference.
STATUS_COLUMNS = ("status", "state")
#: Column names taken as the trial id, in this order of preference.
ID_COLUMNS = ("trial_id", "run_id", "id", "trial", "number")
#: Columns that are never hyperparameters or responses unless asked for explicitly.
BOOKKEEPING = frozenset({
    "trial", "trial_id", "trial_index", "id", "run", "run_id", "run_name", "index", "number",
    "seed", "epochs", "epoch", "n_params", "num_params", "params", "diverged", "metric",
    "status", "state", "start", "end", "started", "finished", "datetime_start",
    "datetime_complete", "duration", "timestamp", "budget", "iteration", "iterations",
    "step", "steps", "name", "notes", "origin", "date", "time_stamp",
})
_RESPONSE_NAME = re.compile(
    r"(error|loss|acc|accuracy|score|metric|nll|perplexity|cost|objective|value|"
    r"train_time|training_time|runtime|wall_time|f1|auc|rmse|mse|mae)", re.IGNORECASE)


def is_bookkeeping(name: str) -> bool:
    """Whether a column name is bookkeeping (ids, seeds, timestamps, ...), case-blind."""
    return str(name).lower() in BOOKKEEPING


def has_response_name(name: str) -> bool:
    """Whether a column name looks like a metric (error, loss, accuracy, time, ...)."""
    return bool(_RESPONSE_NAME.search(str(name)))


def looks_like_response(name: str, values: pd.Series) -> bool:
    """A metric-like name on a column that mostly holds numbers."""
    return has_response_name(name) and mostly_numeric(values)


def first_present(candidates: tuple[str, ...], columns: list[str]) -> str | None:
    """The first of ``candidates`` that is one of ``columns``."""
    return next((c for c in candidates if c in columns), None)
