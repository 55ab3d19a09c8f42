"""Variant comparison: each model variant against a reference, per task (Fig. 3).

For every task, each variant's metric is compared with the reference variant's (the
vanilla LSTM, ``V``, in the paper) by Welch's t-test (unequal variances), twice:

* over the best runs only: the top fraction of each variant's trials chosen by a
  selection metric (the validation error; lowest first unless ``maximize``). This is
  the test that decides ``p_value``, ``significant`` and ``direction``, the columns
  the figure highlights;
* over all trials (``p_value_all``, ``significant_all``, ``direction_all``).

No correction for multiple comparisons is applied unless asked for (``holm=True``,
Holm's step-down method within each task), as in the paper.

:func:`compare` returns a :class:`Comparison`: the table of tests
(:func:`compare_variants` returns just that table, the contract of ``comparison.csv``)
and the very trials each test used, so the figure draws what was tested.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError
from .numeric import read_numbers
from .ordering import (
    PAPER_TASK_ORDER,
    PAPER_VARIANT_ORDER,
    GroupOrder,
    order_tasks,
    order_variants,
)
from .roles import MAXIMIZE, MINIMIZE, direction_from_name
from .trials import TrialTable

#: The first columns of ``comparison.csv`` after the task column(s) (its contract).
CONTRACT_COLUMNS = ("variant", "n", "mean", "median", "std", "top_n", "top_mean",
                    "p_value", "significant", "direction")


def top_count(n: int, top_fraction: float) -> int:
    """How many of ``n`` trials form the top fraction (at least one when ``n > 0``)."""
    if n <= 0:
        return 0
    return max(1, min(n, math.ceil(top_fraction * n - 1e-9)))


def top_trials(
    frame: pd.DataFrame,
    select_by: str,
    top_fraction: float = 0.1,
    by: Sequence[str] = (),
    maximize: bool = False,
) -> pd.DataFrame:
    """The best ``top_fraction`` of the rows of each group, ranked by ``select_by``.

    Parameters
    ----------
    frame
        Trials (rows with a non-finite ``select_by`` are never selected).
    select_by
        Column that ranks the trials (e.g. the validation error).
    top_fraction
        Share of each group's trials to keep, in (0, 1]; at least one is kept.
    by
        Group columns (e.g. task and variant); empty for one group.
    maximize
        Rank the largest values first.

    Returns
    -------
    pandas.DataFrame
        The selected rows, in their original order within each group. Ties are broken
        by row order (a stable sort), so the selection is deterministic.
    """
    _check_fraction(top_fraction)
    if frame.empty:
        return frame
    groups = [((), frame)] if not by else frame.groupby(list(by), sort=False, observed=True)
    picked = []
    for _, rows in groups:
        score = pd.to_numeric(rows[select_by], errors="coerce").to_numpy(dtype=float)
        finite = np.isfinite(score)
        k = top_count(int(finite.sum()), top_fraction)
        if k == 0:
            continue
        key = np.where(finite, -score if maximize else score, np.inf)
        order = np.argsort(key, kind="stable")[:k]
        picked.append(rows.iloc[np.sort(order)])
    if not picked:
        return frame.iloc[:0]
    return pd.concat(picked)


@dataclass(frozen=True)
class Comparison:
    """The variant comparison and the trials it was computed from.

    Attributes
    ----------
    table
        One row per task and variant: the tests (the ``comparison.csv`` contract; see
        :func:`compare_variants`).
    trials
        Every compared trial (finite metric and selection value): the source's columns
        plus ``_task``, ``_variant`` and ``_top`` (whether it is among its variant's top
        runs). The figure draws these rows, so it shows exactly what was tested.
    metric, select_by, top_fraction, reference, alpha, holm
        The settings of the tests.
    task_keys
        The columns that together make a task (empty: one task, ``"all"``).
    variant_key
        The variant column.
    maximize, select_maximize
        Whether larger metric values are better, and whether the top runs are the
        largest values of ``select_by``.
    """

    table: pd.DataFrame
    trials: pd.DataFrame
    metric: str
    select_by: str
    top_fraction: float
    reference: Any
    task_keys: tuple[str, ...]
    variant_key: str
    alpha: float
    holm: bool
    maximize: bool
    select_maximize: bool

    @property
    def direction(self) -> str:
        """The metric's direction: ``"maximize"`` or ``"minimize"``."""
        return MAXIMIZE if self.maximize else MINIMIZE

    @property
    def task_key(self) -> str | None:
        """The task column when one column makes the task (else ``None``)."""
        return self.task_keys[0] if len(self.task_keys) == 1 else None

    @property
    def tasks(self) -> list:
        """The tasks in the table's order: values, or tuples of values for several keys."""
        if not self.task_keys:
            return ["all"]
        return list(dict.fromkeys(_task_labels(self.table, self.task_keys)))

    def rows(self, task: Any, *, top: bool = False) -> pd.DataFrame:
        """The compared trials of one task: all of them, or only the top runs."""
        rows = self.trials[_matches(self.trials["_task"], task)]
        return rows[rows["_top"]] if top else rows

    def tests(self, task: Any) -> pd.DataFrame:
        """The table's rows of one task, indexed by variant."""
        if not self.task_keys:
            return self.table.set_index("variant")
        labels = pd.Series(_task_labels(self.table, self.task_keys), index=self.table.index)
        return self.table[_matches(labels, task)].set_index("variant")

    def task_text(self, task: Any) -> str:
        """A task as text for titles: ``speech`` or ``speech, optimizer adam``."""
        if len(self.task_keys) <= 1:
            return str(task)
        first, *rest = zip(self.task_keys, task)
        return ", ".join([str(first[1]), *(f"{k} {v}" for k, v in rest)])


