"""Which column plays which role, when the user has not said: the naming rules.

A trial table's columns are group keys, hyperparameters, responses, a status, a trial
id, or bookkeeping. Where neither the user nor the source names them, these rules
decide, and every reader and the table itself use the same ones.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the rules below import no numerical library themselves
    import pandas as pd

#: Status values that mean "the run finished and its metrics count".
FINISHED_STATUSES = frozenset({
    "ok", "complete", "completed", "finished", "success", "succeeded", "done", "sat",
    "trialstate.complete", "terminated",
})
#: Status values that mean "the run diverged" (handled by the diverged policy).
DIVERGED_STATUSES = frozenset({"diverged", "nan", "inf"})
#: Status values of a run that failed: crashed, timed out, ran out of memory, was aborted
#: (handled by the crashed policy).
FAILED_STATUSES = frozenset({
    "crashed", "crash", "failed", "fail", "error", "errored", "timeout", "timed out",
    "memoryout", "out of memory", "aborted", "trialstate.fail",
})

#: Columns kept when a loader reads only the columns that play a role: the variant
#: comparison and its figure use them where they exist.
AUXILIARY_COLUMNS = ("n_params", "num_params", "metric", "seed", "epochs", "diverged")
#: Column names treated as group keys when none are given (the paper's).
DEFAULT_GROUP_KEYS = ("task", "variant")
#: Column names taken as the status, in this order of preference.
STATUS_COLUMNS = ("status", "state")
#: Column names taken as the trial id, in this order of preference.
ID_COLUMNS = ("trial_id", "run_id", "id", "trial", "number")
_RESPONSE_NAME = re.compile(
    r"(error|loss|acc|accuracy|score|metric|nll|perplexity|cost|objective|value|"
    r"train_time|training_time|runtime|wall_time|f1|auc|rmse|mse|mae)", re.IGNORECASE)


#: Kinds of bookkeeping column, as :func:`bookkeeping_kind` names them.
ID, TIMESTAMP, SEED, BUDGET, DURATION, PROGRESS, EMPTY, ROW_INDEX, RECORD = (
    "id", "timestamp", "seed", "budget", "duration", "progress counter", "empty",
    "row index", "run record")
_ID_WORDS = frozenset({"id", "ids", "uuid", "guid", "idx", "hash"})
_ID_NAMES = frozenset({"trial", "trial_index", "run", "run_name", "index", "number", "name",
                       "trial_name", "experiment_tag", "config", "configuration", "uuid"})
_TIME_WORDS = frozenset({"start", "end", "started", "ended", "finished", "completed",
                         "complete", "created", "updated", "submitted"})
_CLOCK_WORDS = frozenset({"time", "at", "timestamp", "datetime", "date", "ts", "stamp"})
_TIME_JOINED = frozenset({"starttime", "endtime", "timestamp", "datetime", "createdat",
                          "updatedat", "timestart", "timeend", "timestamps", "date",
                          "timestarted", "timefinished"})
_DURATION_NAMES = frozenset({"duration", "elapsed", "time_this_iter_s", "time_total_s",
                             "time_since_restore", "elapsed_time", "duration_s",
                             "walltime_s", "time_elapsed"})
_PROGRESS_NAMES = frozenset({"epochs", "epoch", "iteration", "iterations", "step", "steps",
                             "training_iteration", "iterations_since_restore"})
_RECORD_NAMES = frozenset({"n_params", "num_params", "params", "diverged", "metric", "status",
                           "state", "notes", "origin", "additional", "additional_info",
                           "instance", "hostname", "node_ip", "pid", "logdir", "path",
                           "done", "config_origin", "message", "tags"})
_PLACEHOLDER = re.compile(r"^Unnamed: \d+(\.\d+)?$")


def bookkeeping_kind(name: str, values: pd.Series | None = None) -> str | None:
    """Which kind of bookkeeping a column is (never a hyperparameter or a response unless
    the user names it so), or ``None`` for a column that may be either.

    The rules, on the name's words (``startTime`` -> ``start``, ``time``) and, where
    given, on the values:

    * ``id``: ``trial``, ``run``, ``number``, ``index``, ``name``, ..., or a name whose
      last word is ``id``, ``uuid``, ``idx`` or ``hash`` (``config_id``, ``runId``);
    * ``timestamp``: start, end, finished, ... alone or with a clock word (time, at,
      date), or timestamp, datetime (``start_time``, ``datetime_complete``,
      ``created_at``; not ``end_learning_rate``);
    * ``seed``: a word ``seed`` (``seed``, ``data_seed``) or ``random_state``;
    * ``budget``: a word ``budget`` or ``fidelity`` (a multi-fidelity run's budget);
    * ``duration``: ``duration``, ``elapsed``, Ray Tune's ``time_total_s``, ...;
    * ``progress counter``: ``epoch(s)``, ``iteration(s)``, ``step(s)``;
    * ``run record``: status, notes, origin, DeepCAVE's ``additional``, SMAC's
      ``instance``, host and process fields, ...;
    * ``row index``: pandas' placeholder name for a nameless column (``Unnamed: 0``);
    * ``empty``: a column with no value at all (needs ``values``).
    """
    text = str(name)
    lower = text.lower()
    words = name_words(text)
    joined = lower.replace("_", "").replace("-", "").replace(" ", "")
    if values is not None and len(values) and values.isna().all():
        return EMPTY
    if _PLACEHOLDER.match(text):
        return ROW_INDEX
    if lower in _RECORD_NAMES:
        return RECORD
    if lower in _ID_NAMES or (words and words[-1] in _ID_WORDS):
        return ID
    if "seed" in words or lower in ("random_state", "rng"):
        return SEED
    if {"budget", "fidelity"} & set(words):
        return BUDGET
    if lower in _DURATION_NAMES:
        return DURATION
    if lower in _PROGRESS_NAMES:
        return PROGRESS
    if joined in _TIME_JOINED or lower in _TIME_WORDS or (
            set(words) & _TIME_WORDS and set(words) & _CLOCK_WORDS) or (
            {"timestamp", "datetime"} & set(words)):
        return TIMESTAMP
    return None


def is_bookkeeping(name: str) -> bool:
    """Whether a column name is bookkeeping (ids, seeds, timestamps, ...), case-blind."""
    return bookkeeping_kind(name) is not None


def has_response_name(name: str) -> bool:
    """Whether a column name looks like a metric (error, loss, accuracy, time, ...)."""
    return bool(_RESPONSE_NAME.search(str(name)))


def looks_like_response(name: str, values: pd.Series) -> bool:
    """A metric-like name on a column that mostly holds numbers."""
    from .numeric import mostly_numeric

    return has_response_name(name) and mostly_numeric(values)


def first_present(candidates: tuple[str, ...], columns: list[str]) -> str | None:
    """The first of ``candidates`` that is one of ``columns``."""
    return next((c for c in candidates if c in columns), None)


# -- which way is better ------------------------------------------------------------------

MINIMIZE = "minimize"
MAXIMIZE = "maximize"
DIRECTIONS = (MINIMIZE, MAXIMIZE)

#: Name parts of metrics where larger is better.
MAXIMIZED_WORDS = frozenset({
    "accuracy", "acc", "auc", "auroc", "auprc", "roc", "f1", "fscore", "precision", "recall",
    "r2", "score", "reward", "return", "bleu", "rouge", "meteor", "map", "ap", "iou", "miou",
    "dice", "psnr", "ssim", "kappa", "mcc", "likelihood", "loglik", "ll", "elbo", "gain",
    "ndcg", "mrr", "hit", "hits", "throughput", "sharpe", "coverage", "correct",
})
#: Name parts of metrics where smaller is better.
MINIMIZED_WORDS = frozenset({
    "loss", "error", "err", "errors", "nll", "perplexity", "ppl", "mse", "rmse", "mae", "mape",
    "time", "runtime", "walltime", "duration", "seconds", "latency", "cost", "regret", "wer",
    "cer", "ter", "risk", "distance", "divergence", "kl", "fid", "bpd", "bpc", "energy",
    "memory", "misclassification", "brier", "hinge", "deviance", "residual",
})
_WORD = re.compile(r"[A-Za-z]+[0-9]*|[0-9]+")


_NEGATION = frozenset({"neg", "negative", "minus"})
_STATED_DIRECTION = re.compile(r"\((maximi[sz]e|minimi[sz]e)\)\s*$", re.IGNORECASE)


def name_words(name: str) -> list[str]:
    """The lower-case words of a column name (``valLoss`` -> ``val``, ``loss``).

    A word that ends in digits also counts without them (``bleu4`` -> ``bleu``).
    """
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(name))
    words = []
    for w in _WORD.findall(spaced):
        w = w.lower()
        words.append(w)
        stem = w.rstrip("0123456789")
        if stem and stem != w:
            words.append(stem)
    return words


def direction_from_name(name: str) -> str | None:
    """``maximize`` or ``minimize`` when a metric's name tells, else ``None``.

    The name is split into words (``test_acc`` -> ``test``, ``acc``); words such as
    accuracy, auc, f1, score, reward, bleu say larger is better, words such as loss,
    error, nll, perplexity, mse, time say smaller is better; ``neg``/``negative`` turns
    the direction round (``neg_log_likelihood``, scikit-learn's ``neg_mean_squared_error``).
    A name with words of both kinds (``error_reward``), or of neither, does not tell.
    A name that ends in ``(maximize)`` or ``(minimize)`` (DeepCAVE's and AMLTK's
    objective columns) says it outright.
    """
    stated = _STATED_DIRECTION.search(str(name))
    if stated:  # DeepCAVE's and AMLTK's "metric:acc [0; 1] (maximize)"
        return MAXIMIZE if stated.group(1).lower().startswith("maxim") else MINIMIZE
    words = set(name_words(name))
    joined = str(name).lower().replace("_", "").replace("-", "")
    if joined in MAXIMIZED_WORDS:
        words.add(joined)
    elif joined in MINIMIZED_WORDS:
        words.add(joined)
    up = bool(words & MAXIMIZED_WORDS)
    down = bool(words & MINIMIZED_WORDS)
    if words & _NEGATION:
        up, down = down, up
    if up and not down:
        return MAXIMIZE
    if down and not up:
        return MINIMIZE
    return None


def better_word(direction: str | None) -> str:
    """``lower is better``, ``higher is better`` or ``better: unknown``."""
    if direction == MAXIMIZE:
        return "higher is better"
    if direction == MINIMIZE:
        return "lower is better"
    return "direction unknown"
