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
    """
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