def _roles(table_or_frame: TrialTable | pd.DataFrame, metric: str | None,
           select_by: str | None, reference: object, task_key: str | Sequence[str] | None,
           variant_key: str | None, params_column: str | None) -> tuple[Any, ...]:
    """The roles left at ``None``, chosen as the command line chooses them."""
    from .choices import choose, table_of

    table = table_of(table_or_frame)  # a plain frame: the naming rules alone
    one_task = task_key is not None and not isinstance(task_key, str)
    choices = choose(table, task_key=task_key if isinstance(task_key, str) else None,
                     variant_key=variant_key, reference=reference, metric=metric,
                     select_by=select_by, params=params_column, with_time=False)
    if choices.variant_key is None:
        raise InputError("no variant column to compare", file=table.source,
                         hint="name it with {variant_key:'COLUMN'}",
                         parameters=("variant_key",))
    tasks = task_key if one_task else (choices.task_keys or ())
    return (choices.metric, choices.select_by, choices.reference, tasks, choices.variant_key,
            choices.params)


def compare_variants(table_or_frame: TrialTable | pd.DataFrame, *args: Any,
                     **kwargs: Any) -> pd.DataFrame:
    """The table of :func:`compare`: each variant against the reference, per task.

    Takes the parameters of :func:`compare`.

    Returns
    -------
    pandas.DataFrame
        One row per task (the paper's order, then as they appear) and variant
        (reference first, then the paper's order). The
        columns start with ``<task_key>, variant, n, mean, median, std, top_n,
        top_mean, p_value, significant, direction`` (the top-runs test), followed by
        ``top_median, top_std, p_value_all, significant_all, direction_all, delta,
        top_delta, top_params_mean, params_mean, reference, metric, select_by,
        note``. ``direction`` says whether the variant's mean is ``better`` or
        ``worse`` than the reference's (whether or not the difference is
        significant); it is ``reference`` on the reference row, whose p-values are
        NaN. A test that cannot be run (fewer than two trials on a side) gives a NaN
        p-value and says why in ``note``.
    """
    return compare(table_or_frame, *args, **kwargs).table


def compare(
    table_or_frame: TrialTable | pd.DataFrame,
    metric: str | None = None,
    select_by: str | None = None,
    top_fraction: float = 0.1,
    reference: object = None,
    task_key: str | Sequence[str] | None = None,
    variant_key: str | None = None,
    alpha: float = 0.05,
    holm: bool = False,
    maximize: bool | None = None,
    params_column: str | None = None,
    select_maximize: bool | None = None,
) -> Comparison:
    """Compare each variant with the reference variant, per task.

    Parameters
    ----------
    table_or_frame
        A :class:`~odyssey_analysis.trials.TrialTable` (its analysed rows) or a plain
        DataFrame with one row per trial.
    metric, select_by, reference, task_key, variant_key, params_column
        The roles of the columns. Each left at ``None`` is taken from the table as the
        command line takes it (:func:`~odyssey_analysis.choices.choose`: the column
        spec, else the naming rules; a plain DataFrame by the naming rules alone).
    metric
        The column compared (e.g. ``test_error``; default: ``test_error``, else the first
        test metric, else the first response).
    select_by
        The column that ranks trials for the top fraction (default: the metric's
        validation twin, e.g. ``valid_error`` for ``test_error``, else the metric
        itself).
    top_fraction
        Share of each variant's trials that form its best runs, in (0, 1].
    reference
        The variant every other one is compared with (default: ``V`` where there is
        one, else the first variant).
    task_key
        Column of the task, or several columns that together make a task (e.g. the
        task and the optimizer: each combination is compared on its own); ``()``
        treats all rows as one task (default: a column named ``task``, else one task).
    variant_key
        Column of the variant (default: the column spec's, else ``variant``).
    alpha
        Significance level of the tests.
    holm
        Apply Holm's correction across the variants of each task (for each of the two
        tests separately). The uncorrected p-values are kept in ``p_value_raw`` and
        ``p_value_all_raw``.
    maximize
        Larger metric values are better (decides ``better`` and ``worse``). Default:
        the metric's direction in the table (declared, recorded by the source, or read
        from its name: accuracy is maximised, loss minimised); an error when unknown.
    params_column
        Column with each run's parameter count; its mean over the top runs is reported
        as ``top_params_mean`` (and over all runs as ``params_mean``) when present
        (default: ``n_params`` or a column named like it, where there is one).
    select_maximize
        The top runs are the largest values of ``select_by``. Default: the selection
        column's own direction, found as for ``maximize`` (the metric's when
        ``select_by`` is ``None``).

    Returns
    -------
    Comparison

    Raises
    ------
    InputError
        A missing column, a non-numeric metric, a bad fraction or level, or a task
        without the reference variant.
    """
    if isinstance(table_or_frame, TrialTable):
        frame, source = table_or_frame.frame, table_or_frame.source
    elif isinstance(table_or_frame, pd.DataFrame):
        frame, source = table_or_frame, None
    else:
        raise TypeError("compare_variants needs a TrialTable or a pandas DataFrame")
    if None in (metric, select_by, reference, task_key, variant_key, params_column):
        metric, select_by, reference, task_key, variant_key, params_column = _roles(
            table_or_frame, metric, select_by, reference, task_key, variant_key,
            params_column)
    assert metric is not None and variant_key is not None and select_by is not None
    _check_fraction(top_fraction)
    if not 0.0 < alpha < 1.0:
        raise InputError(f"significance level must be in (0, 1), got {alpha:g}")
    select = select_by
    task_keys = ([] if task_key is None else [task_key] if isinstance(task_key, str)
                 else list(task_key))
    needed = [*task_keys, variant_key, metric, select]
    for col in dict.fromkeys(needed):
        if col not in frame.columns:
            raise InputError("column needed for the comparison is missing", file=source,
                             column=col,
                             hint=f"columns present: {', '.join(map(str, frame.columns))}")
    if frame.empty:
        raise InputError("no trials to compare", file=source)
    if maximize is None:
        maximize = _maximized(table_or_frame, metric, "comparing the variants")
    if select_maximize is not None:
        select_max = select_maximize
    elif select == metric:
        select_max = maximize
    else:
        select_max = _maximized(table_or_frame, select, "choosing the top runs")

    work = pd.DataFrame(index=frame.index)
    work["_task"] = (_task_labels(frame, task_keys) if task_keys else "all")
    work["_variant"] = frame[variant_key]
    for col in dict.fromkeys((metric, select)):
        work[col] = read_numbers(frame[col], source=source, column=col)
    has_params = params_column is not None and params_column in frame.columns
    if has_params:
        work["_params"] = pd.to_numeric(frame[params_column], errors="coerce")
    finite = np.isfinite(work[metric].to_numpy()) & np.isfinite(work[select].to_numpy())
    n_dropped = int((~finite).sum())
    work = work.loc[finite]
    work["_top"] = False

    rows = []
    seen = list(dict.fromkeys(t if len(task_keys) > 1 else (t,) for t in work["_task"]))
    tasks = (GroupOrder(task_keys, seen, task_key=task_keys[0], variant_key=None).sort(seen)
             if task_keys else [("all",)])
    tasks = [t if len(task_keys) > 1 else t[0] for t in tasks]
    for task in tasks:
        in_task = work[work["_task"] == task]
        variants = order_variants(in_task["_variant"].tolist(), reference)
        if reference not in variants:
            where = (f" for {', '.join(task_keys)} {task!r}" if task_keys else "")
            raise InputError(
                f"reference variant {reference!r} not found{where}", file=source,
                column=variant_key,
                hint="variants present: " + ", ".join(map(str, variants))
                + "; choose one with {reference}", parameters=("reference",))
        ref_all = in_task.loc[in_task["_variant"] == reference]
        ref_top = top_trials(ref_all, select, top_fraction, maximize=select_max)
        task_rows = []
        for variant in variants:
            sub = in_task.loc[in_task["_variant"] == variant]
            top = top_trials(sub, select, top_fraction, maximize=select_max)
            work.loc[top.index, "_top"] = True
            row: dict[str, Any] = _summary(sub[metric].to_numpy(), top[metric].to_numpy())
            row.update({"_task": task, "variant": variant})
            notes = []
            if variant == reference:
                row.update(p_value=np.nan, p_value_all=np.nan, direction="reference",
                           direction_all="reference")
            else:
                p_top, why_top = _welch(top[metric].to_numpy(), ref_top[metric].to_numpy())
                p_all, why_all = _welch(sub[metric].to_numpy(), ref_all[metric].to_numpy())
                row.update(p_value=p_top, p_value_all=p_all,
                           direction=_direction(row["top_mean"], _mean(ref_top[metric]),
                                                maximize),
                           direction_all=_direction(row["mean"], _mean(ref_all[metric]),
                                                    maximize))
                if why_top:
                    notes.append(f"top-runs test not run: {why_top}")
                if why_all and why_all != why_top:
                    notes.append(f"all-trials test not run: {why_all}")
            row["delta"] = row["mean"] - _mean(ref_all[metric])
            row["top_delta"] = row["top_mean"] - _mean(ref_top[metric])
            row["top_params_mean"] = _mean(top["_params"]) if has_params else np.nan
            row["params_mean"] = _mean(sub["_params"]) if has_params else np.nan
            row["note"] = "; ".join(notes)
            task_rows.append(row)
        if holm:
            for col in ("p_value", "p_value_all"):
                raw = np.array([r[col] for r in task_rows], dtype=float)
                adjusted = holm_adjust(raw)
                for r, p_raw, p_adj in zip(task_rows, raw, adjusted):
                    r[f"{col}_raw"] = p_raw
                    r[col] = p_adj
        for r in task_rows:
            r["significant"] = bool(np.isfinite(r["p_value"]) and r["p_value"] < alpha)
            r["significant_all"] = bool(np.isfinite(r["p_value_all"])
                                        and r["p_value_all"] < alpha)
        rows.extend(task_rows)

    out = pd.DataFrame(rows)
    out["reference"] = reference
    out["metric"] = metric
    out["select_by"] = select
    if n_dropped:
        out["note"] = [f"{n_dropped} trial(s) with a non-finite {metric} or {select} left out"
                       + ("; " + note if note else "") for note in out["note"]]
    extras = ["top_median", "top_std", "p_value_all", "significant_all", "direction_all",
              "delta", "top_delta", "top_params_mean", "params_mean"]
    if holm:
        extras += ["p_value_raw", "p_value_all_raw"]
    extras += ["reference", "metric", "select_by", "note"]
    for pos, key in enumerate(task_keys):
        out[key] = [t[pos] if len(task_keys) > 1 else t for t in out["_task"]]
    columns = task_keys + list(CONTRACT_COLUMNS) + extras
    out = out[columns]
    out["n"] = out["n"].astype(int)
    out["top_n"] = out["top_n"].astype(int)
    compared = frame.loc[work.index].drop(columns=[c for c in ("_task", "_variant", "_top")
                                                   if c in frame.columns])
    compared = compared.assign(_task=work["_task"], _variant=work["_variant"],
                               _top=work["_top"])
    return Comparison(table=out.reset_index(drop=True), trials=compared, metric=metric,
                      select_by=select, top_fraction=top_fraction, reference=reference,
                      task_keys=tuple(task_keys), variant_key=variant_key, alpha=alpha,
                      holm=holm,
                      maximize=maximize, select_maximize=select_max)


def holm_adjust(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN entries are left out and stay NaN).

    Parameters
    ----------
    p_values
        Raw p-values of one family of tests.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, capped at 1, in the input order.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(np.isfinite(p))
    m = valid.size
    if m == 0:
        return out
    order = valid[np.argsort(p[valid], kind="stable")]
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[idx]))
        out[idx] = running
    return out


# -- helpers ----------------------------------------------------------------------------

def _task_labels(frame: pd.DataFrame, keys: Sequence[str]) -> list:
    """Each row's task: its value of the one task key, or the tuple of several."""
    if len(keys) == 1:
        return frame[keys[0]].tolist()
    return list(zip(*(frame[k].tolist() for k in keys)))


def _matches(labels: pd.Series, task: Any) -> pd.Series:
    """Rows whose task is ``task`` (tuples compared element by element)."""
    return labels.map(lambda t: t == task)


def _maximized(table_or_frame: TrialTable | pd.DataFrame, column: str, needed_for: str
               ) -> bool:
    """Whether larger values of ``column`` are better: the table's direction, or the name's."""
    if isinstance(table_or_frame, TrialTable):
        return table_or_frame.direction(column, needed_for=needed_for) == MAXIMIZE
    guess = direction_from_name(column)
    if guess is None:
        raise InputError(f"{needed_for} needs to know whether larger or smaller values are "
                         "better, and the name does not say", column=column,
                         hint="pass maximize=True/False (and select_maximize=)")
    return guess == MAXIMIZE


def _check_fraction(top_fraction: float) -> None:
    if not (isinstance(top_fraction, (int, float)) and 0.0 < top_fraction <= 1.0):
        raise InputError(f"the top fraction must be in (0, 1], got {top_fraction!r}")


def _mean(values: pd.Series | np.ndarray) -> float:
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else float("nan")


def _summary(all_values: np.ndarray, top_values: np.ndarray) -> dict[str, float]:
    def std(x: np.ndarray) -> float:
        return float(np.std(x, ddof=1)) if x.size >= 2 else float("nan")

    def med(x: np.ndarray) -> float:
        return float(np.median(x)) if x.size else float("nan")

    return {
        "n": int(all_values.size), "mean": _mean(all_values), "median": med(all_values),
        "std": std(all_values), "top_n": int(top_values.size), "top_mean": _mean(top_values),
        "top_median": med(top_values), "top_std": std(top_values),
    }


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float, str]:
    """Welch's two-sided t-test p-value, or NaN and the reason it was not run."""
    if a.size < 2 or b.size < 2:
        return float("nan"), (f"needs at least 2 trials on each side "
                              f"(variant {a.size}, reference {b.size})")
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        if a[0] == b[0]:
            return 1.0, ""
        return 0.0, ""
    from scipy import stats

    result = stats.ttest_ind(a, b, equal_var=False)
    return float(result.pvalue), ""


def _direction(value: float, ref: float, maximize: bool) -> str:
    if not (np.isfinite(value) and np.isfinite(ref)):
        return ""
    if value == ref:
        return "same"
    better = value > ref if maximize else value < ref
    return "better" if better else "worse"


__all__ = ["PAPER_TASK_ORDER", "PAPER_VARIANT_ORDER", "Comparison", "compare",
           "compare_variants", "holm_adjust", "order_tasks", "order_variants", "top_count",
           "top_trials"]
